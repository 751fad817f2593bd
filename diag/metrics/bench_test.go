package metrics_test

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/diag/metrics"
	"github.com/kubectl-profiles/kubectl-profiles/internal/metricstest"
)

// fleet renders two scrapes of n proxies, each with routes ServiceProfile
// routes (two status codes each, one retried) and routes policy routes
// (HTTPRoute, two statuses, retries), plus per-endpoint series.
func fleet(n, routes int) (before, after [][]byte) {
	for i := 0; i < n; i++ {
		p := metricstest.NewProxy(1000)
		traffic := func(k int) {
			for r := 0; r < routes; r++ {
				name := fmt.Sprintf("GET /api/v1/resource-%02d/{id}", r)
				p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: name, Status: 200, LatencyMs: float64(r%40 + 1)}, 100*k)
				p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: dst, Route: name, Status: 503, Failure: true, LatencyMs: 250, Retries: 1}, k)
				p.RecordPolicy(policyReq(fmt.Sprintf("route-%02d", r), "200", "", 0.03, 0), 50*k)
				p.RecordPolicy(policyReq(fmt.Sprintf("route-%02d", r), "503", "", 0.7, 1), k)
			}
			for e := 0; e < 20; e++ {
				p.RecordEndpoint("outbound", dst, "books", "webapp", k)
			}
		}
		traffic(1)
		before = append(before, []byte(p.Exposition()))
		traffic(2)
		after = append(after, []byte(p.Exposition()))
	}
	return before, after
}

// parseAll parses every exposition on GOMAXPROCS workers, as the command
// does while scrapes arrive.
func parseAll(b *testing.B, texts [][]byte) []*metrics.Snapshot {
	out := make([]*metrics.Snapshot, len(texts))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				s, err := metrics.Parse(bytes.NewReader(texts[i]), metrics.DefaultLimits)
				if err != nil {
					b.Error(err)
					continue
				}
				out[i] = s
			}
		}()
	}
	for i := range texts {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// BenchmarkParseAggregate100x50: 100 proxies, 50 ServiceProfile and 50
// policy routes each, two scrapes: parse all 200 expositions and compute
// the rows. Target: < 200 ms per op.
func BenchmarkParseAggregate100x50(b *testing.B) {
	before, after := fleet(100, 50)
	size := 0
	for _, t := range append(before, after...) {
		size += len(t)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bs, as := parseAll(b, before), parseAll(b, after)
		pairs := make([]metrics.Pair, len(bs))
		for j := range bs {
			pairs[j] = metrics.Pair{Pod: fmt.Sprint(j), Before: metrics.Scrape{At: t0, Snap: bs[j]}, After: metrics.Scrape{At: t0.Add(10 * time.Second), Snap: as[j]}}
		}
		res := metrics.Compute(pairs, books)
		if len(res.Rows) != 100 {
			b.Fatalf("%d rows", len(res.Rows))
		}
	}
}
