package desttest

import (
	"encoding/json"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// contextToken is the context token the proxy sends.
type contextToken struct {
	Namespace string `json:"ns"`
	NodeName  string `json:"nodeName"`
	Pod       string `json:"pod"`
}

// parseToken decodes the JSON token; when that fails it tries the legacy
// "ns:<ns>" form, and otherwise keeps whatever the failed JSON decode had
// already filled in (encoding/json keeps going past a wrongly typed field, and
// the controller does not reset the token), so the request still proceeds.
func parseToken(s string) contextToken {
	var t contextToken
	if s == "" {
		return t
	}
	if err := json.Unmarshal([]byte(s), &t); err != nil {
		if parts := strings.Split(s, ":"); len(parts) == 2 && parts[0] == "ns" {
			t = contextToken{Namespace: parts[1]}
		}
	}
	return t
}

// opaquePortsAnnotation marks a Service's ports as opaque.
const opaquePortsAnnotation = "config.linkerd.io/opaque-ports"

// chartDefaultOpaquePorts is what the control-plane chart passes as
// -default-opaque-ports.
const chartDefaultOpaquePorts = "25,587,3306,4444,5432,6379,9300,11211"

// parsePorts reads a comma-separated list of ports and ranges, as the
// destination parses -default-opaque-ports and the Service annotation. Each
// item is trimmed (a trailing comma is dropped first); an item that equals
// the name of one of the Service's ports is that port (an empty item matches
// an unnamed port: names are compared as they are); otherwise it must be a
// port or <lower>-<upper> with bounds in 0..65535 read by strconv.Atoi (so
// "+80" is 80, but " 80 - 90" with inner spaces is skipped). Bad items are
// skipped.
func parsePorts(value string, svcPorts []corev1.ServicePort) map[uint32]bool {
	set := map[uint32]bool{}
	if value == "" {
		return set
	}
	for _, item := range strings.Split(strings.TrimSuffix(value, ","), ",") {
		item = strings.TrimSpace(item)
		named := false
		for _, p := range svcPorts {
			if p.Name == item {
				set[uint32(p.Port)] = true
				named = true
				break
			}
		}
		if named {
			continue
		}
		bounds := strings.Split(item, "-")
		if len(bounds) > 2 {
			continue
		}
		if len(bounds) == 1 {
			bounds = append(bounds, bounds[0])
		}
		lo, err1 := strconv.Atoi(bounds[0])
		hi, err2 := strconv.Atoi(bounds[1])
		if err1 != nil || err2 != nil || lo < 0 || hi > 65535 || hi < lo {
			continue
		}
		for p := lo; p <= hi; p++ {
			set[uint32(p)] = true
		}
	}
	return set
}

// serviceOpaquePorts is the opaque-ports watcher's value for a Service: its
// annotation when present (even empty), else the defaults.
func (s *Server) serviceOpaquePorts(svc *corev1.Service) map[uint32]bool {
	if v, ok := svc.Annotations[opaquePortsAnnotation]; ok {
		return parsePorts(v, svc.Spec.Ports)
	}
	return s.defaultOpaque
}

func samePorts(a, b map[uint32]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for p := range a {
		if !b[p] {
			return false
		}
	}
	return true
}

// The opaque-ports watcher, as the real one behaves:
//   - every Service event (re)computes the entry of that Service, creating
//     it without listeners if needed, and tells the listeners only when the
//     set of ports changed;
//   - a deleted Service's entry falls back to the defaults;
//   - a subscription to a Service with an entry gets the entry's ports; with
//     no entry (its last subscriber left earlier) a new entry holding the
//     DEFAULT ports is created and the subscriber is told nothing, so it
//     reports opaqueProtocol:false until the Service changes;
//   - the entry goes away with its last listener.
type opaqueEntry struct {
	ports     map[uint32]bool
	listeners map[*subscription]bool
}

func (s *Server) serviceEvent(obj interface{}, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj, deleted = d.Obj, true
	}
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen != nil {
		return // a lagging destination; Thaw catches up
	}
	s.applyServiceLocked(svc.Namespace+"/"+svc.Name, svc, deleted)
}

func (s *Server) applyServiceLocked(key string, svc *corev1.Service, deleted bool) {
	e := s.opaque[key]
	if deleted {
		if e == nil {
			return
		}
		s.setPortsLocked(e, s.defaultOpaque)
		return
	}
	ports := s.serviceOpaquePorts(svc)
	if e == nil {
		s.opaque[key] = &opaqueEntry{ports: ports, listeners: map[*subscription]bool{}}
		return
	}
	s.setPortsLocked(e, ports)
}

func (s *Server) setPortsLocked(e *opaqueEntry, ports map[uint32]bool) {
	if samePorts(e.ports, ports) {
		return
	}
	e.ports = ports
	for sub := range e.listeners {
		sub.opaquePorts = ports
		sub.opaqueUpdates++
		sub.wake()
	}
}

// resyncOpaqueLocked replays the Service cache into the watcher after a
// Freeze, as informer events would have.
func (s *Server) resyncOpaqueLocked() {
	live := map[string]bool{}
	for _, o := range s.services.List() {
		svc := o.(*corev1.Service)
		key := svc.Namespace + "/" + svc.Name
		live[key] = true
		s.applyServiceLocked(key, svc, false)
	}
	for key := range s.opaque {
		if !live[key] {
			s.applyServiceLocked(key, nil, true)
		}
	}
}

// subscribe registers sub with the opaque-ports watcher and for profile
// changes. It fails like the real watcher for an ExternalName Service.
func (s *Server) subscribe(sub *subscription, svc *corev1.Service) bool {
	if svc != nil && svc.Spec.Type == corev1.ServiceTypeExternalName {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := sub.svcNS + "/" + sub.svcName
	e := s.opaque[key]
	if e == nil {
		e = &opaqueEntry{ports: s.defaultOpaque, listeners: map[*subscription]bool{}}
		s.opaque[key] = e
	} else {
		sub.opaquePorts = e.ports
		sub.opaqueUpdates++
	}
	e.listeners[sub] = true
	s.subs[sub] = struct{}{}
	return true
}

func (s *Server) unsubscribe(sub *subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, sub)
	key := sub.svcNS + "/" + sub.svcName
	if e := s.opaque[key]; e != nil {
		delete(e.listeners, sub)
		if len(e.listeners) == 0 {
			delete(s.opaque, key)
		}
	}
}

// wake tells a subscription to look again; callers hold s.mu.
func (sub *subscription) wake() {
	select {
	case sub.notify <- struct{}{}:
	default:
	}
}

func (s *Server) broadcast() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs {
		sub.wake()
	}
}
