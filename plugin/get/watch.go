package get

// get --watch: the lookups' GetProfile streams stay open, and the
// ServiceProfiles that can be in effect are watched through the API server
// (read-only); so do the policy controller's Watch streams and the routes
// naming the Service (watch_policy.go). Every message the destination pushes and every change to one
// of those objects prints one timestamped line, and what that changed in the
// report (profile in effect, drift, findings, mode) is re-rendered from the
// same engine, with the streams' latest messages as the served profiles. A
// change that should alter what is served and is not pushed within
// --timeout is a finding (watch-not-pushed).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/kubectl-profiles/kubectl-profiles/diag/analyze"
	"github.com/kubectl-profiles/kubectl-profiles/diag/drift"
	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/report"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/destination"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
	ppolicy "github.com/kubectl-profiles/kubectl-profiles/plugin/policy"
)

// Streamer is a destination that can keep a GetProfile stream open
// (*destination.Client).
type Streamer interface {
	Watch(ctx context.Context, path string, token destination.Token, onMsg func(*pb.DestinationProfile)) error
}

// WatchTimeFormat is the time stamp of every watch line.
const WatchTimeFormat = "15:04:05.000"

// maxReconnectWait bounds the backoff between reconnects of a broken stream.
const maxReconnectWait = 10 * time.Second

// WatchEvent is one line of `get --watch -o json`.
type WatchEvent struct {
	Time    string `json:"time"`
	Type    string `json:"type"` // see the Event* constants
	Service string `json:"service"`
	Port    uint32 `json:"port,omitempty"`
	// API is "policy" for the events of the policy controller's streams
	// and of routes; empty for the destination's (ServiceProfiles).
	API string `json:"api,omitempty"`
	// Object is the ServiceProfile or route change the event is about, if
	// any.
	Object *WatchObject `json:"object,omitempty"`
	// LatencyMs: from the change seen on the API server to the push.
	// Negative when the push arrived first.
	LatencyMs *float64 `json:"latencyMs,omitempty"`
	// Changes: what the push changed in the served profile.
	Changes []string `json:"changes,omitempty"`
	Message string   `json:"message,omitempty"`
	// The port's state after the event.
	InEffect *report.InEffect  `json:"inEffect,omitempty"`
	Mode     string            `json:"mode,omitempty"`
	Drift    []drift.Change    `json:"drift,omitempty"`
	Findings []finding.Finding `json:"findings,omitempty"`
	// Report is the full report, on the "initial" event only.
	Report *report.Report `json:"report,omitempty"`
}

// WatchObject names a ServiceProfile or a route and what happened to it.
type WatchObject struct {
	// Kind is HTTPRoute or GRPCRoute (with its Group) for routes; empty
	// for ServiceProfiles.
	Kind            string `json:"kind,omitempty"`
	Group           string `json:"group,omitempty"`
	Namespace       string `json:"namespace"`
	Name            string `json:"name"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	Event           string `json:"event"` // added, updated, deleted
}

// Event types.
const (
	EventInitial     = "initial"      // the report when the watch starts
	EventWatching    = "watching"     // every stream and watch is open: changes from now on are followed
	EventPushed      = "pushed"       // a change, then the destination's push
	EventPush        = "push"         // a push no watched change explains (e.g. opaque ports)
	EventNotPushed   = "not-pushed"   // a change the destination should push and did not within --timeout
	EventNoPush      = "no-push"      // a change that does not alter what this client is served
	EventStreamEnded = "stream-ended" // a stream broke; it is reopened with backoff
	EventReconnected = "reconnected"
	EventWarning     = "warning"
)

// watchFlags are the flags of --watch and of the control-plane facts
// (ctrlplane.go), added to get's flags by NewCmd.
type watchFlags struct {
	Watch        bool
	MetricsAddr  string        // --destination-metrics-addr
	ControlPlane string        // --control-plane: auto, always, never
	LagThreshold time.Duration // --informer-lag-threshold

	cp func() *cpRead // the control-plane read started by Run
}

// wait returns the control-plane read (nil when none was started).
func (w watchFlags) wait() *cpRead {
	if w.cp == nil {
		return nil
	}
	return w.cp()
}

// printLines prints lines on stderr.
func (o *Options) printLines(lines []string) {
	for _, l := range lines {
		fmt.Fprintln(o.Streams.ErrOut, cli.Escape(l))
	}
}

// validateWatch: --watch follows named Services.
func (o *Options) validateWatch() error {
	if err := o.validateControlPlane(); err != nil {
		return err
	}
	if o.watch.Watch && len(o.args) == 0 {
		return cli.Usagef("--watch follows named Services (svc/NAME): it does not apply to an audit")
	}
	if o.watch.Watch && o.Output == cli.OutputYAML {
		return cli.Usagef("--watch prints text or JSON lines (-o json), not YAML")
	}
	return nil
}

// watchStream is one open GetProfile stream: a port of a report.
type watchStream struct {
	report, port int
	path         string
	tok          destination.Token
}

// pending is a ServiceProfile change waiting for the pushes it calls for.
// awaited is a change (ServiceProfile or route) waiting for the pushes it
// should bring, one per stream (waiting, by stream key).
type awaited struct {
	obj     WatchObject
	report  int
	seen    time.Time
	waiting map[string]bool // streams not pushed yet
	timer   *time.Timer
	// late: --timeout passed; a push that comes after all is still
	// matched with the change (and said to be late).
	late bool
}

// claim takes, for one push on stream key of report, every change in
// list still waiting for it: the push carries the state after all of them,
// so the latest explains it and the earlier ones were in the same push.
// Each is released from key, and dropped from list once nothing else
// waits for it. ok is false when no change waits.
func claim[P any](list *[]P, base func(P) *awaited, report int, key string) (latest P, earlier []P, ok bool) {
	var claimed []P
	for _, p := range *list {
		if a := base(p); a.report == report && a.waiting[key] {
			claimed = append(claimed, p)
		}
	}
	if len(claimed) == 0 {
		return latest, nil, false
	}
	for _, p := range claimed {
		a := base(p)
		delete(a.waiting, key)
		if len(a.waiting) == 0 {
			a.timer.Stop()
			for i, q := range *list {
				if base(q) == a {
					*list = append((*list)[:i], (*list)[i+1:]...)
					break
				}
			}
		}
	}
	return claimed[len(claimed)-1], claimed[:len(claimed)-1], true
}

// pushWhen says when a push came, after the change it is matched with.
func (w *watcher) pushWhen(latency time.Duration, why string) string {
	switch {
	case why == "late":
		return fmt.Sprintf("late, after %s (beyond --timeout %s)", fmtMs(latency), w.o.Dest.Timeout)
	case latency < 0:
		return fmt.Sprintf("%s before the API watch delivered the change", fmtMs(-latency))
	}
	return fmt.Sprintf("after %s", fmtMs(latency))
}

// sameAs prints the line of a change that was in a push matched with a
// later one (claim's earlier); head names the change.
func (w *watcher) sameAs(a *awaited, head string, api string, port uint32, at time.Time) {
	ms := float64(at.Sub(a.seen).Microseconds()) / 1000
	msg := fmt.Sprintf("%s -> in the same push as the later change below (port %d)", head, port)
	obj := a.obj
	w.line(WatchEvent{Time: w.stamp(w.now()), Type: EventPushed, API: api, Service: w.service(a.report), Port: port, Object: &obj, LatencyMs: &ms, Message: msg}, msg)
}

type pending struct {
	awaited
	// expect: ports whose served profile must change (drift between the
	// new prediction and what is served); others may get a push anyway
	// (a new version of the object in effect).
	expect map[string]bool
}

func (p *pending) base() *awaited { return &p.awaited }

type heldPush struct {
	stream *watchStream
	msg    *pb.DestinationProfile
	at     time.Time
	prev   *pb.DestinationProfile
	timer  *time.Timer
}

type watchMsg struct {
	kind    string // "push", "crd", "ended", "reconnected", "timeout", "held", "warn"
	stream  *watchStream
	msg     *pb.DestinationProfile
	err     error
	wait    time.Duration
	at      time.Time
	report  int
	obj     WatchObject
	pending *pending
	held    *heldPush

	// The policy half (watch_policy.go).
	pstream  *policyStream
	pol      *dpolicy.Policy
	pheld    *polHeld
	ppending *polPending
}

// watcher runs one --watch.
type watcher struct {
	o       *Options
	eng     *Engine
	dest    Streamer
	svcs    []*corev1.Service
	reports []report.Report
	streams []*watchStream
	out     io.Writer
	json    bool
	now     func() time.Time

	// policy is the policy half of every re-render: the run's policy
	// connection (one OutboundPolicies.Get per re-render), nil without one.
	policy *PolicyConfig
	// kube and dyn serve the re-renders and the watches: a re-render
	// makes about ten reads, which client-go's default rate limit (5/s)
	// would stretch to seconds.
	kube kubernetes.Interface
	dyn  dynamic.Interface

	events  chan watchMsg
	latest  map[string]*pb.DestinationProfile // by path, owned by the loop
	pending []*pending
	held    []*heldPush

	// The policy half (watch_policy.go), owned by the loop.
	polConn    PolicyStreamer
	polStreams []*policyStream
	polLatest  map[string]*dpolicy.Policy // by policyKey
	polPending []*polPending
	polHeld    []*polHeld
	// polFresh: something changed on the policy side since the start, so
	// re-renders read the cluster again, with readCluster (nil: the run's
	// PolicyConfig.ReadCluster).
	polFresh    bool
	readCluster func(ctx context.Context, namespaces []string) (*dpolicy.Cluster, []string, error)
}

// runWatch prints the report of svcs, then follows them until ctx ends
// (Ctrl-C: exit 0).
func (o *Options) runWatch(ctx context.Context, eng *Engine, svcs []*corev1.Service) error {
	res, err := eng.Get(ctx, svcs)
	if err != nil {
		return err
	}
	o.printLines(o.applyControlPlane(o.watch.wait(), res.Reports, false))
	conn, err := eng.dest(ctx)
	if err != nil {
		return err
	}
	st, ok := conn.(Streamer)
	if !ok {
		return errors.New("this destination client cannot keep streams open")
	}
	kc, dc, err := watchClients(o, eng)
	if err != nil {
		return err
	}
	w := &watcher{o: o, eng: eng, dest: st, kube: kc, dyn: dc, svcs: svcs, reports: res.Reports, out: o.Streams.Out,
		json: o.Output == cli.OutputJSON, now: time.Now, events: make(chan watchMsg, 64), latest: map[string]*pb.DestinationProfile{},
		polLatest: map[string]*dpolicy.Policy{}}
	if kc != eng.Kube && eng.Policy != nil && eng.Policy.ReadCluster != nil {
		// The policy resources too are re-read with the watch's clients:
		// the run's rate limit (5/s) would hold the loop for ~0.5s.
		disc := memory.NewMemCacheClient(kc.Discovery())
		w.readCluster = func(ctx context.Context, namespaces []string) (*dpolicy.Cluster, []string, error) {
			return ppolicy.ReadCluster(ctx, kc, disc, dc, namespaces)
		}
	}
	return w.run(ctx)
}

func (w *watcher) run(ctx context.Context) error {
	w.policy = reusePolicy(w.eng)
	for i, r := range w.reports {
		fqdn := r.FQDN
		tok := destination.Token{Namespace: r.Client.Namespace, Pod: r.Client.Pod}
		if r.Client.Pod != "" {
			// The token of the initial lookups, with the node name.
			_, t, err := w.eng.clientFor(ctx, r.Service.Namespace)
			if err == nil {
				tok = t
			}
		}
		for j, p := range r.Ports {
			s := &watchStream{report: i, port: j, path: destination.Path(fqdn, p.Port), tok: tok}
			w.streams = append(w.streams, s)
			w.latest[s.path] = p.ServedProfile
		}
		if w.json {
			rep := r
			w.emit(WatchEvent{Time: w.stamp(w.now()), Type: EventInitial, Service: r.Service.Namespace + "/" + r.Service.Name, Report: &rep})
		} else {
			if i > 0 {
				fmt.Fprintln(w.out)
			}
			if err := Render(w.out, r, w.o.Output == cli.OutputWide, cli.TermOf(w.out)); err != nil {
				return err
			}
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, s := range w.streams {
		wg.Add(1)
		go func(s *watchStream) { defer wg.Done(); w.follow(ctx, s) }(s)
	}
	opened := w.startPolicyStreams(ctx, &wg)
	for i := range w.reports {
		w.watchProfiles(ctx, i)
	}
	if w.policy != nil {
		kinds := w.routeKinds()
		for i := range w.reports {
			w.watchRoutes(ctx, i, kinds)
		}
	}
	// Every watch is synced and every policy stream answered (each
	// bounded by --timeout): a change from now on is followed.
	opened()
	msg := fmt.Sprintf("watching %d stream(s) and their ServiceProfiles (Ctrl-C to stop)", len(w.streams))
	if w.policy != nil {
		msg = fmt.Sprintf("watching %d stream(s) and their ServiceProfiles, %d policy stream(s) and their routes (Ctrl-C to stop)", len(w.streams), len(w.polStreams))
	}
	if w.json {
		w.emit(WatchEvent{Time: w.stamp(w.now()), Type: EventWatching, Service: w.service(0), Message: msg})
	} else {
		fmt.Fprintf(w.out, "\n%s %s\n", w.stamp(w.now()), msg)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-w.events:
			if err := w.handle(ctx, m); err != nil {
				return err
			}
		}
	}
}

func (w *watcher) send(ctx context.Context, m watchMsg) {
	select {
	case w.events <- m:
	case <-ctx.Done():
	}
}

// follow keeps one stream open: the first message of a (re)connection is
// the baseline or, after a reconnect, a push if it differs; a broken stream
// is reopened after a backoff (100ms doubling, at most 10s).
func (w *watcher) follow(ctx context.Context, s *watchStream) {
	first := true
	for attempt := 0; ; attempt++ {
		got := false
		err := w.dest.Watch(ctx, s.path, s.tok, func(m *pb.DestinationProfile) {
			at := w.now()
			if first {
				// Usually the initial lookup's answer again; if not, a
				// change came in between.
				first = false
				got = true
				w.send(ctx, watchMsg{kind: "first", stream: s, msg: m, at: at})
				return
			}
			if !got {
				got = true
				attempt = 0
				w.send(ctx, watchMsg{kind: "reconnected", stream: s, msg: m, at: at})
				return
			}
			w.send(ctx, watchMsg{kind: "push", stream: s, msg: m, at: at})
		})
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = destination.ErrStreamEnded
		}
		first = false
		wait := destination.Backoff(attempt, maxReconnectWait)
		w.send(ctx, watchMsg{kind: "ended", stream: s, err: err, wait: wait, at: w.now()})
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return
		}
	}
}

// watchProfiles watches the ServiceProfiles named after report i's Service
// in the namespaces that decide its profile (the client's, the service's).
// A namespace that cannot be watched costs one warning line.
func (w *watcher) watchProfiles(ctx context.Context, i int) {
	r := w.reports[i]
	name := profile.FQDN(r.Service.Name, r.Service.Namespace, w.o.Dest.ClusterDomain)
	nss := []string{r.Service.Namespace}
	if r.Client.Namespace != r.Service.Namespace {
		nss = append([]string{r.Client.Namespace}, nss...)
	}
	for _, ns := range nss {
		f := dynamicinformer.NewFilteredDynamicSharedInformerFactory(w.dyn, 0, ns, func(o *metav1.ListOptions) {
			o.FieldSelector = "metadata.name=" + name
		})
		inf := f.ForResource(kube.ServiceProfiles).Informer()
		var synced sync.Once
		ready := make(chan struct{})
		_ = inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
			synced.Do(func() {
				w.send(ctx, watchMsg{kind: "warn", report: i, err: fmt.Errorf("cannot watch serviceprofiles.linkerd.io in namespace %s (%s): changes there are not shown, pushes still are; check RBAC (watch serviceprofiles)", ns, cli.OneLine(err.Error()))})
			})
		})
		event := func(kind string, o interface{}) {
			u, ok := asObject(o)
			if !ok {
				return
			}
			w.send(ctx, watchMsg{kind: "crd", report: i, at: w.now(), obj: WatchObject{Namespace: u.GetNamespace(), Name: u.GetName(), ResourceVersion: u.GetResourceVersion(), Event: kind}})
		}
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
			AddFunc: func(o interface{}, initial bool) {
				if !initial {
					event("added", o)
				}
			},
			UpdateFunc: func(_, o interface{}) { event("updated", o) },
			DeleteFunc: func(o interface{}) { event("deleted", o) },
		})
		go func() { inf.Run(ctx.Done()) }()
		go func() {
			// Bounded: a namespace that never syncs is reported once.
			sctx, cancel := context.WithTimeout(ctx, w.o.Dest.Timeout)
			defer cancel()
			if !cache.WaitForCacheSync(sctx.Done(), inf.HasSynced) && ctx.Err() == nil {
				synced.Do(func() {
					w.send(ctx, watchMsg{kind: "warn", report: i, err: fmt.Errorf("the watch of serviceprofiles.linkerd.io in namespace %s did not start within --timeout %s: changes there may not be shown", ns, w.o.Dest.Timeout)})
				})
			}
			close(ready)
		}()
		<-ready
	}
}

func asObject(o interface{}) (*unstructured.Unstructured, bool) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	u, ok := o.(*unstructured.Unstructured)
	return u, ok
}

func (w *watcher) stamp(t time.Time) string { return t.Format(WatchTimeFormat) }

func (w *watcher) service(i int) string {
	return w.reports[i].Service.Namespace + "/" + w.reports[i].Service.Name
}

func (w *watcher) handle(ctx context.Context, m watchMsg) error {
	switch m.kind {
	case "warn":
		w.line(WatchEvent{Time: w.stamp(w.now()), Type: EventWarning, Service: w.service(m.report), Message: m.err.Error()}, "warning: "+m.err.Error())
	case "ended":
		s := m.stream
		msg := fmt.Sprintf("stream %s broke: %s; reconnecting in %s", s.path, cli.OneLine(m.err.Error()), m.wait)
		w.line(WatchEvent{Time: w.stamp(m.at), Type: EventStreamEnded, Service: w.service(s.report), Port: w.port(s), Message: msg}, msg)
	case "first":
		if w.latest[m.stream.path] == nil {
			// Nothing was served at the report (a silent lookup, e.g. a
			// profile the destination cannot translate): the stream's
			// first message is the push a change brought.
			return w.push(ctx, m)
		}
		if proto.Equal(w.latest[m.stream.path], m.msg) {
			return nil
		}
		return w.pushed(ctx, m.stream, m.msg, m.at, "(changed between the report and the opening of the watch)")
	case "reconnected":
		prev := w.latest[m.stream.path]
		if proto.Equal(prev, m.msg) {
			msg := fmt.Sprintf("stream %s reconnected: profile unchanged", m.stream.path)
			w.line(WatchEvent{Time: w.stamp(m.at), Type: EventReconnected, Service: w.service(m.stream.report), Port: w.port(m.stream), Message: msg}, msg)
			return nil
		}
		return w.pushed(ctx, m.stream, m.msg, m.at, "after a reconnect")
	case "push":
		return w.push(ctx, m)
	case "held":
		if !w.dropHeld(m.held) {
			return nil // matched meanwhile (its timer had already fired)
		}
		return w.pushed(ctx, m.held.stream, m.held.msg, m.held.at, "")
	case "crd":
		return w.change(ctx, m)
	case "timeout":
		return w.expire(ctx, m.pending)
	case "pended", "pstopped", "pfirst", "preconnected", "ppush", "pheld", "route", "ptimeout":
		return w.handlePolicy(ctx, m)
	}
	return nil
}

func (w *watcher) port(s *watchStream) uint32 { return w.reports[s.report].Ports[s.port].Port }

// push matches a message with the latest change of its Service still
// waiting for it: the push carries the state after every change so far, so
// the latest one completed it (e.g. a client-namespace profile deleted
// after an edit of the Service's own, which that profile hid). Earlier
// changes still waiting on the stream are said to be in the same push.
// Without a change, the push is held for a short grace (the API watch may
// deliver the change a moment after the destination's informer).
func (w *watcher) push(ctx context.Context, m watchMsg) error {
	s := m.stream
	if matched, earlier, ok := claim(&w.pending, (*pending).base, s.report, s.path); ok {
		for _, p := range earlier {
			w.sameAs(&p.awaited, fmt.Sprintf("ServiceProfile %s/%s %s%s", p.obj.Namespace, p.obj.Name, p.obj.Event, rv(p.obj)), "", w.port(s), m.at)
		}
		prev := w.latest[s.path]
		w.latest[s.path] = m.msg
		why := ""
		if matched.late {
			why = "late"
		}
		return w.emitChange(ctx, s, &matched.obj, m.at.Sub(matched.seen), prev, m.msg, why)
	}
	h := &heldPush{stream: s, msg: m.msg, at: m.at, prev: w.latest[s.path]}
	w.latest[s.path] = m.msg
	w.held = append(w.held, h)
	h.timer = time.AfterFunc(w.grace(), func() { w.send(ctx, watchMsg{kind: "held", held: h}) })
	return nil
}

// grace is how long a push waits for the change that explains it.
func (w *watcher) grace() time.Duration {
	g := w.o.Dest.Timeout / 4
	if g > 500*time.Millisecond {
		g = 500 * time.Millisecond
	}
	return g
}

// pushed prints a push that no change explains.
func (w *watcher) pushed(ctx context.Context, s *watchStream, msg *pb.DestinationProfile, at time.Time, why string) error {
	prev := w.latest[s.path]
	w.latest[s.path] = msg
	return w.emitChange(ctx, s, nil, 0, prev, msg, why)
}

// dropHeld removes h and tells whether it was still held.
// remove takes x out of list and tells whether it was there.
func remove[T comparable](list *[]T, x T) bool {
	for i, y := range *list {
		if y == x {
			*list = append((*list)[:i], (*list)[i+1:]...)
			return true
		}
	}
	return false
}

func (w *watcher) dropHeld(h *heldPush) bool { return remove(&w.held, h) }

// dropPending removes p and tells whether it was still pending.
func (w *watcher) dropPending(p *pending) bool { return remove(&w.pending, p) }

// change records a ServiceProfile change: pushes already held for its
// Service are matched with it at once; the others are awaited for
// --timeout (see expire).
func (w *watcher) change(ctx context.Context, m watchMsg) error {
	p := &pending{awaited: awaited{obj: m.obj, report: m.report, seen: m.at, waiting: map[string]bool{}}, expect: map[string]bool{}}
	for _, s := range w.streams {
		if s.report == m.report {
			p.waiting[s.path] = true
		}
	}
	// Pushes that arrived before the API watch delivered the change.
	for _, h := range append([]*heldPush{}, w.held...) {
		if h.stream.report == m.report && p.waiting[h.stream.path] {
			h.timer.Stop()
			w.dropHeld(h)
			delete(p.waiting, h.stream.path)
			if err := w.emitChange(ctx, h.stream, &p.obj, h.at.Sub(m.at), h.prev, h.msg, ""); err != nil {
				return err
			}
		}
	}
	if len(p.waiting) == 0 {
		return nil
	}
	w.pending = append(w.pending, p)
	p.timer = time.AfterFunc(w.o.Dest.Timeout, func() { w.send(ctx, watchMsg{kind: "timeout", pending: p}) })
	return nil
}

// expire ends the wait for a change's pushes: ports that had to change
// are a finding, the others were not concerned.
func (w *watcher) expire(ctx context.Context, p *pending) error {
	if p.late || !w.dropPending(p) {
		return nil // already expired, or every push came (its timer had already fired)
	}
	rep, err := w.rebuild(ctx, p.report)
	if err != nil {
		return w.warnf(p.report, "cannot re-read %s: %s", w.service(p.report), cli.OneLine(err.Error()))
	}
	for _, s := range w.streams {
		if s.report != p.report || !p.waiting[s.path] {
			continue
		}
		pr := rep.Ports[s.port]
		// The port had to change: what the ServiceProfiles predict now
		// differs from what it was last served.
		if pr.ExpectedProfile != nil && len(drift.Compare(pr.ExpectedProfile, w.latest[s.path])) > 0 {
			p.expect[s.path] = true
		}
		head := fmt.Sprintf("ServiceProfile %s/%s %s%s", p.obj.Namespace, p.obj.Name, p.obj.Event, rv(p.obj))
		if !p.expect[s.path] {
			// Either the object does not decide what this client gets, or
			// what it was last served already reflects it (a push the
			// API watch delivered this change after).
			msg := fmt.Sprintf("%s -> nothing to push for port %d (what this client was last served already reflects it, or it is not the profile in effect for this client)", head, pr.Port)
			w.line(w.state(WatchEvent{Time: w.stamp(w.now()), Type: EventNoPush, Service: w.service(p.report), Port: pr.Port, Object: &p.obj, Message: msg}, pr), msg)
			continue
		}
		f := finding.Finding{Code: analyze.CodeNotPushed, Level: finding.Error, RouteIndex: -1, Message: fmt.Sprintf(
			"the destination did not push ServiceProfile %s/%s%s to this client within --timeout %s: its informer lags or is stuck, or it cannot translate the object (check the linkerd-destination logs and serviceprofiles_informer_lag_seconds)",
			p.obj.Namespace, p.obj.Name, rv(p.obj), w.o.Dest.Timeout)}
		pr.Findings = append(pr.Findings, f)
		msg := fmt.Sprintf("%s -> NOT pushed by the destination within --timeout %s (port %d)", head, w.o.Dest.Timeout, pr.Port)
		ev := w.state(WatchEvent{Time: w.stamp(w.now()), Type: EventNotPushed, Service: w.service(p.report), Port: pr.Port, Object: &p.obj, Message: msg}, pr)
		w.line(ev, msg, w.details(w.reports[p.report].Ports[s.port], pr)...)
		w.reports[p.report].Ports[s.port] = pr
	}
	// A later push of the ports that had to change is still matched.
	for path := range p.waiting {
		if !p.expect[path] {
			delete(p.waiting, path)
		}
	}
	if len(p.waiting) > 0 {
		p.late = true
		w.pending = append(w.pending, p)
	}
	return nil
}

func rv(o WatchObject) string {
	if o.ResourceVersion == "" {
		return ""
	}
	return " (rv " + o.ResourceVersion + ")"
}

// emitChange prints a push (after the change obj, if known, by latency)
// and what it changed in the report.
func (w *watcher) emitChange(ctx context.Context, s *watchStream, obj *WatchObject, latency time.Duration, prev, msg *pb.DestinationProfile, why string) error {
	port := w.port(s)
	changes := describeChanges(prev, msg)
	var head string
	ev := WatchEvent{Time: w.stamp(w.now()), Service: w.service(s.report), Port: port, Changes: changes}
	if obj != nil {
		ms := float64(latency.Microseconds()) / 1000
		ev.Type, ev.Object, ev.LatencyMs = EventPushed, obj, &ms
		head = fmt.Sprintf("ServiceProfile %s/%s %s%s -> destination pushed %s (port %d)", obj.Namespace, obj.Name, obj.Event, rv(*obj), w.pushWhen(latency, why), port)
	} else {
		ev.Type = EventPush
		head = fmt.Sprintf("destination pushed an update for port %d", port)
		if why != "" {
			head += " " + why
		} else {
			head += " (no ServiceProfile change seen: e.g. the Service's opaque ports)"
		}
	}
	head += ": " + strings.Join(changes, "; ")
	ev.Message = head
	return w.emitAndRerender(ctx, ev, head, s.report, s.port)
}

// details0 prints the indented lines of an event already printed.
func (w *watcher) details0(details []string) {
	for _, d := range details {
		fmt.Fprintf(w.out, "    %s\n", cli.Escape(d))
	}
}

func fmtMs(d time.Duration) string {
	return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000)
}

// state adds a port's state to an event.
func (w *watcher) state(ev WatchEvent, pr report.PortReport) WatchEvent {
	ie := pr.InEffect
	ev.InEffect, ev.Mode, ev.Drift, ev.Findings = &ie, string(pr.Mode), pr.Drift, pr.Findings
	if ev.Findings == nil {
		ev.Findings = []finding.Finding{}
	}
	return ev
}

// details are the indented lines of what changed between two states of a
// port: the profile in effect, the mode, drift, findings.
func (w *watcher) details(old, cur report.PortReport) []string {
	var out []string
	if o, c := old.InEffect, cur.InEffect; o.Source != c.Source || o.Namespace != c.Namespace || o.Name != c.Name {
		out = append(out, fmt.Sprintf("in effect: %s -> %s", inEffect(old), inEffect(cur)))
	}
	if old.Mode != cur.Mode && cur.Mode != "" {
		out = append(out, fmt.Sprintf("mode: %s -> %s", old.Mode, cur.Mode))
	}
	od, cd := driftKeys(old.Drift), driftKeys(cur.Drift)
	if od != cd {
		if len(cur.Drift) == 0 {
			out = append(out, "drift: none (what is served matches the ServiceProfile)")
		} else {
			out = append(out, fmt.Sprintf("drift: %d field(s) differ from the ServiceProfile, first %s: expected %s, served %s",
				len(cur.Drift), cur.Drift[0].Field, cur.Drift[0].Expected, cur.Drift[0].Served))
		}
	}
	var opd, cpd []drift.Change
	if old.Policy != nil {
		opd = old.Policy.Drift
	}
	if cur.Policy != nil {
		cpd = cur.Policy.Drift
	}
	if driftKeys(opd) != driftKeys(cpd) {
		if len(cpd) == 0 {
			out = append(out, "policy drift: none (what is served matches the cluster's routes and annotations)")
		} else {
			out = append(out, fmt.Sprintf("policy drift: %d field(s) differ from the cluster's routes and annotations, first %s: expected %s, served %s",
				len(cpd), cpd[0].Field, cpd[0].Expected, cpd[0].Served))
		}
	}
	was := map[string]bool{}
	for _, f := range old.Findings {
		was[f.Code+"\x00"+f.Route] = true
	}
	is := map[string]bool{}
	for _, f := range cur.Findings {
		k := f.Code + "\x00" + f.Route
		is[k] = true
		if !was[k] {
			out = append(out, fmt.Sprintf("+ %s %s: %s", f.Level, f.Code, f.Message))
		}
	}
	for _, f := range old.Findings {
		if !is[f.Code+"\x00"+f.Route] {
			out = append(out, fmt.Sprintf("- %s %s (gone)", f.Level, f.Code))
		}
	}
	return out
}

func driftKeys(cs []drift.Change) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.Field + "=" + c.Expected + "/" + c.Served + ";")
	}
	return b.String()
}

// line prints an event: text with indented details, or one JSON object.
func (w *watcher) line(ev WatchEvent, text string, details ...string) {
	if w.json {
		w.emit(ev)
		return
	}
	fmt.Fprintf(w.out, "%s %s\n", ev.Time, cli.Escape(text))
	for _, d := range details {
		fmt.Fprintf(w.out, "    %s\n", cli.Escape(d))
	}
}

// emit writes one event as one line of JSON (escaped like every JSON
// output of the plugin).
func (w *watcher) emit(ev WatchEvent) {
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	_, _ = w.out.Write(append(cli.AppendSafeJSON(nil, b), '\n'))
}

func (w *watcher) warnf(i int, format string, args ...interface{}) error {
	msg := fmt.Sprintf(format, args...)
	w.line(WatchEvent{Time: w.stamp(w.now()), Type: EventWarning, Service: w.service(i), Message: msg}, "warning: "+msg)
	return nil
}

// rebuild re-reads report i's Service and ServiceProfiles and builds its
// report with the streams' latest messages as what is served (no lookup).
func (w *watcher) rebuild(ctx context.Context, i int) (report.Report, error) {
	old := w.svcs[i]
	svc, err := w.kube.CoreV1().Services(old.Namespace).Get(ctx, old.Name, metav1.GetOptions{})
	if err != nil {
		return report.Report{}, err
	}
	served := map[string]*pb.DestinationProfile{}
	for k, v := range w.latest {
		served[k] = v
	}
	e := &Engine{Kube: w.kube, Dynamic: w.dyn, PodFor: w.eng.PodFor, Config: w.eng.Config,
		Connect: func(context.Context) (Lookuper, error) { return cached(served), nil }, Policy: w.rebuildPolicy()}
	res, err := e.Get(ctx, []*corev1.Service{svc})
	if err != nil {
		return report.Report{}, err
	}
	r := res.Reports[0]
	// The control-plane facts of the start are kept (metrics are read once).
	for j := range r.Ports {
		for _, op := range w.reports[i].Ports {
			if op.Port != r.Ports[j].Port || op.ControlPlane == nil {
				continue
			}
			r.Ports[j].ControlPlane = op.ControlPlane
			for _, f := range op.Findings {
				switch f.Code {
				case analyze.CodeQueueOverflow, analyze.CodeInformerLag, analyze.CodeProfileUnused:
					r.Ports[j].Findings = append(r.Ports[j].Findings, f)
				}
			}
		}
	}
	// Keep the ports of the streams: a port removed from the Service keeps
	// its stream (the destination never says so).
	if len(r.Ports) != len(w.reports[i].Ports) {
		byPort := map[uint32]report.PortReport{}
		for _, p := range r.Ports {
			byPort[p.Port] = p
		}
		ports := make([]report.PortReport, len(w.reports[i].Ports))
		for j, p := range w.reports[i].Ports {
			if np, ok := byPort[p.Port]; ok {
				ports[j] = np
			} else {
				ports[j] = p
			}
		}
		r.Ports = ports
	}
	return r, nil
}

// cached serves the streams' latest messages as lookups.
type cached map[string]*pb.DestinationProfile

func (c cached) GetProfile(_ context.Context, path string, _ destination.Token, timeout time.Duration) (*pb.DestinationProfile, error) {
	if m := c[path]; m != nil {
		return m, nil
	}
	return nil, fmt.Errorf("GetProfile %s: %w (%s)", path, report.ErrSilent, timeout)
}

// describeChanges says what a push changed, route by route.
func describeChanges(prev, cur *pb.DestinationProfile) []string {
	cs := drift.Compare(prev, cur)
	if len(cs) == 0 {
		return []string{"same content (a new version of the same object, e.g. a metadata-only edit)"}
	}
	routeName := func(i int) string {
		for _, m := range []*pb.DestinationProfile{cur, prev} {
			if rs := m.GetRoutes(); i < len(rs) {
				return rs[i].GetMetricsLabels()["route"]
			}
		}
		return fmt.Sprint(i)
	}
	var out []string
	ref := func(m *pb.DestinationProfile) string {
		r := m.GetProfileRef().GetResource()
		if r.GetName() == "" {
			return "default profile"
		}
		return "ServiceProfile " + r.GetNamespace() + "/" + r.GetName()
	}
	if a, b := ref(prev), ref(cur); a != b {
		out = append(out, fmt.Sprintf("profile %s -> %s", a, b))
	}
	for _, c := range cs {
		field := c.Field
		if strings.HasPrefix(field, "profileRef.") {
			continue // said once, above
		}
		if field == "routes" { // every route came or went
			for _, r := range prev.GetRoutes() {
				out = append(out, fmt.Sprintf("route %s removed", r.GetMetricsLabels()["route"]))
			}
			for _, r := range cur.GetRoutes() {
				out = append(out, fmt.Sprintf("route %s added", r.GetMetricsLabels()["route"]))
			}
			continue
		}
		if strings.HasPrefix(field, "routes[") {
			var i int
			var rest string
			if n, _ := fmt.Sscanf(field, "routes[%d]", &i); n == 1 {
				rest = field[strings.Index(field, "]")+1:]
				rest = strings.TrimPrefix(rest, ".")
				name := fmt.Sprintf("route %s", routeName(i))
				switch {
				case rest == "" && c.Expected == "":
					out = append(out, name+" added")
					continue
				case rest == "" && c.Served == "":
					out = append(out, name+" removed")
					continue
				}
				field = name + " " + rest
			}
		}
		out = append(out, fmt.Sprintf("%s %s -> %s", field, show(c.Expected), show(c.Served)))
	}
	const max = 8
	if len(out) > max {
		out = append(out[:max], fmt.Sprintf("... %d more", len(out)-max))
	}
	return out
}

func show(v string) string {
	if v == "" {
		return "(none)"
	}
	return strings.Trim(v, `"`)
}

func (o *Options) addWatchFlags(f *pflag.FlagSet) {
	f.StringVar(&o.watch.MetricsAddr, "destination-metrics-addr", "", "read the destination's metrics (admin port 9996) at HOST:PORT directly, instead of every linkerd-destination replica through the API server")
	f.StringVar(&o.watch.ControlPlane, "control-plane", "auto", "read the destination's metrics (subscribers, updates, overflows, informer lag): auto (when the destination is reached through the cluster, or with --destination-metrics-addr), always, never")
	f.DurationVar(&o.watch.LagThreshold, "informer-lag-threshold", DefaultLagThreshold, "informer lag (destination *_informer_lag_seconds) above which a finding is reported")
	f.BoolVarP(&o.watch.Watch, "watch", "w", false, "after the report, keep the lookups open and watch the ServiceProfiles: print every push and change, with what it changed (Ctrl-C ends, exit 0)")
}

// reusePolicy is the policy half of e for re-renders: its open
// connection (never closed by them), its cluster reader and the control
// plane's release it already read.
func reusePolicy(e *Engine) *PolicyConfig {
	if e.Policy == nil || e.Policy.Connect == nil || e.pol.done == nil {
		return nil
	}
	<-e.pol.done
	conn, err := e.pol.conn, e.pol.connErr
	cp := e.pol.cp
	return &PolicyConfig{
		Connect: func(context.Context) (PolicyLooker, error) {
			if err != nil {
				return nil, err
			}
			return keepOpen{conn}, nil
		},
		// The cluster as the run read it (rebuildPolicy reads it again
		// once something changed on the policy side).
		ReadCluster: func(ctx context.Context, namespaces []string) (*dpolicy.Cluster, []string, error) {
			e.pol.mu.Lock()
			r, ok := e.pol.cache[strings.Join(namespaces, ",")]
			e.pol.mu.Unlock()
			if ok {
				return r.cluster, r.notes, nil
			}
			if e.Policy.ReadCluster == nil {
				return nil, nil, nil
			}
			return e.Policy.ReadCluster(ctx, namespaces)
		},
		ControlPlane: func(context.Context) dpolicy.ControlPlane { return cp },
		NoPolicy:     e.Policy.NoPolicy,
	}
}

// keepOpen hides Close: the connection is the run's.
type keepOpen struct{ PolicyLooker }

// watchClients are clients like the run's, with a rate limit fit for
// re-rendering on every event (50 requests/s, bursts of 100), whose reads
// are served from the API server's watch cache (cacheReads).
func watchClients(o *Options, eng *Engine) (kubernetes.Interface, dynamic.Interface, error) {
	cfg, err := o.Flags.ToRESTConfig()
	if err != nil {
		return eng.Kube, eng.Dynamic, nil // the run's clients work, only slower
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 50, 100
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return cacheReads{rt} })
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	return kc, dc, nil
}

// cacheReads asks for reads at resourceVersion=0: served by the API
// server's watch cache, without the wait (up to its 100ms progress
// interval) a consistent read makes after a write. The events a re-render
// follows come from that same cache, so it already holds them. Reads that
// name a resourceVersion or continue a list are left alone.
type cacheReads struct{ rt http.RoundTripper }

func (c cacheReads) RoundTrip(r *http.Request) (*http.Response, error) {
	q := r.URL.Query()
	if r.Method == http.MethodGet && !q.Has("watch") && !q.Has("resourceVersion") && !q.Has("continue") {
		r = r.Clone(r.Context())
		q.Set("resourceVersion", "0")
		r.URL.RawQuery = q.Encode()
	}
	return c.rt.RoundTrip(r)
}

// emitAndRerender prints a push's line, then rebuilds the report and prints
// what changed in the port (for text, the line comes first: the API reads
// of the rebuild take most of the time).
func (w *watcher) emitAndRerender(ctx context.Context, ev WatchEvent, head string, report, port int) error {
	if !w.json {
		w.line(ev, head)
	}
	rep, err := w.rebuild(ctx, report)
	if err != nil {
		return w.warnf(report, "cannot re-read %s: %s", w.service(report), cli.OneLine(err.Error()))
	}
	pr := rep.Ports[port]
	if w.json {
		w.line(w.state(ev, pr), head)
	} else {
		w.details0(w.details(w.reports[report].Ports[port], pr))
	}
	w.reports[report].Ports[port] = pr
	return nil
}
