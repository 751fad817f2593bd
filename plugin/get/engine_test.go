package get

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/report"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/destination"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
)

// These tests run the engine over client-go fakes and a scripted
// destination: no API server, no gRPC.

// answer is what the scripted destination does for one path.
type answer struct {
	profile *pb.DestinationProfile
	err     error
	silent  bool // keep the stream open: nothing until the timeout (or cancel)
	hook    func()
}

// scripted is a Lookuper that answers from a table, like a destination
// would, and records what it was asked.
type scripted struct {
	mu      sync.Mutex
	answers map[string]answer // by path; missing: a served empty profile
	asked   []string          // "path token"
}

func (s *scripted) GetProfile(ctx context.Context, path string, tok destination.Token, timeout time.Duration) (*pb.DestinationProfile, error) {
	s.mu.Lock()
	s.asked = append(s.asked, path+" "+tok.String())
	a, ok := s.answers[path]
	s.mu.Unlock()
	if a.hook != nil {
		a.hook()
	}
	switch {
	case !ok:
		return &pb.DestinationProfile{FullyQualifiedName: strings.Split(path, ":")[0]}, nil
	case a.silent:
		select {
		case <-ctx.Done():
			return nil, status.Error(codes.Canceled, "canceled")
		case <-time.After(timeout):
			return nil, fmt.Errorf("GetProfile %s: %w (%s)", path, report.ErrSilent, timeout)
		}
	case a.err != nil:
		return nil, a.err
	}
	return a.profile, nil
}

func svc(ns, name string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{Ports: ports, ClusterIP: "10.0.0.1"}}
}

func port(n int32, proto corev1.Protocol) corev1.ServicePort {
	return corev1.ServicePort{Port: n, Protocol: proto}
}

func sp(ns, name string, spec map[string]interface{}) runtime.Object {
	return &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "linkerd.io/v1alpha2", "kind": "ServiceProfile",
		"metadata": map[string]interface{}{"namespace": ns, "name": name, "resourceVersion": "7"},
		"spec":     spec,
	}}
}

func route(name, path string) map[string]interface{} {
	return map[string]interface{}{"name": name, "condition": map[string]interface{}{"pathRegex": path}}
}

var spGVR = schema.GroupVersionResource{Group: "linkerd.io", Version: "v1alpha2", Resource: "serviceprofiles"}

type fixture struct {
	svcs     []runtime.Object
	profiles []runtime.Object
	// forbid lists namespaces ("" = cluster-wide) where listing
	// ServiceProfiles is refused.
	forbid []string
	dest   *scripted
	cfg    Config
}

func (f fixture) engine() *Engine {
	kinds := map[schema.GroupVersionResource]string{spGVR: "ServiceProfileList"}
	for _, gv := range []string{"policy.linkerd.io/v1beta3", "gateway.networking.k8s.io/v1"} {
		g, v, _ := strings.Cut(gv, "/")
		kinds[schema.GroupVersionResource{Group: g, Version: v, Resource: "httproutes"}] = "HTTPRouteList"
	}
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), kinds, f.profiles...)
	for _, ns := range f.forbid {
		ns := ns
		dyn.PrependReactor("list", "serviceprofiles", func(a k8stesting.Action) (bool, runtime.Object, error) {
			if a.GetNamespace() == ns {
				return true, nil, kerrors.NewForbidden(schema.GroupResource{Group: "linkerd.io", Resource: "serviceprofiles"}, "", errors.New("RBAC"))
			}
			return false, nil, nil
		})
	}
	if f.dest == nil {
		f.dest = &scripted{}
	}
	cfg := f.cfg
	if cfg.ClusterDomain == "" {
		cfg.ClusterDomain = "cluster.local"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 4
	}
	dest := f.dest
	return &Engine{
		Kube: fake.NewSimpleClientset(f.svcs...), Dynamic: dyn, Config: cfg,
		Connect: func(context.Context) (Lookuper, error) { return dest, nil },
		PodFor: func(_ context.Context, ns, ref string) (*corev1.Pod, error) {
			return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "traffic-1"}, Spec: corev1.PodSpec{NodeName: "node-1"}}, nil
		},
	}
}

func (f fixture) get(t *testing.T, names ...string) *Result {
	t.Helper()
	e := f.engine()
	defer e.Close()
	var svcs []*corev1.Service
	for _, n := range names {
		ns, name, _ := strings.Cut(n, "/")
		s, err := e.Kube.CoreV1().Services(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, s)
	}
	res, err := e.Get(context.Background(), svcs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func codesOf(p report.PortReport) map[string]string {
	out := map[string]string{}
	for _, f := range p.Findings {
		out[f.Code] = f.Level.String()
	}
	return out
}

const webFQDN = "web.books.svc.cluster.local"

func webFixture() fixture {
	return fixture{
		svcs: []runtime.Object{svc("books", "web", port(80, corev1.ProtocolTCP), port(81, ""))},
		profiles: []runtime.Object{sp("books", webFQDN, map[string]interface{}{
			"routes": []interface{}{route("own", "/own")}})},
	}
}

// A lookup that fails is an error finding on its port, never "ok", and
// makes the run incomplete (exit 4); the port that answered is reported.
func TestFailedLookupIsAnError(t *testing.T) {
	for name, err := range map[string]error{
		"unavailable":   status.Error(codes.Unavailable, "connection refused"),
		"internal":      status.Error(codes.Internal, "boom"),
		"closed stream": errors.New("GetProfile x: the destination closed the stream without a profile"),
	} {
		t.Run(name, func(t *testing.T) {
			f := webFixture()
			f.dest = &scripted{answers: map[string]answer{webFQDN + ":81": {err: err}}}
			res := f.get(t, "books/web")
			ports := res.Reports[0].Ports
			if len(ports) != 2 || ports[0].Lookup.Result != report.ResultServed || ports[1].Lookup.Result != report.ResultError {
				t.Fatalf("ports = %+v", ports)
			}
			if codesOf(ports[1])["lookup-failed"] != "error" {
				t.Errorf("no lookup-failed error finding: %v", codesOf(ports[1]))
			}
			if got := routeStatus(ports[1], 0); got == "ok" {
				t.Errorf("a route that was not served has status ok")
			}
			if res.Stats.Failed != 1 || res.Stats.Served != 1 || !res.Stats.Incomplete() {
				t.Errorf("stats = %+v", res.Stats)
			}
			if code := cli.CodeOf(incomplete(res)); code != cli.ExitIncomplete {
				t.Errorf("exit %d, want %d", code, cli.ExitIncomplete)
			}
		})
	}
}

// The answer the Service calls for (ExternalName: InvalidArgument) is not a
// failure; another error for it is.
func TestRejectionIsNotAFailure(t *testing.T) {
	ext := svc("books", "ext", port(80, ""))
	ext.Spec.Type = corev1.ServiceTypeExternalName
	f := fixture{svcs: []runtime.Object{ext}, dest: &scripted{answers: map[string]answer{
		"ext.books.svc.cluster.local:80": {err: status.Error(codes.InvalidArgument, "ExternalName")}}}}
	res := f.get(t, "books/ext")
	if res.Stats.Rejected != 1 || res.Stats.Incomplete() || incomplete(res) != nil {
		t.Errorf("stats = %+v", res.Stats)
	}
	if _, ok := codesOf(res.Reports[0].Ports[0])["lookup-failed"]; ok {
		t.Errorf("rejection reported as a failed lookup")
	}
	f.dest = &scripted{answers: map[string]answer{"ext.books.svc.cluster.local:80": {err: status.Error(codes.Unavailable, "down")}}}
	if res := f.get(t, "books/ext"); res.Stats.Failed != 1 || codesOf(res.Reports[0].Ports[0])["lookup-failed"] != "error" {
		t.Errorf("an outage on a rejected Service must be a failure: %+v", res.Stats)
	}
}

// Ctrl-C during the lookups ends the run with no report and exit 130.
func TestInterruptedRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := webFixture()
	f.dest = &scripted{answers: map[string]answer{webFQDN + ":80": {silent: true, hook: cancel}}}
	e := f.engine()
	defer e.Close()
	s, _ := e.Kube.CoreV1().Services("books").Get(ctx, "web", metav1.GetOptions{})
	res, err := e.Get(ctx, []*corev1.Service{s})
	if res != nil || cli.CodeOf(err) != cli.ExitInterrupted {
		t.Fatalf("res %v err %v (exit %d)", res, err, cli.CodeOf(err))
	}
}

// Services without ports, UDP-only ports and a --port missing in an audit
// are said, not dropped; a port number on TCP and UDP is looked up once.
func TestWhatIsNotLookedUp(t *testing.T) {
	ext := svc("books", "ext")
	ext.Spec.Type = corev1.ServiceTypeExternalName
	headless := svc("books", "headless")
	headless.Spec.ClusterIP = corev1.ClusterIPNone
	dns := svc("books", "dns", port(53, corev1.ProtocolTCP), port(53, corev1.ProtocolUDP), port(5353, corev1.ProtocolUDP), port(9, corev1.ProtocolSCTP))
	f := fixture{svcs: []runtime.Object{ext, headless, dns},
		profiles: []runtime.Object{sp("books", "ext.books.svc.cluster.local", map[string]interface{}{"routes": []interface{}{route("r", "/r")}})}}
	res := f.get(t, "books/ext", "books/headless", "books/dns")
	// A profile named for a Service with nothing to look up is never
	// served: said, not left unmentioned.
	if got := res.Reports[0].NotLookedUp; len(got) != 1 || !strings.Contains(got[0].Reason, "ServiceProfile books/ext.books.svc.cluster.local is never served for it") {
		t.Errorf("ext: %+v", got)
	}
	if got := res.Reports[1].NotLookedUp; len(got) != 1 || strings.Contains(got[0].Reason, "ServiceProfile") {
		t.Errorf("headless, without a profile: %+v", got)
	}
	for i, want := range []string{"ExternalName Service without ports", "headless Service without ports"} {
		r := res.Reports[i]
		if r.Ports == nil || len(r.Ports) != 0 || len(r.NotLookedUp) != 1 || !strings.Contains(r.NotLookedUp[0].Reason, want) {
			t.Errorf("%s: ports %v notLookedUp %+v", r.Service.Name, r.Ports, r.NotLookedUp)
		}
		b, _ := json.Marshal(r)
		if !strings.Contains(string(b), `"ports":[]`) {
			t.Errorf("ports must be a list in JSON: %s", b)
		}
	}
	r := res.Reports[2]
	if len(r.Ports) != 1 || r.Ports[0].Port != 53 {
		t.Errorf("dns ports = %+v, want one lookup of 53", r.Ports)
	}
	if len(r.NotLookedUp) != 2 || r.NotLookedUp[0].Port != 5353 || !strings.Contains(r.NotLookedUp[0].Reason, "UDP only") ||
		r.NotLookedUp[1].Port != 9 || !strings.Contains(r.NotLookedUp[1].Reason, "SCTP only") {
		t.Errorf("dns notLookedUp = %+v", r.NotLookedUp)
	}

	// Audit with --port: Services lacking it get a row saying so.
	f = webFixture()
	f.svcs = append(f.svcs, svc("books", "other", port(8080, "")))
	f.profiles = append(f.profiles, sp("books", "other.books.svc.cluster.local", map[string]interface{}{"routes": []interface{}{route("a", "/a")}}))
	f.cfg.Port = 8080
	e := f.engine()
	res, err := e.Audit(context.Background(), "books", []string{"books"})
	if err != nil {
		t.Fatal(err)
	}
	rows := SummaryRows(res.Reports, false)
	if len(rows) != 2 || rows[0][1] != "other" || rows[1][1] != "web" || rows[1][6] != "not looked up" || !strings.Contains(rows[1][8], "port 8080 is not a port") {
		t.Errorf("audit rows = %q", rows)
	}
}

// An audit with --from-namespace/--from looks everything up as that client.
func TestAuditHonoursFrom(t *testing.T) {
	f := webFixture()
	f.profiles = append(f.profiles, sp("foobar", webFQDN, map[string]interface{}{"routes": []interface{}{route("c", "/c")}}))
	f.cfg.FromNamespace, f.cfg.From = "foobar", "deploy/traffic"
	f.dest = &scripted{}
	e := f.engine()
	res, err := e.Audit(context.Background(), "books", []string{"books", "foobar"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Reports) != 1 || res.Reports[0].Client.Namespace != "foobar" || res.Reports[0].Client.Pod != "traffic-1" {
		t.Fatalf("reports = %+v", res.Reports)
	}
	for _, a := range f.dest.asked {
		if !strings.HasSuffix(a, ` {"ns":"foobar","nodeName":"node-1","pod":"traffic-1"}`) {
			t.Errorf("lookup not made as the client: %s", a)
		}
	}
	if src := res.Reports[0].Ports[0].InEffect.Source; src != "client-namespace" {
		t.Errorf("source = %s", src)
	}
}

// A --cluster-domain the destination does not serve: every lookup is
// InvalidArgument; the run says so once, with the domain the profiles use,
// and does not advise renaming them.
func TestClusterDomainMismatch(t *testing.T) {
	f := webFixture()
	f.cfg.ClusterDomain = "example.org"
	f.dest = &scripted{answers: map[string]answer{}}
	for _, p := range []string{"web.books.svc.example.org:80", "web.books.svc.example.org:81"} {
		f.dest.answers[p] = answer{err: status.Error(codes.InvalidArgument, "invalid authority: invalid k8s service web.books.svc.example.org")}
	}
	res := f.get(t, "books/web")
	if !strings.Contains(res.DomainMismatch, "--cluster-domain cluster.local") {
		t.Errorf("mismatch = %q", res.DomainMismatch)
	}
	for _, p := range res.Reports[0].Ports {
		if _, ok := codesOf(p)["name-near-miss"]; ok {
			t.Errorf("advises renaming a correct profile: %+v", p.Findings)
		}
	}
	if err := incomplete(res); cli.CodeOf(err) != cli.ExitIncomplete || !strings.Contains(err.Error(), "--cluster-domain cluster.local") {
		t.Errorf("exit error = %v", err)
	}
	// One refused lookup among answered ones is not a domain problem.
	f.dest.answers["web.books.svc.example.org:80"] = answer{profile: &pb.DestinationProfile{}}
	if res := f.get(t, "books/web"); res.DomainMismatch != "" {
		t.Errorf("false mismatch: %q", res.DomainMismatch)
	}
}

// An audit with a --cluster-domain no ServiceProfile uses finds no Service
// with a profile; it says why (exit 4), not "No Service with a
// ServiceProfile". With the right domain, or when some profiles use the
// given one, it says nothing.
func TestAuditClusterDomainMismatch(t *testing.T) {
	f := webFixture()
	f.cfg.ClusterDomain = "example.org"
	f.dest = &scripted{}
	res, err := f.engine().Audit(context.Background(), "books", []string{"books"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Reports) != 0 || !strings.Contains(res.DomainMismatch, "named for cluster.local (e.g. books/"+webFQDN+"): if that is the cluster's domain, run again with --cluster-domain cluster.local") {
		t.Errorf("reports %d, mismatch %q", len(res.Reports), res.DomainMismatch)
	}
	if cli.CodeOf(incomplete(res)) != cli.ExitIncomplete {
		t.Errorf("exit %d, want %d", cli.CodeOf(incomplete(res)), cli.ExitIncomplete)
	}
	f.cfg.ClusterDomain = "cluster.local"
	if res, err = f.engine().Audit(context.Background(), "books", []string{"books"}); err != nil || res.DomainMismatch != "" || len(res.Reports) == 0 {
		t.Errorf("right domain: %v, mismatch %q, %d reports", err, res.DomainMismatch, len(res.Reports))
	}
	// A profile a typo away from the domain is misnamed: no advice to
	// pass the typo as --cluster-domain.
	typo := webFixture()
	typo.profiles = []runtime.Object{sp("books", "web.books.svc.cluster.locl", map[string]interface{}{"routes": []interface{}{route("own", "/own")}})}
	typo.dest = &scripted{}
	if res, err := typo.engine().Audit(context.Background(), "books", []string{"books"}); err != nil || res.DomainMismatch != "" {
		t.Errorf("typo: %v, mismatch %q", err, res.DomainMismatch)
	}
}

// An audit of a namespace that does not exist is an error, not "No
// Service with a ServiceProfile"; an existing empty one is not.
func TestAuditMissingNamespace(t *testing.T) {
	f := webFixture()
	f.svcs = append(f.svcs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "empty"}})
	f.dest = &scripted{}
	if _, err := f.engine().Audit(context.Background(), "bokos", []string{"bokos"}); err == nil || !strings.Contains(err.Error(), `namespace "bokos" does not exist`) {
		t.Errorf("missing namespace: %v", err)
	}
	if res, err := f.engine().Audit(context.Background(), "empty", []string{"empty"}); err != nil || len(res.Reports) != 0 {
		t.Errorf("empty namespace: %v", err)
	}
}

// Partial RBAC: the client namespace's profiles cannot be read, so which
// profile is in effect is unknown; what is served is not called drift.
func TestUnknownInEffectUnderPartialRBAC(t *testing.T) {
	f := webFixture()
	f.forbid = []string{"", "foobar"}
	f.cfg.FromNamespace = "foobar"
	f.dest = &scripted{answers: map[string]answer{
		webFQDN + ":80": {profile: &pb.DestinationProfile{FullyQualifiedName: webFQDN, Routes: []*pb.Route{{MetricsLabels: map[string]string{"route": "foobar view"}}}}},
	}}
	res := f.get(t, "books/web")
	p := res.Reports[0].Ports[0]
	if p.InEffect.Source != SourceUnknown || p.InEffect.Namespace != "foobar" {
		t.Fatalf("inEffect = %+v", p.InEffect)
	}
	if _, ok := codesOf(p)["served-differs"]; ok || len(p.Drift) != 0 || string(p.Expected) != "null" {
		t.Errorf("compared with a guess: drift %+v findings %v", p.Drift, codesOf(p))
	}
	b, _ := json.Marshal(p)
	if !strings.Contains(string(b), `"source":"unknown"`) {
		t.Errorf("json: %s", b)
	}
	if got := lookup(p); strings.Contains(got, "matches") {
		t.Errorf("LOOKUP %q: nothing was compared", got)
	}
	// Findings about the books profile's own content are not about what
	// the client gets when another profile may be in effect.
	bad := webFixture()
	bad.profiles = []runtime.Object{sp("books", webFQDN, map[string]interface{}{"routes": []interface{}{
		map[string]interface{}{"name": "own", "condition": map[string]interface{}{"pathRegex": "/own"}, "timeout": "10 s"}}})}
	bad.forbid, bad.cfg.FromNamespace, bad.dest = f.forbid, f.cfg.FromNamespace, f.dest
	if codes := codesOf(bad.get(t, "books/web").Reports[0].Ports[0]); codes["timeout-unparsable"] != "" {
		t.Errorf("a finding about the books profile, whose effect is unknown: %v", codes)
	}
	bad.forbid = []string{""}
	if codes := codesOf(bad.get(t, "books/web").Reports[0].Ports[0]); codes["timeout-unparsable"] == "" {
		t.Errorf("near miss: the books profile is in effect, its finding is missing: %v", codes)
	}
	// What the proxy does with what was served is about this client: a
	// served regex the proxy cannot compile is still reported.
	served := webFixture()
	served.forbid, served.cfg.FromNamespace = []string{"", "foobar"}, "foobar"
	served.dest = &scripted{answers: map[string]answer{webFQDN + ":80": {profile: &pb.DestinationProfile{FullyQualifiedName: webFQDN, Routes: []*pb.Route{
		{Condition: &pb.RequestMatch{Match: &pb.RequestMatch_Path{Path: &pb.PathMatch{Regex: "/a(?=b)"}}}, MetricsLabels: map[string]string{"route": "bad"}},
		{Condition: &pb.RequestMatch{Match: &pb.RequestMatch_Path{Path: &pb.PathMatch{Regex: "/.*"}}}, MetricsLabels: map[string]string{"route": "ok"}}}}}}}
	if codes := codesOf(served.get(t, "books/web").Reports[0].Ports[0]); codes["regex-dropped-by-proxy"] == "" {
		t.Errorf("a served route the proxy drops is not reported when the profile in effect is unknown: %v", codes)
	}
	// Readable: the service namespace's profile is known to be in effect.
	f.forbid = []string{""}
	if p := f.get(t, "books/web").Reports[0].Ports[0]; p.InEffect.Source != "service-namespace" {
		t.Errorf("readable namespaces: source %s", p.InEffect.Source)
	}
}

// A lookup predicted silent is confirmed after the adaptive wait, not the
// full --timeout; one predicted to answer keeps the --timeout.
func TestAdaptiveWaitForPredictedSilence(t *testing.T) {
	f := webFixture()
	f.svcs = append(f.svcs, svc("books", "broken", port(80, "")))
	f.profiles = append(f.profiles, sp("books", "broken.books.svc.cluster.local", map[string]interface{}{
		"routes":      []interface{}{route("r", "/r")},
		"retryBudget": map[string]interface{}{"retryRatio": 0.2, "minRetriesPerSecond": int64(1), "ttl": "soon"}}))
	f.cfg.Timeout = time.Hour // a test that waited the --timeout would never end
	f.dest = &scripted{answers: map[string]answer{"broken.books.svc.cluster.local:80": {silent: true}}}
	e := f.engine()
	res, err := e.Audit(context.Background(), "books", []string{"books"})
	if err != nil {
		t.Fatal(err)
	}
	st := res.Stats
	if st.SilentPredicted != 1 || st.Served != 2 || st.Incomplete() {
		t.Fatalf("stats = %+v", st)
	}
	if want := AdaptiveWait(st.Slowest, true, time.Hour); st.Waited != want || want >= time.Hour {
		t.Errorf("waited %s, want %s", st.Waited, want)
	}
	for _, r := range res.Reports {
		for _, p := range r.Ports {
			if p.Lookup.Result == report.ResultSilent && (p.Lookup.Waited != st.Waited.String() || !strings.Contains(p.Lookup.Error, "adaptive wait")) {
				t.Errorf("silent lookup: %+v", p.Lookup)
			}
		}
	}
	if !strings.Contains(st.Summary(), "1 silent as predicted") {
		t.Errorf("summary = %q", st.Summary())
	}
}

// A silence nobody predicted waits the full --timeout and is a failure to
// see (exit 4).
func TestUnexpectedSilenceWaitsTheTimeout(t *testing.T) {
	f := webFixture()
	f.cfg.Timeout = 20 * time.Millisecond
	f.dest = &scripted{answers: map[string]answer{webFQDN + ":81": {silent: true}}}
	res := f.get(t, "books/web")
	p := res.Reports[0].Ports[1]
	if p.Lookup.Result != report.ResultSilent || p.Lookup.Waited != "20ms" || res.Stats.SilentUnexpected != 1 || cli.CodeOf(incomplete(res)) != cli.ExitIncomplete {
		t.Errorf("lookup %+v stats %+v", p.Lookup, res.Stats)
	}
}

func TestAdaptiveWait(t *testing.T) {
	for _, tt := range []struct {
		slowest  time.Duration
		answered bool
		timeout  time.Duration
		want     time.Duration
	}{
		{0, false, 5 * time.Second, 5 * time.Second},
		{time.Millisecond, true, 5 * time.Second, SilentFloor},
		{100 * time.Millisecond, true, 5 * time.Second, 400 * time.Millisecond},
		{2 * time.Second, true, 5 * time.Second, 5 * time.Second},
		{time.Millisecond, true, 100 * time.Millisecond, 100 * time.Millisecond},
	} {
		if got := AdaptiveWait(tt.slowest, tt.answered, tt.timeout); got != tt.want {
			t.Errorf("AdaptiveWait(%s, %v, %s) = %s, want %s", tt.slowest, tt.answered, tt.timeout, got, tt.want)
		}
	}
}

// An undecodable profile is not advised to be created.
func TestUndecodableIsNotMissing(t *testing.T) {
	f := fixture{svcs: []runtime.Object{svc("books", "web", port(80, ""))},
		profiles: []runtime.Object{sp("books", webFQDN, map[string]interface{}{"opaquePorts": []interface{}{"80"}, "routes": []interface{}{route("r", "/r")}})}}
	p := f.get(t, "books/web").Reports[0].Ports[0]
	for _, fd := range p.Findings {
		if fd.Code == "default-profile" && strings.Contains(fd.Message, "create one") {
			t.Errorf("advises creating a profile that exists: %s", fd.Message)
		}
	}
	if codesOf(p)["profile-undecodable"] != "error" {
		t.Errorf("findings = %v", codesOf(p))
	}
}

func TestResolveServicesWithoutDiscovery(t *testing.T) {
	cs := fake.NewSimpleClientset(svc("books", "a"), svc("books", "b"))
	for _, tt := range []struct {
		args []string
		ok   bool
		n    int
	}{
		{[]string{"svc/a"}, true, 1},
		{[]string{"service/a", "services/b"}, true, 2},
		{[]string{"svc", "a", "b"}, true, 2},
		{[]string{"deploy/a"}, false, 0},
		{[]string{"svc/a", "deploy/b"}, false, 0},
		{[]string{"svc,deploy", "a"}, false, 0},
		{[]string{"a"}, false, 0},
	} {
		got, ok, err := ResolveServices(context.Background(), cs, "books", tt.args)
		if ok != tt.ok || len(got) != tt.n || err != nil {
			t.Errorf("%v: ok %v n %d err %v", tt.args, ok, len(got), err)
		}
	}
	if _, ok, err := ResolveServices(context.Background(), cs, "books", []string{"svc/nope"}); !ok || !kerrors.IsNotFound(err) {
		t.Errorf("missing service: ok %v err %v", ok, err)
	}
}

var _ = kube.ToService

// HTTPRoutes are read (without discovery) and attached to their Service.
func TestHTTPRoutesAreRead(t *testing.T) {
	f := webFixture()
	f.profiles = append(f.profiles, &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "policy.linkerd.io/v1beta3", "kind": "HTTPRoute",
		"metadata": map[string]interface{}{"namespace": "books", "name": "web-routes"},
		"spec":     map[string]interface{}{"parentRefs": []interface{}{map[string]interface{}{"kind": "Service", "name": "web", "port": int64(80)}}},
	}})
	// The destination serves the profile's route, so the proxies use it
	// (MODE serviceprofile) and ignore the HTTPRoute.
	f.dest = &scripted{answers: map[string]answer{webFQDN + ":80": {profile: &pb.DestinationProfile{FullyQualifiedName: webFQDN,
		Routes: []*pb.Route{{MetricsLabels: map[string]string{"route": "own"}}}}}}}
	res := f.get(t, "books/web")
	if _, ok := codesOf(res.Reports[0].Ports[0])["httproute-ignored"]; !ok {
		t.Errorf("port 80: %v", codesOf(res.Reports[0].Ports[0]))
	}
	if _, ok := codesOf(res.Reports[0].Ports[1])["httproute-ignored"]; ok {
		t.Errorf("port 81 is not the HTTPRoute's parent port")
	}
}
