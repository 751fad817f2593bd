package desttest

import (
	"encoding/json"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
)

// token is the context token the proxy sends.
type token struct {
	Namespace string `json:"ns"`
	NodeName  string `json:"nodeName"`
	Pod       string `json:"pod"`
}

// parseToken accepts the JSON token, falls back to the legacy "ns:<ns>" form,
// and otherwise yields an empty token (the request still proceeds).
func parseToken(s string) token {
	var t token
	if err := json.Unmarshal([]byte(s), &t); err == nil {
		return t
	}
	parts := strings.Split(s, ":")
	if len(parts) == 2 && parts[0] == "ns" {
		return token{Namespace: parts[1]}
	}
	return token{}
}

func (s *Server) opaqueSet(svc *corev1.Service) map[uint32]bool {
	es := kube.ToService(svc)
	value := s.opts.DefaultOpaquePorts
	if es.OpaquePorts != nil {
		value = *es.OpaquePorts
	}
	set, _ := expect.OpaquePorts(value, es.Ports)
	return set
}

// serviceChanged mirrors the opaque-ports watcher: informer events (re)fill
// the entry of every Service, even one nobody subscribes to.
func (s *Server) serviceChanged(obj interface{}) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return
	}
	key := svc.Namespace + "/" + svc.Name
	s.mu.Lock()
	e := s.opaque[key]
	if e == nil {
		e = &opaqueEntry{}
		s.opaque[key] = e
	}
	e.ports = s.opaqueSet(svc)
	s.mu.Unlock()
	s.broadcast()
}

func (s *Server) opaquePort(ns, name string, port uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.opaque[ns+"/"+name]
	return e != nil && e.ports[port]
}

func (s *Server) subscribe(sub *subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs[sub] = struct{}{}
	key := sub.svcNS + "/" + sub.svcName
	e := s.opaque[key]
	if e == nil {
		// The real watcher creates a fresh entry without reading the
		// Service: its opaque ports stay unknown until the Service changes.
		e = &opaqueEntry{}
		s.opaque[key] = e
	}
	e.listeners++
}

// unsubscribe drops the watcher entry with its last listener, which is what
// makes the next fresh subscription report opaqueProtocol:false.
func (s *Server) unsubscribe(sub *subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, sub)
	key := sub.svcNS + "/" + sub.svcName
	if e := s.opaque[key]; e != nil {
		e.listeners--
		if e.listeners <= 0 {
			delete(s.opaque, key)
		}
	}
}

func (s *Server) broadcast() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs {
		select {
		case sub.notify <- struct{}{}:
		default:
		}
	}
}
