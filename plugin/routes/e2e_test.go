package routes_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-profiles/kubectl-profiles/internal/clitest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/metricstest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/testenv"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/routes"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, testenv.Options{}, &env)) }

// fakeClock makes rates exact: every scrape of a round happens at the same
// instant, and waiting --window moves time by exactly --window.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.t
	return ch
}

func useFakeClock(t *testing.T) {
	old := *routes.TestClock
	*routes.TestClock = &fakeClock{t: time.Unix(1_800_000_000, 0)}
	t.Cleanup(func() { *routes.TestClock = old })
}

// world is one test's namespace: Services, workloads, pods whose IPs are
// addresses in a network namespace where stand-in proxies serve /metrics.
type world struct {
	t    *testing.T
	ctx  context.Context
	ns   string
	net  *metricstest.Netns
	kube string // admin kubeconfig
}

var nsCounter int

func newWorld(t *testing.T) *world {
	t.Helper()
	testenv.SkipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	nsCounter++
	w := &world{t: t, ctx: ctx, ns: fmt.Sprintf("books-%c", 'a'+nsCounter%26), net: metricstest.NewNetns(t), kube: env.Kubeconfig}
	w.apply(fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n", w.ns))
	return w
}

func (w *world) apply(manifests ...string) {
	w.t.Helper()
	for i := range manifests {
		manifests[i] = strings.ReplaceAll(manifests[i], "NS", w.ns)
	}
	if err := env.Apply(w.ctx, manifests...); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) service(name string, port int, app string) {
	w.apply(fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: %s, namespace: NS}
spec:
  selector: {app: %s}
  ports: [{name: http, port: %d}]
`, name, app, port))
}

func (w *world) deployment(name string) {
	w.apply(fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %s, namespace: NS}
spec:
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec: {containers: [{name: app, image: example/app}]}
`, name, name, name))
}

type podOpt struct {
	nativeSidecar bool // linkerd-proxy as an init container with restartPolicy Always
	unmeshed      bool
	phase         corev1.PodPhase
	noServer      bool // the pod IP has nothing listening
}

// pod creates a pod of deploy/app whose status.podIP is a fresh address in
// the network namespace, and serves proxy there (unless noServer).
func (w *world) pod(app, name string, srv *metricstest.Server, o podOpt) *corev1.Pod {
	w.t.Helper()
	ctrl := true
	proxy := corev1.Container{Name: "linkerd-proxy", Image: "cr.l5d.io/linkerd/proxy:edge",
		Ports: []corev1.ContainerPort{{Name: "linkerd-admin", ContainerPort: 4191}}}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.ns, Labels: map[string]string{"app": app},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: app + "-5d9c7b", UID: "00000000-0000-0000-0000-000000000001", Controller: &ctrl}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example/app"}}},
	}
	switch {
	case o.unmeshed:
	case o.nativeSidecar:
		always := corev1.ContainerRestartPolicyAlways
		proxy.RestartPolicy = &always
		pod.Spec.InitContainers = []corev1.Container{proxy}
	default:
		pod.Spec.Containers = append(pod.Spec.Containers, proxy)
	}
	cs := env.Clientset.CoreV1().Pods(w.ns)
	created, err := cs.Create(w.ctx, pod, metav1.CreateOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	addr := w.net.NewAddr(w.t)
	phase := o.phase
	if phase == "" {
		phase = corev1.PodRunning
	}
	created.Status = corev1.PodStatus{Phase: phase, PodIP: addr, PodIPs: []corev1.PodIP{{IP: addr}}}
	if created, err = cs.UpdateStatus(w.ctx, created, metav1.UpdateOptions{}); err != nil {
		w.t.Fatal(err)
	}
	if srv != nil && !o.noServer {
		w.net.Serve(w.t, srv, addr, 4191)
	}
	return created
}

func (w *world) run(args ...string) (string, string, int) {
	w.t.Helper()
	return clitest.Run("", append([]string{"--kubeconfig", w.kube, "-n", w.ns}, args...)...)
}

// golden compares with testdata/NAME.golden, the namespace name replaced.
func (w *world) golden(name, got string) {
	w.t.Helper()
	clitest.Golden(w.t, "testdata/"+name+".golden", strings.ReplaceAll(got, w.ns, "books-x"))
}

const (
	fqdn     = "webapp.NS.svc.cluster.local:7000"
	spRoutes = `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: webapp.NS.svc.cluster.local, namespace: NS}
spec:
  routes:
  - name: GET /books
    condition: {method: GET, pathRegex: /books}
  - name: POST /books
    condition: {method: POST, pathRegex: /books}
    isRetryable: true
`
)

// traffic is what a client proxy counts for webapp (ServiceProfile) and
// authors (HTTPRoute) in one window; k scales it per pod.
func clientTraffic(ns string, k int) func(*metricstest.Proxy) {
	dst := strings.ReplaceAll(fqdn, "NS", ns)
	return func(p *metricstest.Proxy) {
		p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: "GET /books", Status: 200, LatencyMs: 8}, 95*k)
		p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: "GET /books", Status: 500, Failure: true, LatencyMs: 120}, 5*k)
		p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: "POST /books", Status: 201, LatencyMs: 35, Retries: 0}, 18*k)
		p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: "POST /books", Status: 503, Failure: true, LatencyMs: 450, Retries: 1}, 2*k)
		p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Status: 404, LatencyMs: 2}, 3*k)
		p.RecordEndpoint("outbound", dst, ns, "webapp", 123*k)
		pr := func(route, status, errLabel string, lat float64, retries int, backend string) metricstest.PolicyRequest {
			return metricstest.PolicyRequest{ParentNamespace: ns, ParentName: "authors", ParentPort: "7001",
				RouteGroup: "gateway.networking.k8s.io", RouteKind: "HTTPRoute", RouteNamespace: ns, RouteName: route,
				Status: status, Error: errLabel, LatencySeconds: lat, BackendNamespace: ns, BackendName: backend, BackendPort: "7001", Retries: retries}
		}
		p.RecordPolicy(pr("authors-get", "200", "", 0.03, 0, "authors"), 40*k)
		p.RecordPolicy(pr("authors-get", "200", "", 0.04, 0, "authors-v2"), 10*k)
		p.RecordPolicy(pr("authors-get", "503", "", 0.8, 2, "authors-v2"), 2*k)
		p.RecordPolicy(pr("authors-write", "", "REQUEST_TIMEOUT", 5, 0, "authors"), 1*k)
		p.RecordPolicy(pr("authors-write", "200", "", 0.2, 0, "authors"), 9*k)
		p.RecordEndpoint("outbound", "authors."+ns+".svc.cluster.local:7001", ns, "authors", 62*k)
	}
}

// between returns a Server hook that applies traffic just before the
// second scrape of every run, so each window holds exactly that traffic.
func between(traffic func(*metricstest.Proxy)) func(int, *metricstest.Proxy) {
	return func(n int, p *metricstest.Proxy) {
		if n%2 == 1 {
			traffic(p)
		}
	}
}

func clientWorld(t *testing.T) *world {
	w := newWorld(t)
	w.service("webapp", 7000, "webapp")
	w.service("authors", 7001, "authors")
	w.deployment("traffic")
	w.apply(spRoutes, `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: authors-get, namespace: NS}
spec:
  parentRefs: [{group: core, kind: Service, name: authors, port: 7001}]
  rules: [{matches: [{path: {type: PathPrefix, value: /authors}}], backendRefs: [{name: authors, port: 7001}]}]
`)
	for i, native := range []bool{false, true} {
		p := metricstest.NewProxy(1_799_990_000)
		clientTraffic(w.ns, 50)(p) // history before the window
		w.pod("traffic", fmt.Sprintf("traffic-5d9c7b-%d", i), &metricstest.Server{Proxy: p, Before: between(clientTraffic(w.ns, i+1))}, podOpt{nativeSidecar: native})
	}
	return w
}

func TestOutboundServiceProfileRoutes(t *testing.T) {
	useFakeClock(t)
	w := clientWorld(t)
	out, errOut, code := w.run("routes", "deploy/traffic", "--to", "svc/webapp", "--window", "10s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	w.golden("outbound-profile", out)
	// The same, named from the Service's side.
	out2, errOut, code := w.run("routes", "svc/webapp", "--from", "deploy/traffic", "--window", "10s")
	if code != 0 || out2 != out {
		t.Errorf("--from differs from --to (exit %d %s):\n%s\n---\n%s", code, errOut, out2, out)
	}
}

func TestOutboundPolicyRoutesWide(t *testing.T) {
	useFakeClock(t)
	w := clientWorld(t)
	out, errOut, code := w.run("routes", "deploy/traffic", "--to", "svc/authors", "-o", "wide")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	w.golden("outbound-policy-wide", out)

	js, _, code := w.run("routes", "deploy/traffic", "--to", "svc/authors", "-o", "json")
	if code != 0 {
		t.Fatal(code)
	}
	var rep routes.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Direction != "outbound" || rep.Proxies.Scraped != 2 || len(rep.Rows) != 2 || rep.Rows[0].API != "HTTPRoute" ||
		rep.Via["pod-proxy"] != 2 || len(rep.Rows[0].Backends) != 2 {
		t.Errorf("json report: %s", js)
	}
	w.golden("outbound-policy-json", js)

	// YAML is the JSON contract in YAML.
	y, _, code := w.run("routes", "deploy/traffic", "--to", "svc/authors", "-o", "yaml")
	var fromYAML routes.Report
	if err := yaml.Unmarshal([]byte(y), &fromYAML); err != nil || code != 0 {
		t.Fatalf("yaml: exit %d %v", code, err)
	}
	a, _ := json.Marshal(rep)
	b, _ := json.Marshal(fromYAML)
	if string(a) != string(b) {
		t.Errorf("yaml differs from json:\n%s\n%s", b, a)
	}
}

// At most --concurrency pods are scraped at once: each stand-in holds its
// answer until another scrape arrives (or gives up), so overlap is seen
// whenever it is allowed.
func TestConcurrencyBound(t *testing.T) {
	useFakeClock(t)
	w := newWorld(t)
	w.service("webapp", 7000, "webapp")
	w.deployment("webapp")
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	inflight, most := 0, 0
	hold := func(int, *metricstest.Proxy) {
		mu.Lock()
		defer mu.Unlock()
		inflight++
		most = max(most, inflight)
		cond.Broadcast()
		deadline := time.Now().Add(300 * time.Millisecond)
		for inflight < 3 && time.Now().Before(deadline) {
			go func() { time.Sleep(20 * time.Millisecond); cond.Broadcast() }()
			cond.Wait()
		}
		inflight--
	}
	for i := 0; i < 3; i++ {
		w.pod("webapp", fmt.Sprintf("webapp-5d9c7b-%d", i), &metricstest.Server{Proxy: metricstest.NewProxy(1), Before: hold}, podOpt{})
	}
	for _, c := range []struct {
		concurrency string
		want        int
	}{{"1", 1}, {"2", 2}, {"3", 3}} {
		most = 0
		if _, errOut, code := w.run("routes", "svc/webapp", "--concurrency", c.concurrency); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if most != c.want {
			t.Errorf("--concurrency %s: %d scrapes at once, want %d", c.concurrency, most, c.want)
		}
	}
}

func TestInboundAndNotScraped(t *testing.T) {
	useFakeClock(t)
	w := newWorld(t)
	w.service("webapp", 7000, "webapp")
	w.deployment("webapp")
	w.apply(spRoutes)
	dst := strings.ReplaceAll(fqdn, "NS", w.ns)
	inbound := func(p *metricstest.Proxy) {
		p.RecordSP(metricstest.SPRequest{Direction: "inbound", Dst: dst, Route: "GET /books", Status: 200, LatencyMs: 4}, 200)
		p.RecordSP(metricstest.SPRequest{Direction: "inbound", Dst: dst, Route: "POST /books", Status: 500, Failure: true, LatencyMs: 60}, 10)
		p.RecordEndpoint("inbound", dst, "", "", 210)
	}
	w.pod("webapp", "webapp-5d9c7b-a", &metricstest.Server{Proxy: metricstest.NewProxy(1), Before: between(inbound)}, podOpt{})
	w.pod("webapp", "webapp-5d9c7b-b", nil, podOpt{unmeshed: true})
	w.pod("webapp", "webapp-5d9c7b-c", nil, podOpt{phase: corev1.PodPending})
	// The proxy's inbound policy refuses plaintext scrapers: 403 through the
	// pod proxy, then the port-forward fails (no kubelet here).
	w.pod("webapp", "webapp-5d9c7b-d", &metricstest.Server{Proxy: metricstest.NewProxy(1), Deny: true}, podOpt{})
	out, errOut, code := w.run("routes", "svc/webapp", "--pod-timeout", "3s")
	if code != 4 {
		t.Fatalf("exit %d, want 4 (incomplete): %s\n%s", code, errOut, out)
	}
	if !strings.Contains(errOut, "3 of 4 pod(s) not scraped") {
		t.Errorf("stderr: %q", errOut)
	}
	w.golden("inbound-not-scraped", out)
}

// The pod proxy cannot reach the pod (nothing listens at its IP): the
// scrape goes through the port-forward instead.
func TestPortForwardFallback(t *testing.T) {
	useFakeClock(t)
	w := newWorld(t)
	w.service("webapp", 7000, "webapp")
	w.deployment("webapp")
	srv := &metricstest.Server{Proxy: metricstest.NewProxy(1)}
	addr := w.net.NewAddr(t)
	w.net.Serve(t, srv, addr, 4191)
	w.pod("webapp", "webapp-5d9c7b-a", srv, podOpt{noServer: true})
	var forwarded []string
	old := *routes.TestPortForward
	*routes.TestPortForward = func(ctx context.Context, cfg *rest.Config, pod *corev1.Pod, port int, timeout time.Duration) (string, func(), error) {
		forwarded = append(forwarded, fmt.Sprintf("%s:%d", pod.Name, port))
		return fmt.Sprintf("%s:%d", addr, port), func() {}, nil
	}
	t.Cleanup(func() { *routes.TestPortForward = old })
	js, errOut, code := w.run("routes", "svc/webapp", "-o", "json", "--pod-timeout", "3s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep routes.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Via["port-forward"] != 1 || len(forwarded) != 2 || forwarded[0] != "webapp-5d9c7b-a:4191" || srv.Scrapes() != 2 {
		t.Errorf("via %v forwarded %v scrapes %d", rep.Via, forwarded, srv.Scrapes())
	}
	if len(rep.Notes) != 1 || rep.Notes[0].Code != "no-traffic" {
		t.Errorf("notes %+v", rep.Notes)
	}
}

// Empty tables say why: no traffic, traffic on no route, a stale proxy.
func TestExplainsEmptyTables(t *testing.T) {
	useFakeClock(t)
	w := newWorld(t)
	w.service("quiet", 7000, "quiet")
	w.service("webapp", 7000, "webapp")
	w.service("opaque", 7002, "opaque")
	w.service("catalog", 7003, "catalog")
	w.apply(`apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: catalog.NS.svc.cluster.local, namespace: NS}
spec:
  routes: [{name: GET /items, condition: {method: GET, pathRegex: /items}}]
`)
	w.deployment("traffic")
	dst := strings.ReplaceAll(fqdn, "NS", w.ns)
	traffic := func(p *metricstest.Proxy) {
		// No ServiceProfile exists for webapp, yet the proxy counts its
		// routes: stale.
		p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: "GET /books", Status: 200, LatencyMs: 5}, 30)
		// Route names are untrusted text: a terminal escape must be shown
		// escaped.
		p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: "GET /\x1b[2J\x1b[31mred", Status: 200, LatencyMs: 5}, 1)
		// opaque: requests counted per endpoint, on no route.
		p.RecordEndpoint("outbound", "opaque."+w.ns+".svc.cluster.local:7002", w.ns, "opaque", 12)
		// catalog: every request falls to the default route.
		p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: "catalog." + w.ns + ".svc.cluster.local:7003", Status: 200, LatencyMs: 9}, 40)
	}
	w.pod("traffic", "traffic-5d9c7b-a", &metricstest.Server{Proxy: metricstest.NewProxy(1), Before: between(traffic)}, podOpt{})
	for _, c := range []struct{ to, golden string }{{"svc/quiet", "explain-no-traffic"}, {"svc/opaque", "explain-no-route-metrics"}, {"svc/webapp", "explain-stale"}, {"svc/catalog", "explain-default-only"}} {
		out, errOut, code := w.run("routes", "deploy/traffic", "--to", c.to)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.to, code, errOut)
		}
		w.golden(c.golden, out)
		if strings.Contains(out, "\x1b") {
			t.Errorf("%s: raw escape in the output", c.to)
		}
	}
}

// -w keeps printing a table per window until Ctrl-C, which ends it with
// status 0.
func TestWatch(t *testing.T) {
	useFakeClock(t)
	w := newWorld(t)
	w.service("webapp", 7000, "webapp")
	w.deployment("webapp")
	dst := strings.ReplaceAll(fqdn, "NS", w.ns)
	srv := &metricstest.Server{Proxy: metricstest.NewProxy(1)}
	srv.Before = func(n int, p *metricstest.Proxy) {
		p.RecordSP(metricstest.SPRequest{Direction: "inbound", Dst: dst, Route: "GET /books", Status: 200, LatencyMs: 4}, 10*n)
		if n == 4 {
			// Ctrl-C once three tables are due.
			_ = syscall.Kill(os.Getpid(), syscall.SIGINT)
		}
	}
	w.pod("webapp", "webapp-5d9c7b-a", srv, podOpt{})
	out, errOut, code := w.run("routes", "svc/webapp", "-w", "--window", "1s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// Windows 0-1, 1-2, 2-3 and 3-4: 10, 20, 30, 40 requests per second.
	for _, rps := range []string{"  10.0  ", "  20.0  ", "  30.0  "} {
		if !strings.Contains(out, rps) {
			t.Errorf("no window with %s RPS:\n%s", strings.TrimSpace(rps), out)
		}
	}
	if n := strings.Count(out, "Inbound routes of svc/webapp"); n < 3 {
		t.Errorf("%d tables, want at least 3:\n%s", n, out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"routes"},
		{"routes", "deploy/a", "--to", "svc/b", "--from", "deploy/c"},
		{"routes", "deploy/a", "--to", "deploy/b"},
		{"routes", "deploy/a", "--from", "deploy/c"},
		{"routes", "svc/a", "--window", "10ms"},
		{"routes", "svc/a", "-o", "csv"},
	} {
		_, errOut, code := clitest.Run("", args...)
		if code != 2 || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// TestDocumentedRBACIsEnough: a user who holds only krew/rbac.yaml's
// ClusterRole gets the admin's report (the pod proxy needs get pods/proxy);
// one without that rule gets every pod listed with the RBAC reason.
func TestDocumentedRBACIsEnough(t *testing.T) {
	useFakeClock(t)
	w := clientWorld(t)
	rbac, err := os.ReadFile("../../krew/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bind := `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kubectl-profiles-reader-carol}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubectl-profiles-reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: carol}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: routes-no-proxy}
rules:
- {apiGroups: [""], resources: [services, pods], verbs: [get, list]}
- {apiGroups: [apps], resources: [deployments], verbs: [get, list]}
- {apiGroups: [linkerd.io], resources: [serviceprofiles], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: routes-no-proxy-bob}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: routes-no-proxy}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}]
`
	if err := env.Apply(w.ctx, string(rbac), bind); err != nil {
		t.Fatal(err)
	}
	args := []string{"routes", "deploy/traffic", "--to", "svc/webapp", "-o", "json"}
	admin, errOut, code := w.run(args...)
	if code != 0 {
		t.Fatalf("admin: exit %d %s", code, errOut)
	}
	for _, user := range []string{"carol", "bob"} {
		kc, err := env.KubeconfigFor(user)
		if err != nil {
			t.Fatal(err)
		}
		var out string
		// RBAC changes take a moment to reach the authorizer's cache.
		for deadline := time.Now().Add(10 * time.Second); ; {
			out, errOut, code = clitest.Run("", append([]string{"--kubeconfig", kc, "-n", w.ns}, args...)...)
			if (user == "carol" && code == 0) || (user == "bob" && strings.Contains(out, "pods/proxy")) || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		switch user {
		case "carol":
			if code != 0 || out != admin {
				t.Errorf("carol with krew/rbac.yaml: exit %d %s\n%s\n---\n%s", code, errOut, out, admin)
			}
		case "bob":
			var rep routes.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("bob: %v: %s %s", err, out, errOut)
			}
			if code != 1 || len(rep.NotScraped) != 2 || !strings.Contains(errOut, "no proxy of deploy/traffic could be scraped") {
				t.Errorf("bob: exit %d, stderr %q, %+v", code, errOut, rep.NotScraped)
			}
			// bob may not list HTTPRoutes: how many have the Service as
			// parent is unknown, not 0.
			if rep.InEffect == nil || rep.InEffect.PolicyRoutes != -1 {
				t.Errorf("bob: in effect %+v, want policyRoutes -1 (unknown)", rep.InEffect)
			}
			for _, n := range rep.NotScraped {
				if !strings.Contains(n.Reason, "pod proxy: forbidden: RBAC does not allow get pods/proxy") ||
					!strings.Contains(n.Reason, "port-forward: forbidden: RBAC does not allow create pods/portforward in namespace "+w.ns) {
					t.Errorf("bob: reason %q", n.Reason)
				}
			}
		}
	}
}

// A proxy that accepts the connection and never answers costs at most
// --pod-timeout per attempt; the pod is listed, the others are reported.
func TestSilentProxyIsBounded(t *testing.T) {
	useFakeClock(t)
	w := newWorld(t)
	w.service("webapp", 7000, "webapp")
	w.deployment("webapp")
	w.pod("webapp", "webapp-5d9c7b-a", &metricstest.Server{Proxy: metricstest.NewProxy(1)}, podOpt{})
	silent := w.pod("webapp", "webapp-5d9c7b-b", nil, podOpt{noServer: true})
	l, err := w.net.Listen(silent.Status.PodIP + ":4191")
	if err != nil {
		t.Fatal(err)
	}
	var conns []interface{ Close() error }
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	out, errOut, code := w.run("routes", "svc/webapp", "--pod-timeout", "1s")
	if code != 4 {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	if !strings.Contains(out, "books-") || !strings.Contains(out, "webapp-5d9c7b-b   pod proxy: the API server did not answer within --pod-timeout 1s; port-forward:") {
		t.Errorf("silent pod not listed with its reason:\n%s", out)
	}
	if !strings.Contains(out, "from 1 of 2 proxies") {
		t.Errorf("the other pod is not reported:\n%s", out)
	}
}

// A route name with a quote corrupts the legacy exposition (the proxy does
// not escape it): that pod is listed as unparseable, without a useless
// port-forward (it would read the same text); the other pod is reported.
func TestUnparseableExposition(t *testing.T) {
	useFakeClock(t)
	w := newWorld(t)
	w.service("webapp", 7000, "webapp")
	w.deployment("webapp")
	dst := strings.ReplaceAll(fqdn, "NS", w.ns)
	bad := metricstest.NewProxy(1)
	bad.RecordSP(metricstest.SPRequest{Direction: "inbound", Dst: dst, Route: `GET /"quoted"`, Status: 200, LatencyMs: 1}, 1)
	w.pod("webapp", "webapp-5d9c7b-a", &metricstest.Server{Proxy: metricstest.NewProxy(1)}, podOpt{})
	w.pod("webapp", "webapp-5d9c7b-b", &metricstest.Server{Proxy: bad}, podOpt{})
	forwards := 0
	old := *routes.TestPortForward
	*routes.TestPortForward = func(context.Context, *rest.Config, *corev1.Pod, int, time.Duration) (string, func(), error) {
		forwards++
		return "", nil, fmt.Errorf("not expected")
	}
	t.Cleanup(func() { *routes.TestPortForward = old })
	out, errOut, code := w.run("routes", "svc/webapp")
	if code != 4 || forwards != 0 {
		t.Fatalf("exit %d, %d port-forwards: %s\n%s", code, forwards, errOut, out)
	}
	if !strings.Contains(out, "webapp-5d9c7b-b   unparseable metrics:") || !strings.Contains(out, "(via pod-proxy)") {
		t.Errorf("unparseable pod not listed:\n%s", out)
	}
}
