package metrics_test

import (
	"os"
	"testing"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/diag/metrics"
)

// Hand-written exposition text (testdata/proxy-*.prom) in the proxy's
// layout: legacy text with the per-endpoint and route_* families, then the
// OpenMetrics part (_total counters under TYPE lines without it, histogram
// _sum/_count before the buckets, le first, "1.0"-style bounds, # UNIT,
// # EOF). Expected values worked out by hand from the two files.
func TestHandWrittenExposition(t *testing.T) {
	read := func(name string) *metrics.Snapshot {
		f, err := os.Open("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		s, err := metrics.ParseFor(f, metrics.DefaultLimits, books)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before, after := read("proxy-before.prom"), read("proxy-after.prom")
	if before.StartTime != 1798000000 {
		t.Errorf("start time %v", before.StartTime)
	}
	res := metrics.Compute([]metrics.Pair{{Pod: "books/traffic-1", Before: metrics.Scrape{At: t0, Snap: before}, After: metrics.Scrape{At: t0.Add(10 * time.Second), Snap: after}}}, books)
	if res.Traffic != 410 || res.Resets != 0 || res.Vanished != 0 || len(res.Rows) != 3 {
		t.Fatalf("traffic %v resets %d vanished %d rows %+v", res.Traffic, res.Resets, res.Vanished, res.Rows)
	}

	sp := row(t, res, metrics.APIServiceProfile, "GET /books")
	if sp.Requests != 300 || sp.RPS != 30 || sp.Dst != "webapp.books.svc.cluster.local:7000" {
		t.Errorf("sp %+v", sp)
	}
	near(t, "sp success", sp.Success, 280.0/300)
	near(t, "sp actual success", sp.ActualSuccess, 280.0/330)
	near(t, "sp retry rate", sp.RetryRate, 0.1)
	near(t, "sp p50", sp.LatencyMs.P50, 8.75)
	near(t, "sp p95", sp.LatencyMs.P95, 10+40*85.0/90)
	near(t, "sp p99 (in +Inf: the largest finite bound)", sp.LatencyMs.P99, 50)

	def := row(t, res, metrics.APIServiceProfile, metrics.DefaultRoute)
	near(t, "default success (404 is a success by default)", def.Success, 1)
	if def.Requests != 10 {
		t.Errorf("default %+v", def)
	}

	pol := row(t, res, metrics.APIHTTPRoute, "webapp-routes")
	if pol.Requests != 100 || pol.RPS != 10 || pol.Attempts == nil || *pol.Attempts != 106 || len(pol.Backends) != 1 || pol.Backends[0].Name != "webapp-v2" {
		t.Errorf("policy %+v", pol)
	}
	near(t, "policy success", pol.Success, 0.95)
	near(t, "policy timeouts", pol.TimeoutRate, 0.05)
	near(t, "policy retries", pol.RetryRate, 0.06)
	near(t, "policy actual success", pol.ActualSuccess, 95.0/106)
	near(t, "policy p50", pol.LatencyMs.P50, 31.25)
	near(t, "policy p95", pol.LatencyMs.P95, 1000)
	near(t, "policy p99", pol.LatencyMs.P99, 8200)
	if got := pol.Target(); got != "webapp.books:7000" {
		t.Errorf("target %q", got)
	}
}
