package metrics_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/diag/metrics"
	"github.com/kubectl-profiles/kubectl-profiles/internal/metricstest"
)

const dst = "webapp.books.svc.cluster.local:7000"

var t0 = time.Unix(1_800_000_000, 0)

func parse(t testing.TB, p *metricstest.Proxy) *metrics.Snapshot {
	t.Helper()
	s, err := metrics.Parse(strings.NewReader(p.Exposition()), metrics.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pair(t testing.TB, pod string, before, after *metrics.Snapshot, window time.Duration) metrics.Pair {
	return metrics.Pair{Pod: pod, Before: metrics.Scrape{At: t0, Snap: before}, After: metrics.Scrape{At: t0.Add(window), Snap: after}}
}

func near(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil, want %g", what, want)
		return
	}
	if math.Abs(*got-want) > 1e-6*math.Max(1, math.Abs(want)) {
		t.Errorf("%s: got %g, want %g", what, *got, want)
	}
}

func row(t *testing.T, res metrics.Result, api, route string) metrics.Row {
	t.Helper()
	for _, r := range res.Rows {
		if r.API == api && r.Route == route {
			return r
		}
	}
	t.Fatalf("no %s row %q in %+v", api, route, res.Rows)
	return metrics.Row{}
}

var books = metrics.Filter{Direction: "outbound", Namespace: "books", Name: "webapp", FQDN: "webapp.books.svc.cluster.local", Port: 7000}

func policyReq(route, status, errLabel string, lat float64, retries int) metricstest.PolicyRequest {
	return metricstest.PolicyRequest{ParentNamespace: "books", ParentName: "webapp", ParentPort: "7000",
		RouteGroup: "gateway.networking.k8s.io", RouteKind: "HTTPRoute", RouteNamespace: "books", RouteName: route,
		Status: status, Error: errLabel, LatencySeconds: lat, BackendNamespace: "books", BackendName: "webapp", BackendPort: "7000", Retries: retries}
}

// Both families in one exposition, deltas over a 10s window.
func TestComputeBothFamilies(t *testing.T) {
	p := metricstest.NewProxy(1000)
	// Before the window: traffic that must not count.
	p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: "GET /books", Status: 200, LatencyMs: 7}, 500)
	p.RecordPolicy(policyReq("webapp-routes", "200", "", 0.01, 0), 300)
	before := parse(t, p)

	// In the window: 90 ok at 7ms + 10 failures at 150ms, each failure
	// retried once; 5 requests to the default route.
	p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: "GET /books", Status: 200, LatencyMs: 7}, 90)
	p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: "GET /books", Status: 500, Failure: true, LatencyMs: 150, Retries: 1}, 10)
	p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Status: 200, LatencyMs: 3}, 5)
	// Policy: 40 ok (0.02s), 8 5xx (0.7s) after 2 retries each, 2 timeouts.
	p.RecordPolicy(policyReq("webapp-routes", "200", "", 0.02, 0), 40)
	p.RecordPolicy(policyReq("webapp-routes", "503", "", 0.7, 2), 8)
	p.RecordPolicy(policyReq("webapp-routes", "", "REQUEST_TIMEOUT", 5, 0), 2)
	// Another Service's traffic is filtered out.
	p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: "authors.books.svc.cluster.local:7001", Route: "GET /authors", Status: 200, LatencyMs: 1}, 77)
	p.RecordEndpoint("outbound", dst, "books", "webapp", 155)
	res := metrics.Compute([]metrics.Pair{pair(t, "books/traffic-1", before, parse(t, p), 10*time.Second)}, books)

	if res.Traffic != 155 || res.Proxies != 1 || res.Resets != 0 {
		t.Errorf("traffic %v proxies %d resets %d", res.Traffic, res.Proxies, res.Resets)
	}
	sp := row(t, res, metrics.APIServiceProfile, "GET /books")
	if sp.Requests != 100 || sp.RPS != 10 || sp.Pods != 1 {
		t.Errorf("sp requests %v rps %v pods %d", sp.Requests, sp.RPS, sp.Pods)
	}
	near(t, "sp success", sp.Success, 0.9)
	// attempts: 90 + 10*2 = 110, of which 10 retried 500s and 10 final 500s fail.
	near(t, "sp actual success", sp.ActualSuccess, 90.0/110)
	near(t, "sp retry rate", sp.RetryRate, 0.1)
	near(t, "sp timeouts", sp.TimeoutRate, 0)
	// 90 in (5,10] ms, 10 in (100,200]: p50 = 5 + 5*(50/90), p95 = 100+100*(95-90)/10, p99 = 100+100*9/10.
	near(t, "sp p50", sp.LatencyMs.P50, 5+5*50.0/90)
	near(t, "sp p95", sp.LatencyMs.P95, 150)
	near(t, "sp p99", sp.LatencyMs.P99, 190)

	def := row(t, res, metrics.APIServiceProfile, metrics.DefaultRoute)
	if def.Requests != 5 {
		t.Errorf("default route requests %v", def.Requests)
	}

	pol := row(t, res, metrics.APIHTTPRoute, "webapp-routes")
	if pol.Requests != 50 || pol.RPS != 5 || pol.Parent == nil || pol.Parent.Name != "webapp" {
		t.Errorf("policy row %+v", pol)
	}
	near(t, "policy success", pol.Success, 40.0/50)
	near(t, "policy timeouts", pol.TimeoutRate, 2.0/50)
	near(t, "policy retries", pol.RetryRate, 16.0/50)
	// attempts 40+8*3+2 = 66; failing: 8 final + 16 retried + 2 timeouts = 26.
	near(t, "policy actual success", pol.ActualSuccess, 40.0/66)
	if pol.Attempts == nil || *pol.Attempts != 66 {
		t.Errorf("attempts %v", pol.Attempts)
	}
	// 40 in (0,50ms], 8 in (500,1000], 2 in (1000,10000]: p50 = 50*25/40... rank 25.
	near(t, "policy p50", pol.LatencyMs.P50, 50*25.0/40)
	near(t, "policy p95", pol.LatencyMs.P95, 500+500*(47.5-40)/8)
	near(t, "policy p99", pol.LatencyMs.P99, 1000+9000*(49.5-48)/2)
	if len(pol.Backends) != 1 || pol.Backends[0].Attempts != 66 {
		t.Errorf("backends %+v", pol.Backends)
	}
	for _, r := range res.Rows {
		if strings.Contains(r.Dst, "authors") {
			t.Errorf("row of another Service: %+v", r)
		}
	}
}

// A legacy series evicted and recreated, a series that vanishes, and a
// proxy restart.
func TestComputeResetsAndVanishing(t *testing.T) {
	p := metricstest.NewProxy(1000)
	p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: "GET /books", Status: 200, LatencyMs: 7}, 500)
	p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: "GET /old", Status: 200, LatencyMs: 7}, 50)
	before := parse(t, p)
	p.EvictLegacy(dst, "GET /books") // recreated from 0 below
	p.EvictLegacy(dst, "GET /old")   // gone for good
	p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: "GET /books", Status: 200, LatencyMs: 7}, 30)
	res := metrics.Compute([]metrics.Pair{pair(t, "books/a", before, parse(t, p), 10*time.Second)}, books)
	r := row(t, res, metrics.APIServiceProfile, "GET /books")
	if r.Requests != 30 {
		t.Errorf("recreated series: %v requests, want 30 (counted from 0)", r.Requests)
	}
	if res.Resets == 0 || res.Vanished == 0 {
		t.Errorf("resets %d vanished %d", res.Resets, res.Vanished)
	}
	for _, r := range res.Rows {
		if r.Route == "GET /old" {
			t.Errorf("a vanished series made a row: %+v", r)
		}
	}

	// Restart: the new process happens to have counted more than the old
	// one: only the start time tells, and everything counts from 0.
	q := metricstest.NewProxy(1000)
	q.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: "GET /books", Status: 200, LatencyMs: 7}, 20)
	b2 := parse(t, q)
	q.Restart(2000)
	q.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: "GET /books", Status: 200, LatencyMs: 7}, 25)
	res = metrics.Compute([]metrics.Pair{pair(t, "books/b", b2, parse(t, q), 5*time.Second)}, books)
	if r := row(t, res, metrics.APIServiceProfile, "GET /books"); r.Requests != 25 || r.RPS != 5 {
		t.Errorf("after restart: %v requests %v rps, want 25 and 5", r.Requests, r.RPS)
	}
	if len(res.Restarted) != 1 || res.Restarted[0] != "books/b" {
		t.Errorf("restarted %v", res.Restarted)
	}
}

// Two proxies with different windows: RPS is summed per proxy rate.
func TestComputeSumsProxies(t *testing.T) {
	var pairs []metrics.Pair
	for i, w := range []time.Duration{10 * time.Second, 5 * time.Second} {
		p := metricstest.NewProxy(1)
		b := parse(t, p)
		p.RecordPolicy(policyReq("r", "200", "", 0.01, 0), 50)
		pairs = append(pairs, pair(t, string(rune('a'+i)), b, parse(t, p), w))
	}
	res := metrics.Compute(pairs, books)
	r := row(t, res, metrics.APIHTTPRoute, "r")
	if r.Requests != 100 || r.RPS != 15 || r.Pods != 2 {
		t.Errorf("requests %v rps %v pods %d", r.Requests, r.RPS, r.Pods)
	}
}

func TestInboundAndDefaultPolicyRoute(t *testing.T) {
	p := metricstest.NewProxy(1)
	b := parse(t, p)
	p.RecordSP(metricstest.SPRequest{Direction: "inbound", Dst: dst, Route: "GET /books", Status: 200, LatencyMs: 2}, 10)
	p.RecordPolicy(metricstest.PolicyRequest{ParentNamespace: "books", ParentName: "webapp", ParentPort: "7000", RouteKind: "default", RouteName: "http",
		Status: "200", BackendNamespace: "books", BackendName: "webapp", BackendPort: "7000", LatencySeconds: 0.01}, 4)
	a := parse(t, p)
	in := metrics.Compute([]metrics.Pair{pair(t, "x", b, a, time.Second)}, metrics.Filter{Direction: "inbound"})
	if len(in.Rows) != 1 || in.Rows[0].Direction != "inbound" {
		t.Errorf("inbound rows %+v", in.Rows)
	}
	out := metrics.Compute([]metrics.Pair{pair(t, "x", b, a, time.Second)}, books)
	if r := row(t, out, metrics.APIPolicyDefault, metrics.DefaultRoute); r.Requests != 4 {
		t.Errorf("default policy route %+v", r)
	}
}

func TestQuantile(t *testing.T) {
	inf := math.Inf(1)
	b := map[float64]float64{10: 50, 20: 100, inf: 100}
	near(t, "p50", metrics.Quantile(0.5, b), 10)
	near(t, "p75", metrics.Quantile(0.75, b), 15)
	// Everything above the last bound: the largest finite bound.
	near(t, "+Inf", metrics.Quantile(0.99, map[float64]float64{10: 0, inf: 4}), 10)
	if metrics.Quantile(0.5, map[float64]float64{10: 0, inf: 0}) != nil {
		t.Error("no observations must give nil")
	}
}

func TestParseErrors(t *testing.T) {
	// A route name with a quote: the legacy encoder does not escape it.
	bad := "route_request_total{direction=\"outbound\",dst=\"a:1\",rt_route=\"GET /\"x\"} 1\n"
	if _, err := metrics.Parse(strings.NewReader(bad), metrics.DefaultLimits); err == nil || !strings.Contains(err.Error(), "unparseable") {
		t.Errorf("got %v", err)
	}
	big := strings.Repeat("route_request_total{direction=\"outbound\",dst=\"a:1\"} 1\n", 100)
	if _, err := metrics.Parse(strings.NewReader(big), metrics.Limits{MaxBytes: 1000, MaxSeries: 1000}); !errors.Is(err, metrics.ErrTooLarge) {
		t.Errorf("bytes: got %v", err)
	}
	if _, err := metrics.Parse(strings.NewReader(big), metrics.Limits{MaxBytes: 1 << 20, MaxSeries: 10}); !errors.Is(err, metrics.ErrTooLarge) {
		t.Errorf("series: got %v", err)
	}
	// Irrelevant families are not even parsed: garbage there is ignored.
	s, err := metrics.Parse(strings.NewReader("tcp_open_total{x=\"\"\"} 1\nprocess_start_time_seconds 42\n"), metrics.DefaultLimits)
	if err != nil || s.StartTime != 42 {
		t.Errorf("got %v %+v", err, s)
	}
}

func TestExplain(t *testing.T) {
	f := metrics.Facts{Target: "svc/webapp", Scraped: "deploy/traffic", Service: true, Window: "10s"}
	codes := func(n []metrics.Note) string {
		var c []string
		for _, x := range n {
			c = append(c, x.Code)
		}
		return strings.Join(c, ",")
	}
	if got := codes(metrics.Explain(metrics.Result{Proxies: 2}, "outbound", f)); got != metrics.NoteNoTraffic {
		t.Errorf("no traffic: %s", got)
	}
	if got := codes(metrics.Explain(metrics.Result{Proxies: 2, Traffic: 5}, "outbound", f)); got != metrics.NoteNoRouteMetrics {
		t.Errorf("traffic without route metrics: %s", got)
	}
	def := metrics.Result{Rows: []metrics.Row{{API: metrics.APIServiceProfile, Route: metrics.DefaultRoute, Requests: 9}}}
	sf := f
	sf.Profile, sf.ProfileRoutes = "books/webapp.books.svc.cluster.local", 2
	if got := codes(metrics.Explain(def, "outbound", sf)); got != metrics.NoteDefaultOnly {
		t.Errorf("default only: %s", got)
	}
	// Profile deleted, proxies still count its routes.
	stale := metrics.Result{Rows: []metrics.Row{{API: metrics.APIServiceProfile, Route: "GET /", Requests: 9}}}
	n := metrics.Explain(stale, "outbound", f)
	if codes(n) != metrics.NoteStaleProfile || !strings.Contains(n[0].Message, "restart deploy/traffic") {
		t.Errorf("stale: %+v", n)
	}
	// ServiceProfiles not readable: no conclusion about staleness.
	uf := f
	uf.ProfileUnknown = "serviceprofiles.linkerd.io are not readable in namespace books (RBAC)"
	if got := codes(metrics.Explain(stale, "outbound", uf)); got != metrics.NoteProfileUnknown {
		t.Errorf("unknown profile: %s", got)
	}
	pol := metrics.Result{Rows: []metrics.Row{{API: metrics.APIHTTPRoute, Route: "r", Requests: 9}}}
	if got := codes(metrics.Explain(pol, "outbound", sf)); got != metrics.NotePolicyMode {
		t.Errorf("policy mode: %s", got)
	}
	hf := sf
	hf.PolicyRoutes = 2
	if got := codes(metrics.Explain(stale, "outbound", hf)); got != metrics.NoteProfileMode {
		t.Errorf("profile mode: %s", got)
	}
	if got := codes(metrics.Explain(stale, "inbound", hf)); got != metrics.NoteInboundPolicy {
		t.Errorf("inbound with HTTPRoutes: %s", got)
	}
	restarted := stale
	restarted.Restarted = []string{"books/a"}
	if got := codes(metrics.Explain(restarted, "outbound", sf)); got != metrics.NoteRestarted {
		t.Errorf("restart: %s", got)
	}
}

// ParseFor skips only lines that cannot belong to the filter: Compute gives
// the same rows as over the full parse, in both directions.
func TestParseForKeepsWhatComputeUses(t *testing.T) {
	p := metricstest.NewProxy(1)
	before := p.Exposition()
	for _, d := range []string{dst, "authors.books.svc.cluster.local:7001", "webapp.other.svc.cluster.local:7000"} {
		for _, dir := range []string{"outbound", "inbound"} {
			p.RecordSP(metricstest.SPRequest{Direction: dir, Dst: d, Route: "GET /x", Status: 200, LatencyMs: 3}, 7)
			p.RecordSP(metricstest.SPRequest{Direction: dir, Dst: d, Status: 500, Failure: true, LatencyMs: 30, Retries: 1}, 2)
		}
		p.RecordEndpoint("outbound", d, "", "", 3)
	}
	for _, parent := range [][2]string{{"books", "webapp"}, {"books", "authors"}, {"other", "webapp"}} {
		r := policyReq("r", "200", "", 0.1, 1)
		r.ParentNamespace, r.ParentName = parent[0], parent[1]
		p.RecordPolicy(r, 5)
	}
	after := p.Exposition()
	for _, f := range []metrics.Filter{books, {Direction: "inbound", Namespace: "books", Name: "webapp", FQDN: "webapp.books.svc.cluster.local"}, {Direction: "outbound"}, {Direction: "inbound"}} {
		full := metrics.Compute([]metrics.Pair{{Pod: "a",
			Before: metrics.Scrape{At: t0, Snap: mustParse(t, before, nil)}, After: metrics.Scrape{At: t0.Add(time.Second), Snap: mustParse(t, after, nil)}}}, f)
		part := metrics.Compute([]metrics.Pair{{Pod: "a",
			Before: metrics.Scrape{At: t0, Snap: mustParse(t, before, &f)}, After: metrics.Scrape{At: t0.Add(time.Second), Snap: mustParse(t, after, &f)}}}, f)
		a, _ := json.Marshal(full)
		b, _ := json.Marshal(part)
		if string(a) != string(b) || len(full.Rows) == 0 {
			t.Errorf("%+v: full %s\nParseFor %s", f, a, b)
		}
	}
}

func mustParse(t *testing.T, text string, f *metrics.Filter) *metrics.Snapshot {
	t.Helper()
	var s *metrics.Snapshot
	var err error
	if f == nil {
		s, err = metrics.Parse(strings.NewReader(text), metrics.DefaultLimits)
	} else {
		s, err = metrics.ParseFor(strings.NewReader(text), metrics.DefaultLimits, *f)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// gRPC routes: grpc_status names, anything but OK (or an error) fails.
func TestGRPCRoute(t *testing.T) {
	p := metricstest.NewProxy(1)
	b := parse(t, p)
	req := func(status, errLabel string) metricstest.PolicyRequest {
		r := policyReq("books-grpc", status, errLabel, 0.02, 0)
		r.GRPC, r.RouteKind = true, "GRPCRoute"
		return r
	}
	p.RecordPolicy(req("OK", ""), 16)
	p.RecordPolicy(req("NOT_FOUND", ""), 2)
	p.RecordPolicy(req("UNAVAILABLE", ""), 1)
	p.RecordPolicy(req("", "RESPONSE_HEADERS_TIMEOUT"), 1)
	res := metrics.Compute([]metrics.Pair{pair(t, "a", b, parse(t, p), 10*time.Second)}, books)
	r := row(t, res, metrics.APIGRPCRoute, "books-grpc")
	if r.Requests != 20 || r.RPS != 2 {
		t.Errorf("%+v", r)
	}
	near(t, "grpc success", r.Success, 16.0/20)
	near(t, "grpc timeouts", r.TimeoutRate, 1.0/20)
}

// A histogram's buckets are one series per bound: a bound that went down
// is a reset, one that disappeared vanished, one that appeared counts from
// zero, whether the family had a TYPE line (buckets grouped per label set)
// or not (one plain series per bound).
func TestComputeHistogramBounds(t *testing.T) {
	const before = `route_response_latency_ms_bucket{direction="outbound",dst="` + dst + `",rt_route="GET /a",le="10"} 4
route_response_latency_ms_bucket{direction="outbound",dst="` + dst + `",rt_route="GET /a",le="50"} 9
route_response_latency_ms_bucket{direction="outbound",dst="` + dst + `",rt_route="GET /a",le="100"} 10
route_response_latency_ms_bucket{direction="outbound",dst="` + dst + `",rt_route="GET /a",le="+Inf"} 10
route_response_latency_ms_bucket{direction="outbound",dst="` + dst + `",rt_route="GET /a",le="NaN"} 10
route_response_latency_ms_bucket{direction="outbound",dst="` + dst + `",rt_route="GET /gone",le="10"} 1
route_response_latency_ms_bucket{direction="outbound",dst="` + dst + `",rt_route="GET /gone",le="+Inf"} 1
route_response_latency_ms_count{direction="outbound",dst="` + dst + `",rt_route="GET /gone"} 1
`
	const after = `route_response_latency_ms_bucket{direction="outbound",dst="` + dst + `",rt_route="GET /a",le="10"} 14
route_response_latency_ms_bucket{direction="outbound",dst="` + dst + `",rt_route="GET /a",le="20"} 6
route_response_latency_ms_bucket{direction="outbound",dst="` + dst + `",rt_route="GET /a",le="50"} 7
route_response_latency_ms_bucket{direction="outbound",dst="` + dst + `",rt_route="GET /a",le="+Inf"} 30
route_response_latency_ms_bucket{direction="outbound",dst="` + dst + `",rt_route="GET /a",le="NaN"} 10
`
	var results []string
	for _, typ := range []string{"", "# TYPE route_response_latency_ms histogram\n"} {
		b, err := metrics.ParseFor(strings.NewReader(typ+before), metrics.DefaultLimits, books)
		if err != nil {
			t.Fatal(err)
		}
		a, err := metrics.ParseFor(strings.NewReader(typ+after), metrics.DefaultLimits, books)
		if err != nil {
			t.Fatal(err)
		}
		res := metrics.Compute([]metrics.Pair{pair(t, "books/a", b, a, 10*time.Second)}, books)
		// le=50 went 9 -> 7 (reset, counts 7), le=100 vanished, le=20
		// is new (counts 6): deltas 10:10 20:6 50:7 +Inf:20. GET /gone's
		// two bounds vanished (its _count is not read, so not counted). A
		// NaN bound is no bucket (expfmt drops it; without TYPE it is a
		// series that did not change).
		if res.Resets != 1 || res.Vanished != 3 {
			t.Errorf("%q: resets %d vanished %d, want 1 and 3", typ, res.Resets, res.Vanished)
		}
		r := row(t, res, metrics.APIServiceProfile, "GET /a")
		near(t, typ+"p50", r.LatencyMs.P50, 10) // rank 10 of 20 is the whole 10ms bucket
		js, err := json.Marshal(res)
		if err != nil {
			t.Fatalf("%q: %v", typ, err)
		}
		results = append(results, string(js))
	}
	if results[0] != results[1] {
		t.Errorf("TYPE histogram changed the result:\n%s\n%s", results[0], results[1])
	}
}

// Compute splits the pairs between workers and merges their rows: the
// result is the same on one core as on several.
func TestComputeSharesMerge(t *testing.T) {
	// Latencies and failures differ between the halves, so a merge that
	// drops one share's buckets, pods or counts changes the rows.
	var pairs []metrics.Pair
	for i := 0; i < 40; i++ {
		p := metricstest.NewProxy(1000)
		b := parse(t, p)
		lat := 5.0
		if i >= 20 {
			lat = 300
		}
		p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: "GET /books", Status: 200, LatencyMs: lat, Retries: i % 2}, 10+i)
		p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: "GET /books", Status: 503, Failure: true, LatencyMs: lat}, i%3)
		req := policyReq("r", "200", "", lat/1000, i%2)
		if i >= 20 {
			req.BackendName = "webapp-v2"
		}
		p.RecordPolicy(req, 5+i)
		p.RecordEndpoint("outbound", dst, "books", "webapp", 1+i)
		pairs = append(pairs, pair(t, fmt.Sprint("books/p", i), b, parse(t, p), time.Duration(5+i%3)*time.Second))
	}
	var out []string
	for _, procs := range []int{1, 4} {
		old := runtime.GOMAXPROCS(procs)
		res := metrics.Compute(pairs, books)
		runtime.GOMAXPROCS(old)
		if res.Proxies != 40 || len(res.Rows) == 0 {
			t.Fatalf("GOMAXPROCS %d: %d proxies, %d rows", procs, res.Proxies, len(res.Rows))
		}
		js, _ := json.Marshal(res)
		out = append(out, string(js))
	}
	if out[0] != out[1] {
		t.Errorf("one worker and four disagree:\n%s\n%s", out[0], out[1])
	}
}
