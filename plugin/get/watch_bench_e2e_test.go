package get_test

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
)

// BenchmarkWatchChangeToLine: from a ServiceProfile update on the test API
// server (the Update call starts) to the line `get --watch` prints for it
// (read from its stdout): the API write, both informers (the test
// destination's and the plugin's), the push, the matching and the
// re-render. Reports the median and p90 in ms.
func BenchmarkWatchChangeToLine(b *testing.B) {
	if env == nil {
		b.Skip("needs the test environment (not with -short)")
	}
	setup(b)
	ctx := context.Background()
	if err := env.Apply(ctx, watchNS, liveSP("1s")); err != nil {
		b.Fatal(err)
	}
	l := start(b, "get", "svc/web", "-n", "live", "--destination-addr", dest.Addr(), "--timeout", "5s", "--watch")
	l.next(`watching 1 stream\(s\)`)
	res := env.Dynamic.Resource(kube.ServiceProfiles).Namespace("live")
	var took []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		sp, err := res.Get(ctx, "web.live.svc.cluster.local", metav1.GetOptions{})
		if err != nil {
			b.Fatal(err)
		}
		d := time.Duration(1000+(i+1)%5000) * time.Millisecond
		timeout := fmt.Sprintf("%.3fs", d.Seconds()) // as protojson writes it
		routes, _, _ := unstructured.NestedSlice(sp.Object, "spec", "routes")
		routes[0].(map[string]interface{})["timeout"] = fmt.Sprintf("%dms", d.Milliseconds())
		_ = unstructured.SetNestedSlice(sp.Object, routes, "spec", "routes")
		b.StartTimer()
		t0 := time.Now()
		if _, err := res.Update(ctx, sp, metav1.UpdateOptions{}); err != nil {
			b.Fatal(err)
		}
		l.next(`-> destination pushed .*timeout .* -> ` + regexp.QuoteMeta(timeout) + `$`)
		took = append(took, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(took[len(took)*9/10].Microseconds())/1000, "ms-p90")
	l.stop()
}

// BenchmarkWatchRouteChangeToLine: from an HTTPRoute update on the test
// API server (the apply starts) to the line `get --watch` prints for the
// policy controller's push (read from its stdout): the API write, both
// informers (the test policy controller's and the plugin's), the
// controller's recomputation, the push, the matching. Reports the median
// and p90 in ms.
func BenchmarkWatchRouteChangeToLine(b *testing.B) {
	if env == nil {
		b.Skip("needs the test environment (not with -short)")
	}
	setup(b)
	ctx := context.Background()
	if err := env.Apply(ctx, policyWatchNS, livepRoute("1s")); err != nil {
		b.Fatal(err)
	}
	l := start(b, "get", "svc/web", "-n", "livep", "--destination-addr", dest.Addr(), "--timeout", "5s", "--watch")
	l.next(`watching 1 stream\(s\)`)
	var took, applied []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		timeout := fmt.Sprintf("%ds", 2+i%1000)
		t0 := time.Now()
		if err := env.Apply(ctx, livepRoute(timeout)); err != nil {
			b.Fatal(err)
		}
		applied = append(applied, time.Since(t0))
		l.next(`-> policy controller pushed .*timeouts\.request .* -> ` + regexp.QuoteMeta(timeout) + `$`)
		took = append(took, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(applied, func(i, j int) bool { return applied[i] < applied[j] })
	b.ReportMetric(float64(applied[len(applied)/2].Microseconds())/1000, "ms-apply-median")
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(took[len(took)*9/10].Microseconds())/1000, "ms-p90")
	l.stop()
}
