package get

// get --watch, policy half: one OutboundPolicies.Watch stream per watched
// port and client stays open next to the GetProfile streams, and the
// HTTPRoutes (both groups) and GRPCRoutes naming the Service are watched in
// the namespaces that decide its policy (the Service's: producer routes; the
// client's: consumer routes). A push prints one line (after the route
// change that explains it, by latency) with what it changed (diag/policy
// Diff), and the port is re-rendered with the pushed policy; a route change
// whose new prediction differs from what is served and that is not pushed
// within --timeout is the watch-not-pushed finding.

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/linkerd/linkerd2-proxy-api/go/outbound"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/kubectl-profiles/kubectl-profiles/diag/analyze"
	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/destination"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
	ppolicy "github.com/kubectl-profiles/kubectl-profiles/plugin/policy"
)

// PolicyStreamer is a policy controller that can keep an
// OutboundPolicies.Watch stream open (*plugin/policy.Client).
type PolicyStreamer interface {
	Watch(ctx context.Context, spec *outbound.TrafficSpec, onMsg func(*dpolicy.Policy, *outbound.OutboundPolicy, error)) error
}

// APIPolicy marks the events of the policy half (WatchEvent.API).
const APIPolicy = "policy"

// policyStream is one open OutboundPolicies.Watch: a port of a report.
type policyStream struct {
	report, port int
	spec         *outbound.TrafficSpec
	key          string
	// opened is closed at the first message or end of the first
	// subscription.
	opened     chan struct{}
	openedOnce sync.Once
	// stopped: ended with a code a proxy stops on (owned by the loop).
	stopped bool
}

func (s *policyStream) open() { s.openedOnce.Do(func() { close(s.opened) }) }

// policyKey identifies a lookup: its target and its client.
func policyKey(spec *outbound.TrafficSpec) string {
	return ppolicy.Target(spec) + "|" + spec.GetSourceWorkload()
}

// polPending is a route change waiting for the policy pushes it calls for.
// polPending is a route change waiting for the policy pushes it should
// bring (waiting: policy streams by key).
type polPending struct{ awaited }

func (p *polPending) base() *awaited { return &p.awaited }

type polHeld struct {
	stream *policyStream
	pol    *dpolicy.Policy
	prev   *dpolicy.Policy
	at     time.Time
	timer  *time.Timer
}

// startPolicyStreams opens a policy stream for every port of the reports
// whose policy half was looked up, when the run has a policy connection
// that can stream; the streams run until ctx ends. opened waits until each
// stream answered or ended once, at most --timeout.
func (w *watcher) startPolicyStreams(ctx context.Context, wg *sync.WaitGroup) (opened func()) {
	none := func() {}
	if w.policy == nil || w.eng.pol.done == nil {
		return none
	}
	<-w.eng.pol.done
	if w.eng.pol.connErr != nil {
		return none // said by the report: the policy half is predicted only
	}
	ps, ok := w.eng.pol.conn.(PolicyStreamer)
	if !ok {
		_ = w.warnf(0, "this policy controller client cannot keep streams open: policy pushes are not followed")
		return none
	}
	w.polConn = ps
	for i, r := range w.reports {
		wl := ppolicy.Workload{Namespace: r.Client.Namespace, Pod: r.Client.Pod}
		for j, p := range r.Ports {
			if p.Policy == nil {
				continue
			}
			s := &policyStream{report: i, port: j, spec: ppolicy.Spec(w.svcs[i], int32(p.Port), wl, w.eng.Config.ClusterDomain), opened: make(chan struct{})}
			s.key = policyKey(s.spec)
			w.polStreams = append(w.polStreams, s)
			w.polLatest[s.key] = p.Policy.Served
		}
	}
	for _, s := range w.polStreams {
		wg.Add(1)
		go func(s *policyStream) { defer wg.Done(); defer s.open(); w.followPolicy(ctx, s) }(s)
	}
	return func() {
		limit := time.NewTimer(w.o.Dest.Timeout)
		defer limit.Stop()
		for _, s := range w.polStreams {
			select {
			case <-s.opened:
			case <-limit.C:
				return
			case <-ctx.Done():
				return
			}
		}
	}
}

// followPolicy keeps one policy stream open like follow: the first message
// is the baseline, a broken stream is reopened after a backoff unless the
// code is one a proxy stops on (NotFound, InvalidArgument, ...: §4).
func (w *watcher) followPolicy(ctx context.Context, s *policyStream) {
	first := true
	for attempt := 0; ; attempt++ {
		got := false
		err := w.polConn.Watch(ctx, s.spec, func(p *dpolicy.Policy, _ *outbound.OutboundPolicy, convErr error) {
			m := watchMsg{kind: "ppush", pstream: s, pol: p, err: convErr, at: w.now()}
			s.open()
			switch {
			case first:
				first, got, m.kind = false, true, "pfirst"
			case !got:
				got, attempt, m.kind = true, 0, "preconnected"
			}
			w.send(ctx, m)
		})
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = ppolicy.ErrStreamEnded
		}
		first = false
		s.open()
		if !ppolicy.Reconnect(err) {
			w.send(ctx, watchMsg{kind: "pstopped", pstream: s, err: err, at: w.now()})
			return
		}
		wait := destination.Backoff(attempt, maxReconnectWait)
		w.send(ctx, watchMsg{kind: "pended", pstream: s, err: err, wait: wait, at: w.now()})
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return
		}
	}
}

// routeKinds are the route kinds the policy controller reads, with the
// version to watch (Gateway kinds: v1 only, as Linkerd; Linkerd's: the
// preferred served version). "" = not installed.
func (w *watcher) routeKinds() []schema.GroupVersionResource {
	var out []schema.GroupVersionResource
	dc := w.kube.Discovery()
	for _, k := range []struct{ group, resource, only string }{
		{dpolicy.GroupGateway, "httproutes", "v1"},
		{dpolicy.GroupLinkerd, "httproutes", ""},
		{dpolicy.GroupGateway, "grpcroutes", "v1"},
	} {
		v := kube.PreferredVersion(dc, k.group, k.resource)
		if v == "" {
			w.warnf(0, "%s.%s is not installed: such routes are not watched", k.resource, k.group)
			continue
		}
		if k.only != "" {
			v = k.only
		}
		out = append(out, schema.GroupVersionResource{Group: k.group, Version: v, Resource: k.resource})
	}
	return out
}

// watchRoutes watches the routes naming report i's Service in the
// namespaces that decide its policy. Read-only; a kind or namespace that
// cannot be watched costs one warning line.
func (w *watcher) watchRoutes(ctx context.Context, i int, kinds []schema.GroupVersionResource) {
	r := w.reports[i]
	svcNS, svcName := r.Service.Namespace, r.Service.Name
	nss := []string{svcNS}
	if r.Client.Namespace != svcNS {
		nss = append([]string{r.Client.Namespace}, nss...)
	}
	for _, ns := range nss {
		f := dynamicinformer.NewFilteredDynamicSharedInformerFactory(w.dyn, 0, ns, nil)
		var readies []chan struct{}
		for _, gvr := range kinds {
			gvr := gvr
			kind := "HTTPRoute"
			if gvr.Resource == "grpcroutes" {
				kind = "GRPCRoute"
			}
			what := fmt.Sprintf("%s.%s/%s", gvr.Resource, gvr.Group, gvr.Version)
			inf := f.ForResource(gvr).Informer()
			var once sync.Once
			_ = inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
				once.Do(func() {
					w.send(ctx, watchMsg{kind: "warn", report: i, err: fmt.Errorf("cannot watch %s in namespace %s (%s): their changes are not shown, policy pushes still are; check RBAC (watch %s)", what, ns, cli.OneLine(err.Error()), gvr.Resource)})
				})
			})
			event := func(ev string, objs ...interface{}) {
				var u *unstructured.Unstructured
				named := false
				for _, o := range objs {
					if x, ok := asObject(o); ok {
						u = x
						named = named || namesService(x, svcNS, svcName)
					}
				}
				if u == nil || !named {
					return
				}
				w.send(ctx, watchMsg{kind: "route", report: i, at: w.now(), obj: WatchObject{Kind: kind, Group: gvr.Group,
					Namespace: u.GetNamespace(), Name: u.GetName(), ResourceVersion: u.GetResourceVersion(), Event: ev}})
			}
			_, _ = inf.AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
				AddFunc: func(o interface{}, initial bool) {
					if !initial {
						event("added", o)
					}
				},
				UpdateFunc: func(old, o interface{}) { event("updated", old, o) },
				DeleteFunc: func(o interface{}) { event("deleted", o) },
			})
			go func() { inf.Run(ctx.Done()) }()
			ready := make(chan struct{})
			readies = append(readies, ready)
			go func() {
				defer close(ready)
				sctx, cancel := context.WithTimeout(ctx, w.o.Dest.Timeout)
				defer cancel()
				if !cache.WaitForCacheSync(sctx.Done(), inf.HasSynced) && ctx.Err() == nil {
					once.Do(func() {
						w.send(ctx, watchMsg{kind: "warn", report: i, err: fmt.Errorf("the watch of %s in namespace %s did not start within --timeout %s: route changes there may not be shown", what, ns, w.o.Dest.Timeout)})
					})
				}
			}()
		}
		for _, r := range readies {
			<-r
		}
	}
}

// namesService: one of the route's parentRefs is the Service (kind
// Service, core group, its namespace). Whether the controller accepts the
// route is decided by the prediction; this only selects the events.
func namesService(u *unstructured.Unstructured, ns, name string) bool {
	refs, _, _ := unstructured.NestedSlice(u.Object, "spec", "parentRefs")
	for _, r := range refs {
		m, ok := r.(map[string]interface{})
		if !ok {
			continue
		}
		kind, _ := m["kind"].(string)
		group, _ := m["group"].(string)
		n, _ := m["name"].(string)
		rns, _ := m["namespace"].(string)
		if rns == "" {
			rns = u.GetNamespace()
		}
		if kind == "Service" && (group == "" || group == "core") && n == name && rns == ns {
			return true
		}
	}
	return false
}

func (w *watcher) handlePolicy(ctx context.Context, m watchMsg) error {
	s := m.pstream
	switch m.kind {
	case "pended":
		msg := fmt.Sprintf("policy stream %s broke: %s; reconnecting in %s", ppolicy.Target(s.spec), cli.OneLine(m.err.Error()), m.wait)
		w.line(WatchEvent{Time: w.stamp(m.at), Type: EventStreamEnded, API: APIPolicy, Service: w.service(s.report), Port: w.ppPort(s), Message: msg}, msg)
	case "pstopped":
		s.stopped = true
		msg := fmt.Sprintf("policy stream %s ended: %s; not reopened (a proxy stops too): policy changes of port %d are no longer shown", ppolicy.Target(s.spec), cli.OneLine(m.err.Error()), w.ppPort(s))
		w.line(WatchEvent{Time: w.stamp(m.at), Type: EventStreamEnded, API: APIPolicy, Service: w.service(s.report), Port: w.ppPort(s), Message: msg}, msg)
	case "pfirst", "preconnected", "ppush":
		if m.err != nil {
			// The proxy would use an invalid policy (§4); the last
			// readable one is kept for the report.
			return w.warnf(s.report, "policy controller pushed a policy for port %d this plugin cannot read: %s", w.ppPort(s), cli.OneLine(m.err.Error()))
		}
		switch m.kind {
		case "pfirst":
			if samePolicy(w.polLatest[s.key], m.pol) {
				return nil
			}
			return w.policyPushed(ctx, s, m.pol, "(changed between the report and the opening of the watch)")
		case "preconnected":
			if samePolicy(w.polLatest[s.key], m.pol) {
				msg := fmt.Sprintf("policy stream %s reconnected: policy unchanged", ppolicy.Target(s.spec))
				w.line(WatchEvent{Time: w.stamp(m.at), Type: EventReconnected, API: APIPolicy, Service: w.service(s.report), Port: w.ppPort(s), Message: msg}, msg)
				return nil
			}
			return w.policyPushed(ctx, s, m.pol, "after a reconnect")
		}
		return w.policyPush(ctx, m)
	case "pheld":
		if !w.dropPolHeld(m.pheld) {
			return nil
		}
		return w.emitPolicyChange(ctx, m.pheld.stream, nil, 0, m.pheld.prev, m.pheld.pol, "")
	case "route":
		return w.routeChange(ctx, m)
	case "ptimeout":
		return w.expireRoute(ctx, m.ppending)
	}
	return nil
}

func (w *watcher) ppPort(s *policyStream) uint32 { return w.reports[s.report].Ports[s.port].Port }

func samePolicy(a, b *dpolicy.Policy) bool { return len(dpolicy.Diff(a, b)) == 0 }

// policyPush matches a push with the route changes of its Service
// waiting for it, as push does (claim), else holds it for a short grace.
func (w *watcher) policyPush(ctx context.Context, m watchMsg) error {
	s := m.pstream
	w.polFresh = true
	if p, earlier, ok := claim(&w.polPending, (*polPending).base, s.report, s.key); ok {
		for _, e := range earlier {
			w.sameAs(&e.awaited, objHead(e.obj), APIPolicy, w.ppPort(s), m.at)
		}
		prev := w.polLatest[s.key]
		w.polLatest[s.key] = m.pol
		why := ""
		if p.late {
			why = "late"
		}
		return w.emitPolicyChange(ctx, s, &p.obj, m.at.Sub(p.seen), prev, m.pol, why)
	}
	h := &polHeld{stream: s, pol: m.pol, at: m.at, prev: w.polLatest[s.key]}
	w.polLatest[s.key] = m.pol
	w.polHeld = append(w.polHeld, h)
	h.timer = time.AfterFunc(w.grace(), func() { w.send(ctx, watchMsg{kind: "pheld", pheld: h}) })
	return nil
}

func (w *watcher) policyPushed(ctx context.Context, s *policyStream, pol *dpolicy.Policy, why string) error {
	w.polFresh = true
	prev := w.polLatest[s.key]
	w.polLatest[s.key] = pol
	return w.emitPolicyChange(ctx, s, nil, 0, prev, pol, why)
}

func (w *watcher) dropPolHeld(h *polHeld) bool { return remove(&w.polHeld, h) }

func (w *watcher) dropPolPending(p *polPending) bool { return remove(&w.polPending, p) }

// routeChange records a route change: pushes held for its Service are
// matched with it at once, the others awaited for --timeout.
func (w *watcher) routeChange(ctx context.Context, m watchMsg) error {
	w.polFresh = true
	p := &polPending{awaited{obj: m.obj, report: m.report, seen: m.at, waiting: map[string]bool{}}}
	for _, s := range w.polStreams {
		if s.report == m.report && !s.stopped {
			p.waiting[s.key] = true
		}
	}
	streams := len(p.waiting) > 0
	for _, h := range append([]*polHeld{}, w.polHeld...) {
		if h.stream.report == m.report && p.waiting[h.stream.key] {
			h.timer.Stop()
			w.dropPolHeld(h)
			delete(p.waiting, h.stream.key)
			if err := w.emitPolicyChange(ctx, h.stream, &p.obj, h.at.Sub(m.at), h.prev, h.pol, ""); err != nil {
				return err
			}
		}
	}
	if !streams {
		// No policy stream for this Service (no policy connection):
		// the change is still said, with what it changes in the
		// prediction.
		return w.routeNoStream(ctx, p)
	}
	if len(p.waiting) == 0 {
		return nil
	}
	w.polPending = append(w.polPending, p)
	p.timer = time.AfterFunc(w.o.Dest.Timeout, func() { w.send(ctx, watchMsg{kind: "ptimeout", ppending: p}) })
	return nil
}

func objHead(o WatchObject) string {
	return fmt.Sprintf("%s %s/%s %s%s", o.Kind, o.Namespace, o.Name, o.Event, rv(o))
}

// routeNoStream prints a route change of a Service without policy
// streams and re-renders its ports.
func (w *watcher) routeNoStream(ctx context.Context, p *polPending) error {
	rep, err := w.rebuild(ctx, p.report)
	if err != nil {
		return w.warnf(p.report, "cannot re-read %s: %s", w.service(p.report), cli.OneLine(err.Error()))
	}
	for j := range rep.Ports {
		pr := rep.Ports[j]
		msg := fmt.Sprintf("%s -> no policy stream open (port %d): the prediction is re-rendered, nothing served is compared", objHead(p.obj), pr.Port)
		w.line(w.state(WatchEvent{Time: w.stamp(w.now()), Type: EventNoPush, API: APIPolicy, Service: w.service(p.report), Port: pr.Port, Object: &p.obj, Message: msg}, pr), msg, w.details(w.reports[p.report].Ports[j], pr)...)
		w.reports[p.report].Ports[j] = pr
	}
	return nil
}

// expireRoute ends the wait for a route change's pushes: a port whose
// prediction now differs from what it was last pushed had to change (the
// watch-not-pushed finding); others were not concerned.
func (w *watcher) expireRoute(ctx context.Context, p *polPending) error {
	if p.late || !w.dropPolPending(p) {
		return nil
	}
	rep, err := w.rebuild(ctx, p.report)
	if err != nil {
		return w.warnf(p.report, "cannot re-read %s: %s", w.service(p.report), cli.OneLine(err.Error()))
	}
	for _, s := range w.polStreams {
		if s.report != p.report || !p.waiting[s.key] {
			continue
		}
		pr := rep.Ports[s.port]
		var expected *dpolicy.Policy
		if pr.Policy != nil {
			expected = pr.Policy.Expected
		}
		if expected == nil || samePolicy(expected, w.polLatest[s.key]) {
			delete(p.waiting, s.key)
			msg := fmt.Sprintf("%s -> nothing to push for port %d (the route does not change what this client is served)", objHead(p.obj), pr.Port)
			w.line(w.state(WatchEvent{Time: w.stamp(w.now()), Type: EventNoPush, API: APIPolicy, Service: w.service(p.report), Port: pr.Port, Object: &p.obj, Message: msg}, pr), msg)
			w.reports[p.report].Ports[s.port] = pr
			continue
		}
		f := finding.Finding{Code: analyze.CodeNotPushed, Level: finding.Error, RouteIndex: -1, Message: fmt.Sprintf(
			"the policy controller did not push %s %s/%s%s to this client within --timeout %s: its index lags or is stuck, or it does not accept the route (check the linkerd-destination policy container's logs and the route's status)",
			p.obj.Kind, p.obj.Namespace, p.obj.Name, rv(p.obj), w.o.Dest.Timeout)}
		pr.Findings = append(pr.Findings, f)
		msg := fmt.Sprintf("%s -> NOT pushed by the policy controller within --timeout %s (port %d)", objHead(p.obj), w.o.Dest.Timeout, pr.Port)
		ev := w.state(WatchEvent{Time: w.stamp(w.now()), Type: EventNotPushed, API: APIPolicy, Service: w.service(p.report), Port: pr.Port, Object: &p.obj, Message: msg}, pr)
		w.line(ev, msg, w.details(w.reports[p.report].Ports[s.port], pr)...)
		w.reports[p.report].Ports[s.port] = pr
	}
	if len(p.waiting) > 0 {
		p.late = true
		w.polPending = append(w.polPending, p)
	}
	return nil
}

// emitPolicyChange prints a policy push (after the route change obj, if
// known, by latency) and what it changed in the report.
func (w *watcher) emitPolicyChange(ctx context.Context, s *policyStream, obj *WatchObject, latency time.Duration, prev, cur *dpolicy.Policy, why string) error {
	port := w.ppPort(s)
	changes := describePolicyChanges(prev, cur)
	ev := WatchEvent{Time: w.stamp(w.now()), API: APIPolicy, Service: w.service(s.report), Port: port, Changes: changes}
	var head string
	if obj != nil {
		ms := float64(latency.Microseconds()) / 1000
		ev.Type, ev.Object, ev.LatencyMs = EventPushed, obj, &ms
		head = fmt.Sprintf("%s -> policy controller pushed %s (port %d)", objHead(*obj), w.pushWhen(latency, why), port)
	} else {
		ev.Type = EventPush
		head = fmt.Sprintf("policy controller pushed an update for port %d", port)
		if why != "" {
			head += " " + why
		} else {
			head += " (no route change seen: e.g. the Service's annotations or a route's status)"
		}
	}
	head += ": " + strings.Join(changes, "; ")
	ev.Message = head
	return w.emitAndRerender(ctx, ev, head, s.report, s.port)
}

// routeLabel names a route of a policy: "HTTPRoute ns/name" or "default
// route http".
func routeLabel(r dpolicy.Route) string {
	if r.Default != "" && r.Name == "" {
		return "default route " + r.Default
	}
	kind := r.Kind
	if kind == "" {
		kind = "route"
	}
	return fmt.Sprintf("%s %s/%s", kind, r.Namespace, r.Name)
}

// describePolicyChanges says what a policy push changed, route by route,
// from diag/policy.Diff (prev is what was served before).
func describePolicyChanges(prev, cur *dpolicy.Policy) []string {
	if prev == nil || cur == nil {
		switch {
		case prev == nil && cur == nil:
			return []string{"same content"}
		case prev == nil:
			return []string{fmt.Sprintf("policy (none) -> %s, %d route(s)", cur.Protocol, len(cur.Routes))}
		}
		return []string{"policy -> (none)"}
	}
	var out []string
	// Everything but the routes.
	a, b := *prev, *cur
	a.Routes, b.Routes = nil, nil
	for _, c := range dpolicy.Diff(&a, &b) {
		out = append(out, fmt.Sprintf("%s %s -> %s", c.Field, show(c.Expected), show(c.Served)))
	}
	// Routes by identity: removed, added, changed (rule by rule).
	index := func(rs []dpolicy.Route) map[string]dpolicy.Route {
		m := map[string]dpolicy.Route{}
		for _, r := range rs {
			m[routeLabel(r)] = r
		}
		return m
	}
	was, is := index(prev.Routes), index(cur.Routes)
	for _, r := range prev.Routes {
		if _, ok := is[routeLabel(r)]; !ok {
			out = append(out, routeLabel(r)+" removed")
		}
	}
	for _, r := range cur.Routes {
		l := routeLabel(r)
		o, ok := was[l]
		if !ok {
			out = append(out, l+" added")
			continue
		}
		for _, c := range dpolicy.Diff(&dpolicy.Policy{Routes: []dpolicy.Route{o}}, &dpolicy.Policy{Routes: []dpolicy.Route{r}}) {
			field := strings.TrimPrefix(strings.TrimPrefix(c.Field, "routes[0]"), ".")
			var n int
			if k, _ := fmt.Sscanf(field, "rules[%d]", &n); k == 1 {
				field = fmt.Sprintf("rule %d %s", n, strings.TrimPrefix(field[strings.Index(field, "]")+1:], "."))
			}
			out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s %s -> %s", l, field, show(c.Expected), show(c.Served))))
		}
	}
	if o := routeOrder(prev.Routes, cur.Routes); o != "" && len(was) == len(is) {
		out = append(out, o)
	}
	if len(out) == 0 {
		return []string{"same content"}
	}
	const max = 8
	if len(out) > max {
		out = append(out[:max], fmt.Sprintf("... %d more", len(out)-max))
	}
	return out
}

// routeOrder says when the same routes come in another order.
func routeOrder(prev, cur []dpolicy.Route) string {
	var a, b []string
	for _, r := range prev {
		a = append(a, routeLabel(r))
	}
	for _, r := range cur {
		b = append(b, routeLabel(r))
	}
	if strings.Join(a, ",") == strings.Join(b, ",") {
		return ""
	}
	sa, sb := append([]string{}, a...), append([]string{}, b...)
	sort.Strings(sa)
	sort.Strings(sb)
	if strings.Join(sa, ",") != strings.Join(sb, ",") {
		return ""
	}
	return "route order " + strings.Join(a, ", ") + " -> " + strings.Join(b, ", ")
}

// servedPolicies serves the policy streams' latest pushes as lookups
// (re-renders make none); a lookup without a stream goes to the
// connection.
type servedPolicies struct {
	latest map[string]*dpolicy.Policy
	conn   PolicyLooker
}

func (s servedPolicies) Get(ctx context.Context, spec *outbound.TrafficSpec, timeout time.Duration) (*dpolicy.Policy, *outbound.OutboundPolicy, error) {
	if p := s.latest[policyKey(spec)]; p != nil {
		return p, nil, nil
	}
	return s.conn.Get(ctx, spec, timeout)
}

// rebuildPolicy is the policy half of a re-render: the latest pushes as
// what is served, and the cluster read again once anything on the policy
// side changed (else as the run read it).
func (w *watcher) rebuildPolicy() *PolicyConfig {
	if w.policy == nil {
		return nil
	}
	pc := *w.policy
	latest := make(map[string]*dpolicy.Policy, len(w.polLatest))
	for k, v := range w.polLatest {
		latest[k] = v
	}
	connect := w.policy.Connect
	pc.Connect = func(ctx context.Context) (PolicyLooker, error) {
		c, err := connect(ctx)
		if err != nil {
			return nil, err
		}
		return servedPolicies{latest: latest, conn: c}, nil
	}
	switch {
	case !w.polFresh:
	case w.readCluster != nil:
		pc.ReadCluster = w.readCluster
	case w.eng.Policy != nil && w.eng.Policy.ReadCluster != nil:
		pc.ReadCluster = w.eng.Policy.ReadCluster
	}
	return &pc
}
