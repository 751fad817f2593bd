package get

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-profiles/kubectl-profiles/diag/analyze"
	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/report"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/destination"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
)

// Lookuper is the destination service as get sees it: one GetProfile, the
// first message or an error, never longer than timeout. Errors keep their
// gRPC status (status.Code); a stream that stays open and silent wraps
// report.ErrSilent. *destination.Client implements it.
type Lookuper interface {
	GetProfile(ctx context.Context, path string, token destination.Token, timeout time.Duration) (*pb.DestinationProfile, error)
}

// Config is what one run is asked to do: the flags, without any I/O.
type Config struct {
	Port          int    // 0: every port
	From          string // KIND/NAME of a client workload, in FromNamespace
	FromNamespace string // "": the service's namespace
	ClusterDomain string
	Timeout       time.Duration // per lookup
	Concurrency   int
	AllServices   bool // audit: also Services without any ServiceProfile
}

// The adaptive wait for a lookup predicted silent: SilentFactor times the
// slowest answered lookup of the run, at least SilentFloor, at most
// --timeout. When nothing answered, the full --timeout.
const (
	SilentFactor = 4
	SilentFloor  = 250 * time.Millisecond
)

// Engine runs get over interfaces: API clients (client-go fakes in unit
// tests), a destination Lookuper, and functions for the rest, so its rules
// are tested without an API server or a destination. Like stern.Run, it
// prints nothing itself: it returns what it found.
type Engine struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	// Connect opens the destination connection. Start runs it at once, in
	// parallel with the API reads; lookups wait for it.
	Connect func(context.Context) (Lookuper, error)
	// PodFor resolves --from KIND/NAME in a namespace to a pod.
	PodFor func(ctx context.Context, ns, ref string) (*corev1.Pod, error)
	Config Config
	// Warn receives warnings (each once per run); nil drops them.
	Warn func(string)
	// Progress, when set, is called with the number of lookups and returns
	// a function called after each one.
	Progress func(total int) func()
	// Policy, when set, adds the policy half: MODE and what the policy
	// controller serves (policy.go).
	Policy *PolicyConfig

	pol      policyState
	connOnce sync.Once
	connDone chan struct{}
	conn     Lookuper
	connErr  error

	warned      map[string]bool
	routesCache map[string]map[report.NamespacedName][]report.HTTPRoute
	nearbyCache map[string]nearbyFacts
}

// Result is what a run found.
type Result struct {
	Reports []report.Report
	Stats   Stats
	// DomainMismatch is one line when every lookup was refused for its
	// name: --cluster-domain differs from the control plane's.
	DomainMismatch string
}

// Stats count the lookups of a run.
type Stats struct {
	Lookups int
	Served  int
	// Rejected: answered with the error the Service calls for (ExternalName).
	Rejected int
	// SilentPredicted: silent, as the ServiceProfile predicts (unservable).
	SilentPredicted int
	// SilentUnexpected: silent although the profile should be served.
	SilentUnexpected int
	// PolicyLookups counts OutboundPolicies.Get calls; PolicyFailed those
	// that failed (NotFound is an answer, not a failure).
	PolicyLookups, PolicyFailed int
	FirstPolicyFailure          string
	// Failed: an error other than the predicted one (Unavailable, Internal,
	// a closed stream, ...).
	Failed int
	// Slowest is the slowest answered lookup; Waited the adaptive wait
	// applied to lookups predicted silent (0 when there were none).
	Slowest, Waited time.Duration
	// NotLookedUp counts ports and Services skipped (see report.NotLookedUp).
	NotLookedUp int
	// FirstFailure is the first failed lookup's error, for the exit line.
	FirstFailure string
}

// Incomplete tells whether the run could not see all it was asked to.
func (s Stats) Incomplete() bool { return s.Failed+s.SilentUnexpected+s.PolicyFailed > 0 }

// view is one report to build: a Service as seen from one client.
type view struct {
	in   report.Input
	tok  destination.Token
	skip []report.NotLookedUp
	// unreadable is a namespace whose ServiceProfiles could not be read and
	// that decides the profile in effect: it is then unknown.
	unreadable string
	svc        *corev1.Service // for the policy lookups
}

type nearbyFacts struct {
	names []report.NamespacedName
	known map[report.NamespacedName]bool
}

// ErrInterrupted is returned when ctx is canceled (Ctrl-C) before the run
// finished: there is no report.
var ErrInterrupted = &cli.Error{Code: cli.ExitInterrupted, Err: errors.New("interrupted: no report (the lookups did not finish)")}

// Start opens the destination connection in the background.
func (e *Engine) Start(ctx context.Context) {
	e.connOnce.Do(func() {
		e.connDone = make(chan struct{})
		go func() {
			defer close(e.connDone)
			e.conn, e.connErr = e.Connect(ctx)
		}()
	})
	e.startPolicy(ctx)
}

func (e *Engine) dest(ctx context.Context) (Lookuper, error) {
	e.Start(ctx)
	select {
	case <-e.connDone:
	case <-ctx.Done():
		return nil, ErrInterrupted
	}
	if e.connErr != nil && ctx.Err() != nil {
		return nil, ErrInterrupted
	}
	return e.conn, e.connErr
}

// Close closes the destination connection, waiting for a dial in flight.
func (e *Engine) Close() {
	e.closePolicy()
	if e.connDone == nil {
		return
	}
	<-e.connDone
	if c, ok := e.conn.(io.Closer); ok && c != nil {
		_ = c.Close()
	}
}

func (e *Engine) warn(msg string) {
	e.pol.warnMu.Lock() // policy reads warn from their goroutines
	defer e.pol.warnMu.Unlock()
	if msg == "" || e.warned[msg] {
		return
	}
	if e.warned == nil {
		e.warned = map[string]bool{}
	}
	e.warned[msg] = true
	if e.Warn != nil {
		e.Warn(msg)
	}
}

// ResolveServices reads Services named as svc/NAME, service/NAME,
// services/NAME or `svc NAME...` with one GET each and no discovery. ok is
// false for any other form (the caller uses kubectl's resource builder).
func ResolveServices(ctx context.Context, cs kubernetes.Interface, ns string, args []string) (svcs []*corev1.Service, ok bool, err error) {
	isSvc := func(s string) bool { return s == "svc" || s == "service" || s == "services" }
	var names []string
	switch {
	case len(args) > 1 && isSvc(args[0]) && !strings.ContainsAny(strings.Join(args[1:], ""), "/,"):
		names = args[1:]
	default:
		for _, a := range args {
			kind, name, found := strings.Cut(a, "/")
			if !found || !isSvc(kind) || name == "" || strings.ContainsAny(name, "/,") {
				return nil, false, nil
			}
			names = append(names, name)
		}
	}
	for _, n := range names {
		svc, err := cs.CoreV1().Services(ns).Get(ctx, n, metav1.GetOptions{})
		if err != nil {
			return nil, true, err
		}
		svcs = append(svcs, svc)
	}
	return svcs, true, nil
}

// Get looks up the named Services (already read), each from the client
// namespace (--from-namespace, else the service's).
func (e *Engine) Get(ctx context.Context, svcs []*corev1.Service) (*Result, error) {
	e.Start(ctx)
	var views []view
	for _, svc := range svcs {
		v, err := e.view(ctx, svc)
		if err != nil {
			return nil, err
		}
		views = append(views, v)
	}
	return e.lookupAndBuild(ctx, views)
}

// clientFor is the fake proxy's identity for lookups of services in
// svcNS: --from-namespace (else svcNS), and --from's pod.
func (e *Engine) clientFor(ctx context.Context, svcNS string) (report.Client, destination.Token, error) {
	ns := e.Config.FromNamespace
	if ns == "" {
		ns = svcNS
	}
	tok := destination.Token{Namespace: ns}
	c := report.Client{Namespace: ns}
	if e.Config.From != "" {
		pod, err := e.PodFor(ctx, ns, e.Config.From)
		if err != nil {
			return c, tok, err
		}
		tok.Pod, tok.NodeName = pod.Name, pod.Spec.NodeName
		c.Pod = pod.Name
	}
	c.Token = tok.String()
	return c, tok, nil
}

func (e *Engine) view(ctx context.Context, svc *corev1.Service) (view, error) {
	client, tok, err := e.clientFor(ctx, svc.Namespace)
	if err != nil {
		return view{}, err
	}
	s := kube.ToService(svc)
	fqdn := profile.FQDN(svc.Name, svc.Namespace, e.Config.ClusterDomain)
	v := view{tok: tok, svc: svc, in: report.Input{Service: s, Client: client, ClusterDomain: e.Config.ClusterDomain}}
	namespaces := []string{svc.Namespace, client.Namespace}
	// Three independent reads: one round trip of wall time, not three.
	var wg sync.WaitGroup
	var routes map[report.NamespacedName][]report.HTTPRoute
	wg.Add(3)
	go func() {
		defer wg.Done()
		v.in.NearbyProfiles, v.in.KnownServices = e.nearby(ctx, namespaces)
	}()
	go func() {
		defer wg.Done()
		v.in.Policy = e.policyInput(ctx, svc, namespaces)
	}()
	go func() {
		defer wg.Done()
		routes = e.httpRoutes(ctx, namespaces)
	}()
	cands, partial, err := kube.ListProfiles(ctx, e.Dynamic, fqdn, namespaces)
	wg.Wait()
	if err != nil {
		return v, err
	}
	e.warn(partial.Warning("client-side overrides in other namespaces are not shown"))
	v.in.Candidates = cands
	v.in.HTTPRoutes = routes[report.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}]

	if e.Config.Port != 0 && !s.HasPort(uint32(e.Config.Port)) {
		return v, fmt.Errorf("port %d is not a port of Service %s/%s (ports: %s): pass one of them to --port",
			e.Config.Port, svc.Namespace, svc.Name, ports(s))
	}
	v.in.Lookups, v.skip = e.lookupsFor(svc, cands)
	v.unreadable = unknownInEffect(partial, svc.Namespace, client.Namespace)
	return v, nil
}

// lookupsFor lists the ports to look up (each port number once: 53/TCP
// and 53/UDP are one lookup) and those skipped, with the reason. cands are
// the ServiceProfiles named for the Service: a Service with nothing to look
// up says they are never served, rather than leave them unmentioned.
func (e *Engine) lookupsFor(svc *corev1.Service, cands []expect.Candidate) ([]report.PortLookup, []report.NotLookedUp) {
	var skip []report.NotLookedUp
	if len(svc.Spec.Ports) == 0 {
		why := "the Service has no ports, so there is nothing to look up"
		switch {
		case svc.Spec.Type == corev1.ServiceTypeExternalName:
			why = "ExternalName Service without ports: nothing to look up (the destination rejects ExternalName Services anyway)"
		case svc.Spec.ClusterIP == corev1.ClusterIPNone:
			why = "headless Service without ports: nothing to look up (clients reach its pods directly)"
		}
		fqdn := profile.FQDN(svc.Name, svc.Namespace, e.Config.ClusterDomain)
		for _, c := range cands {
			if c.Name == fqdn {
				why += fmt.Sprintf("; ServiceProfile %s/%s is never served for it", c.Namespace, c.Name)
			}
		}
		return nil, []report.NotLookedUp{{Reason: why}}
	}
	tcp := map[int32]bool{}
	protos := map[int32][]string{}
	var order []int32
	for _, p := range svc.Spec.Ports {
		if _, seen := protos[p.Port]; !seen {
			order = append(order, p.Port)
		}
		proto := string(p.Protocol)
		if proto == "" || p.Protocol == corev1.ProtocolTCP {
			tcp[p.Port] = true
			proto = string(corev1.ProtocolTCP)
		}
		protos[p.Port] = append(protos[p.Port], proto)
	}
	var out []report.PortLookup
	for _, port := range order {
		if e.Config.Port != 0 && int(port) != e.Config.Port {
			continue
		}
		if !tcp[port] {
			skip = append(skip, report.NotLookedUp{Port: uint32(port), Reason: fmt.Sprintf(
				"%s only: Linkerd proxies only TCP, so no profile applies to this port", strings.Join(protos[port], "/"))})
			continue
		}
		out = append(out, report.PortLookup{Port: uint32(port)})
	}
	if e.Config.Port != 0 && len(out) == 0 && len(skip) == 0 {
		skip = append(skip, report.NotLookedUp{Port: uint32(e.Config.Port), Reason: fmt.Sprintf("port %d is not a port of this Service (--port)", e.Config.Port)})
	}
	return out, skip
}

func (e *Engine) httpRoutes(ctx context.Context, namespaces []string) map[report.NamespacedName][]report.HTTPRoute {
	key := strings.Join(namespaces, ",")
	if r, ok := e.routesCache[key]; ok {
		return r
	}
	if e.routesCache == nil {
		e.routesCache = map[string]map[report.NamespacedName][]report.HTTPRoute{}
	}
	r, _ := kube.HTTPRoutes(ctx, nil, e.Dynamic, namespaces) // what cannot be listed is said by the policy half's warning
	e.routesCache[key] = r
	return r
}

// nearby reads profile and service names in the given namespaces, for
// near-miss detection. Unreadable namespaces are skipped: this only sharpens
// a warning.
func (e *Engine) nearby(ctx context.Context, namespaces []string) ([]report.NamespacedName, map[report.NamespacedName]bool) {
	key := strings.Join(namespaces, ",")
	if f, ok := e.nearbyCache[key]; ok {
		return f.names, f.known
	}
	var names []report.NamespacedName
	known := map[report.NamespacedName]bool{}
	seen := map[string]bool{}
	for _, ns := range namespaces {
		if seen[ns] {
			continue
		}
		seen[ns] = true
		if list, err := kube.ProfileNames(ctx, e.Dynamic, ns); err == nil {
			for _, n := range list {
				names = append(names, report.NamespacedName{Namespace: ns, Name: n})
			}
		}
		if svcs, err := kube.ServiceNames(ctx, e.Kube, ns); err == nil {
			for _, n := range svcs {
				known[report.NamespacedName{Namespace: ns, Name: n}] = true
			}
		}
	}
	if e.nearbyCache == nil {
		e.nearbyCache = map[string]nearbyFacts{}
	}
	e.nearbyCache[key] = nearbyFacts{names, known}
	return names, known
}

// errConfirmedSilent cancels a lookup predicted silent once the adaptive
// wait is over.
var errConfirmedSilent = errors.New("confirmed silent")

// flight is one lookup in progress.
type flight struct {
	in, port  int // indexes into inputs and their Lookups
	path      string
	tok       destination.Token
	predicted bool // predicted silent (the profile in effect is unservable)
	rejected  *expect.Rejection

	mu       sync.Mutex
	start    time.Time
	wait     time.Duration // how long a silence is waited for, once known
	adaptive bool          // wait is shorter than --timeout: cancel at start+wait
	slowest  time.Duration // the slowest answer, which set wait
	cancel   context.CancelCauseFunc
	timer    *time.Timer
	done     chan struct{}
	elapsed  time.Duration
	served   *pb.DestinationProfile
	err      error
}

// arm sets the adaptive wait: the lookup is confirmed silent wait after it
// started (at once if that is past).
func (f *flight) arm(wait time.Duration, adaptive bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.wait, f.adaptive = wait, adaptive
	if adaptive && f.cancel != nil {
		f.timer = time.AfterFunc(time.Until(f.start.Add(wait)), func() { f.cancel(errConfirmedSilent) })
	}
}

// lookupAndBuild runs every lookup concurrently (see fly), confirms
// predicted silences after the adaptive wait, builds the reports and counts
// how every lookup ended.
func (e *Engine) lookupAndBuild(ctx context.Context, views []view) (*Result, error) {
	inputs := make([]report.Input, len(views))
	for i := range views {
		inputs[i] = views[i].in
	}
	var flights []*flight
	for i := range inputs {
		fqdn := profile.FQDN(inputs[i].Service.Name, inputs[i].Service.Namespace, e.Config.ClusterDomain)
		for j, l := range inputs[i].Lookups {
			out := expect.Expect(expect.Lookup{Service: inputs[i].Service, Port: l.Port, ClientNamespace: inputs[i].Client.Namespace,
				ClusterDomain: e.Config.ClusterDomain, DefaultOpaquePorts: inputs[i].DefaultOpaquePorts, Candidates: inputs[i].Candidates})
			flights = append(flights, &flight{in: i, port: j, path: destination.Path(fqdn, l.Port), tok: views[i].tok,
				predicted: out.Unserved != nil, rejected: out.Rejected, done: make(chan struct{})})
		}
	}
	var stats Stats
	policyDone := e.flyPolicy(ctx, views, inputs)
	if len(flights) > 0 {
		dest, err := e.dest(ctx)
		if err != nil {
			return nil, err
		}
		e.fly(ctx, dest, flights)
		stats = e.confirm(flights)
	}
	e.applyPolicy(policyDone(), inputs, &stats)
	if ctx.Err() != nil {
		return nil, ErrInterrupted
	}
	for _, f := range flights {
		l := &inputs[f.in].Lookups[f.port]
		l.Served, l.Err = f.served, f.err
	}
	res := &Result{Reports: make([]report.Report, len(inputs))}
	for i := range inputs {
		res.Reports[i] = report.Build(inputs[i])
		if views[i].skip != nil {
			res.Reports[i].NotLookedUp = views[i].skip
			stats.NotLookedUp += len(views[i].skip)
		}
		if views[i].unreadable != "" {
			unknownInEffectPorts(&res.Reports[i], views[i].unreadable)
		}
	}
	for _, f := range flights {
		p := &res.Reports[f.in].Ports[f.port]
		if p.Lookup.Result == report.ResultSilent {
			p.Lookup.Waited = f.wait.String()
		}
		switch {
		case p.Lookup.Result == report.ResultServed:
			stats.Served++
		case p.Lookup.Result == report.ResultSilent && f.predicted:
			stats.SilentPredicted++
		case p.Lookup.Result == report.ResultSilent:
			stats.SilentUnexpected++
			if stats.FirstFailure == "" {
				stats.FirstFailure = p.Lookup.Error
			}
		case f.rejected != nil && status.Code(f.err) == f.rejected.Code:
			stats.Rejected++
		default:
			stats.Failed++
			if stats.FirstFailure == "" {
				stats.FirstFailure = p.Lookup.Error
			}
		}
	}
	stats.Lookups = len(flights)
	res.Stats = stats
	res.DomainMismatch = domainMismatch(inputs, flights, e.Config.ClusterDomain)
	if res.DomainMismatch != "" {
		dropNearMiss(res.Reports)
	}
	return res, nil
}

// fly starts the lookups, at most Concurrency at once. Lookups predicted
// silent have their own Concurrency slots: they start at once and their
// adaptive wait runs while the others are answered, without taking a slot
// an answering lookup needs.
func (e *Engine) fly(ctx context.Context, dest Lookuper, flights []*flight) {
	var tick func()
	if e.Progress != nil {
		tick = e.Progress(len(flights))
	}
	conc := e.Config.Concurrency
	if conc < 1 {
		conc = 1
	}
	var answering, silent []*flight
	for _, f := range flights {
		if f.predicted {
			silent = append(silent, f)
		} else {
			answering = append(answering, f)
		}
	}
	for _, group := range [][]*flight{answering, silent} {
		go e.dispatch(ctx, dest, group, make(chan struct{}, conc), tick)
	}
}

func (e *Engine) dispatch(ctx context.Context, dest Lookuper, flights []*flight, sem chan struct{}, tick func()) {
	for _, f := range flights {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			f.err = ctx.Err()
			close(f.done)
			continue
		}
		go func(f *flight) {
			defer func() { <-sem }()
			defer close(f.done)
			lctx, cancel := context.WithCancelCause(ctx)
			defer cancel(nil)
			f.mu.Lock()
			f.start, f.cancel = time.Now(), cancel
			if f.adaptive {
				f.timer = time.AfterFunc(f.wait, func() { cancel(errConfirmedSilent) })
			}
			f.mu.Unlock()
			served, err := dest.GetProfile(lctx, f.path, f.tok, e.Config.Timeout)
			f.mu.Lock()
			if f.timer != nil {
				f.timer.Stop()
			}
			f.elapsed = time.Since(f.start)
			if err != nil && ctx.Err() == nil && errors.Is(context.Cause(lctx), errConfirmedSilent) {
				err = fmt.Errorf("GetProfile %s: %w, as the ServiceProfile in effect predicts: confirmed after an adaptive wait of %s (%d x the slowest answer of this run, %s, at least %s, at most --timeout)",
					f.path, report.ErrSilent, f.wait, SilentFactor, f.slowest.Round(time.Millisecond), SilentFloor)
			}
			f.served, f.err = served, err
			f.mu.Unlock()
			if tick != nil {
				tick()
			}
		}(f)
	}
}

// confirm waits for the lookups predicted to answer, then gives those
// predicted silent the adaptive wait, and waits for them.
func (e *Engine) confirm(flights []*flight) Stats {
	var st Stats
	answered := false
	for _, f := range flights {
		if f.predicted {
			continue
		}
		<-f.done
		if f.err == nil {
			answered = true
			if f.elapsed > st.Slowest {
				st.Slowest = f.elapsed
			}
		}
	}
	wait := AdaptiveWait(st.Slowest, answered, e.Config.Timeout)
	for _, f := range flights {
		if f.predicted {
			st.Waited = wait
			f.mu.Lock()
			f.slowest = st.Slowest
			f.mu.Unlock()
			f.arm(wait, wait < e.Config.Timeout)
		} else {
			f.wait = e.Config.Timeout
		}
	}
	for _, f := range flights {
		<-f.done
	}
	return st
}

// AdaptiveWait is how long a lookup predicted silent is waited for:
// SilentFactor x the slowest answered lookup, at least SilentFloor, at most
// timeout; the full timeout when no lookup answered.
func AdaptiveWait(slowest time.Duration, answered bool, timeout time.Duration) time.Duration {
	if !answered {
		return timeout
	}
	w := SilentFactor * slowest
	if w < SilentFloor {
		w = SilentFloor
	}
	if w > timeout {
		w = timeout
	}
	return w
}

// domainMismatch: every lookup that should be answered was refused with
// InvalidArgument, the destination's answer for a name outside its cluster
// domain. It says so, with the domain the ServiceProfiles use if any.
func domainMismatch(inputs []report.Input, flights []*flight, domain string) string {
	n := 0
	for _, f := range flights {
		if f.rejected != nil {
			continue
		}
		if status.Code(f.err) != codes.InvalidArgument {
			return ""
		}
		n++
	}
	if n == 0 {
		return ""
	}
	other := ""
	for _, in := range inputs {
		prefix := in.Service.Name + "." + in.Service.Namespace + ".svc."
		names := append([]report.NamespacedName{}, in.NearbyProfiles...)
		for _, c := range in.Candidates {
			names = append(names, report.NamespacedName{Namespace: c.Namespace, Name: c.Name})
		}
		for _, nn := range names {
			if d, ok := strings.CutPrefix(nn.Name, prefix); ok && d != domain && d != "" {
				other = d
				break
			}
		}
		if other != "" {
			break
		}
	}
	msg := fmt.Sprintf("the destination refused every lookup (InvalidArgument) for names under svc.%s: it runs with another cluster domain", domain)
	if other != "" {
		return msg + fmt.Sprintf(" (ServiceProfiles here are named for %s): run again with --cluster-domain %s", other, other)
	}
	return msg + ": run again with --cluster-domain set to the control plane's (clusterDomain in the linkerd-config ConfigMap)"
}

// dropNearMiss removes near-miss findings, which compare names with the
// wrong domain when --cluster-domain is wrong.
func dropNearMiss(rs []report.Report) {
	for i := range rs {
		for j := range rs[i].Ports {
			p := &rs[i].Ports[j]
			kept := p.Findings[:0]
			for _, f := range p.Findings {
				if f.Code != analyze.CodeNameNearMiss {
					kept = append(kept, f)
				}
			}
			p.Findings = kept
		}
	}
}

// SourceUnknown: the profile in effect cannot be known, because a
// namespace that takes precedence could not be read (RBAC).
const SourceUnknown expect.Source = "unknown"

// unknownInEffect returns the unreadable namespace that hides which
// profile is in effect for clients in clientNS, or "".
func unknownInEffect(p *kube.Partial, svcNS, clientNS string) string {
	if p == nil {
		return ""
	}
	for _, ns := range p.Unreadable {
		if ns == clientNS || ns == svcNS {
			return ns
		}
	}
	return ""
}

// unknownInEffectPorts rewrites the ports of a report whose profile in
// effect is unknown (unless a readable client-namespace profile decides
// it): no prediction, so no drift and no finding that compares with one.
// inEffect.namespace names the namespace that could not be read.
func unknownInEffectPorts(r *report.Report, unreadable string) {
	for i := range r.Ports {
		p := &r.Ports[i]
		switch p.InEffect.Source {
		case expect.SourceClient, expect.SourceNone, expect.SourceRejected:
			continue // decided by what could be read
		}
		p.InEffect = report.InEffect{Source: SourceUnknown, Namespace: unreadable}
		p.Expected, p.ExpectedProfile = []byte("null"), nil
		p.Drift = p.Drift[:0]
		kept := []finding.Finding{}
		for _, f := range p.Findings {
			switch f.Code {
			case analyze.CodeDrift, analyze.CodeDefaultProfile, analyze.CodeDestinationSilent, analyze.CodeUnservable,
				analyze.CodeProfileWithoutRoutes, analyze.CodeHTTPRouteIgnored:
				continue // they compare with a prediction that cannot be made
			case analyze.CodeTimeoutUnparsable, analyze.CodeRetryRatioNegative, analyze.CodeRetryRatioAboveOne,
				analyze.CodeRouteNameEmpty, analyze.CodeRouteNameDuplicate:
				continue // about the text of a profile that may not be the one in effect
			}
			// What the proxy does with what was served (proxy drops,
			// regexes) is about this client and stays.
			kept = append(kept, f)
		}
		p.Findings = kept
	}
}

func ports(s expect.Service) string {
	var ps []string
	for _, p := range s.Ports {
		ps = append(ps, fmt.Sprint(p.Port))
	}
	sort.Strings(ps)
	return strings.Join(ps, ", ")
}
