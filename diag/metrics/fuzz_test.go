package metrics_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/metrics"
	"github.com/kubectl-profiles/kubectl-profiles/internal/metricstest"
)

// FuzzParse: any input either fails cleanly or yields a snapshot within
// the limits; never a panic, never more series than the bound, never an
// input read beyond MaxBytes.
func FuzzParse(f *testing.F) {
	p := metricstest.NewProxy(1)
	p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: "GET /books", Status: 200, LatencyMs: 7, Retries: 1}, 3)
	p.RecordPolicy(policyReq("r", "200", "", 0.02, 1), 2)
	p.RecordEndpoint("outbound", dst, "books", "webapp", 1)
	f.Add(p.Exposition())
	f.Add("route_request_total{direction=\"outbound\",dst=\"a:1\"} 1\n# EOF\n")
	f.Add("# TYPE route_response_latency_ms histogram\nroute_response_latency_ms_bucket{le=\"+Inf\"} 3\n")
	lim := metrics.Limits{MaxBytes: 4096, MaxSeries: 64}
	f.Fuzz(func(t *testing.T, in string) {
		r := strings.NewReader(in)
		s, err := metrics.Parse(r, lim)
		if consumed := int64(len(in)) - int64(r.Len()); consumed > lim.MaxBytes+1 {
			t.Fatalf("read %d bytes with MaxBytes %d", consumed, lim.MaxBytes)
		}
		if err != nil {
			if s != nil {
				t.Fatal("snapshot with an error")
			}
			if int64(len(in)) <= lim.MaxBytes && errors.Is(err, metrics.ErrTooLarge) && !strings.Contains(err.Error(), "series") && !strings.Contains(err.Error(), "line") {
				t.Fatalf("small input refused as too large: %v", err)
			}
			return
		}
		if int64(len(in)) > lim.MaxBytes {
			t.Fatalf("%d bytes accepted with MaxBytes %d", len(in), lim.MaxBytes)
		}
		// Histograms expand to buckets+count+sum per sample line at most
		// 2 extra series (a missing +Inf bucket, count and sum).
		if len(s.Series) > 3*lim.MaxSeries {
			t.Fatalf("%d series kept, bound %d", len(s.Series), lim.MaxSeries)
		}
		// What was kept aggregates without panicking.
		metrics.Compute([]metrics.Pair{{Pod: "x", Before: metrics.Scrape{Snap: s}, After: metrics.Scrape{Snap: s}}}, metrics.Filter{Direction: "outbound"})
		// The target's subset never holds more than the whole.
		sub, err := metrics.ParseFor(strings.NewReader(in), lim, books)
		if err == nil && len(sub.Series) > len(s.Series) {
			t.Fatalf("ParseFor kept %d series, Parse %d", len(sub.Series), len(s.Series))
		}
		if err == nil {
			metrics.Compute([]metrics.Pair{{Pod: "x", Before: metrics.Scrape{Snap: sub}, After: metrics.Scrape{Snap: s}}}, books)
		}
	})
}
