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

// fleet renders two scrapes of n proxies with routes routes each, spread
// over services Services (the first is the target, webapp): even routes are
// ServiceProfile routes (two status codes, the failing one retried), odd
// ones HTTPRoute rules (two statuses, retries, one backend), plus
// per-endpoint series. A proxy with 50 routes exposes about 600 KB.
func fleet(n, routes, services int) (before, after [][]byte) {
	for i := 0; i < n; i++ {
		p := metricstest.NewProxy(1000)
		traffic := func(k int) {
			for r := 0; r < routes; r++ {
				svc := "webapp"
				if s := r % services; s > 0 {
					svc = fmt.Sprintf("svc-%d", s)
				}
				d := svc + ".books.svc.cluster.local:7000"
				if r%2 == 0 {
					name := fmt.Sprintf("GET /api/v1/resource-%02d/{id}", r)
					p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: d, Route: name, Status: 200, LatencyMs: float64(r%40 + 1)}, 100*k)
					p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: d, Route: name, Status: 503, Failure: true, LatencyMs: 250, Retries: 1}, k)
					continue
				}
				req := policyReq(fmt.Sprintf("route-%02d", r), "200", "", 0.03, 0)
				req.ParentName, req.BackendName = svc, svc
				p.RecordPolicy(req, 50*k)
				req.Status, req.LatencySeconds, req.Retries = "503", 0.7, 1
				p.RecordPolicy(req, k)
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
				s, err := metrics.ParseFor(bytes.NewReader(texts[i]), metrics.DefaultLimits, books)
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

// BenchmarkParseAggregate100x50: 100 proxies, 50 routes each (25
// ServiceProfile, 25 HTTPRoute), two scrapes: parse all 200 expositions
// and compute the rows. Services=1: every route is the target's, so every
// line is parsed (worst case); Services=5: the proxies also call 4 other
// Services, whose lines ParseFor skips. Target: < 200 ms per op.
func BenchmarkParseAggregate100x50(b *testing.B) {
	for _, services := range []int{1, 5} {
		b.Run(fmt.Sprintf("services=%d", services), func(b *testing.B) {
			before, after := fleet(100, 50, services)
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
				if want := 50 / services; len(res.Rows) != want {
					b.Fatalf("%d rows, want %d", len(res.Rows), want)
				}
			}
		})
	}
}

// BenchmarkParseOne: one proxy's exposition with 50 routes, all the
// target's, on one core.
func BenchmarkParseOne(b *testing.B) {
	before, _ := fleet(1, 50, 1)
	b.SetBytes(int64(len(before[0])))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := metrics.ParseFor(bytes.NewReader(before[0]), metrics.DefaultLimits, books); err != nil {
			b.Fatal(err)
		}
	}
}
