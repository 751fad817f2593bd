package metricstest

import (
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The exposition has the documented shape (proxy-metrics.md §1.1, §2, §3,
// §6): legacy text first, OpenMetrics part last ending with # EOF; default
// route series without rt_route; OpenMetrics counters typed without _total
// and sampled with it; legacy latency buckets in ms.
func TestExpositionShape(t *testing.T) {
	p := NewProxy(42)
	p.RecordSP(SPRequest{Direction: "outbound", Dst: "w.b.svc.cluster.local:7000", Route: "GET /", Status: 200, LatencyMs: 3, Retries: 1}, 2)
	p.RecordSP(SPRequest{Direction: "outbound", Dst: "w.b.svc.cluster.local:7000", Status: 200, LatencyMs: 3}, 1)
	p.RecordPolicy(PolicyRequest{ParentNamespace: "b", ParentName: "w", ParentPort: "7000", RouteKind: "HTTPRoute", RouteGroup: "gateway.networking.k8s.io",
		RouteNamespace: "b", RouteName: "r", Status: "200", BackendNamespace: "b", BackendName: "w", BackendPort: "7000", LatencySeconds: 0.2}, 3)
	text := p.Exposition()
	if !strings.HasSuffix(text, "# EOF\n") {
		t.Error("no # EOF at the end")
	}
	if strings.Index(text, "route_request_total") > strings.Index(text, "outbound_http_route_") {
		t.Error("legacy part after the OpenMetrics part")
	}
	for _, want := range []string{
		`route_request_total{direction="outbound",dst="w.b.svc.cluster.local:7000"} 1`,
		`route_request_total{direction="outbound",dst="w.b.svc.cluster.local:7000",rt_route="GET /"} 2`,
		`route_actual_request_total{direction="outbound",dst="w.b.svc.cluster.local:7000",rt_route="GET /"} 4`,
		`route_response_latency_ms_bucket{direction="outbound",dst="w.b.svc.cluster.local:7000",rt_route="GET /",status_code="200",le="50000"} 2`,
		"# TYPE outbound_http_route_request_statuses counter\n",
		`outbound_http_route_request_statuses_total{parent_group="core",parent_kind="Service",parent_namespace="b",parent_name="w",parent_port="7000",parent_section_name="",route_group="gateway.networking.k8s.io",route_kind="HTTPRoute",route_namespace="b",route_name="r",hostname="",http_status="200",error=""} 3`,
		`outbound_http_route_request_duration_seconds_bucket{le="0.5",`,
		"# UNIT outbound_http_route_request_duration_seconds seconds\n",
		"process_start_time_seconds 42\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if f := fams["outbound_http_route_request_duration_seconds"]; f == nil || f.GetType().String() != "HISTOGRAM" || len(f.Metric[0].Histogram.Bucket) != len(RouteBucketsSeconds)+1 {
		t.Errorf("route duration histogram: %v", f)
	}
	if len(LegacyBucketsMs) != 25 || len(BackendBucketsSeconds) != 7 {
		t.Error("bucket bounds differ from the reference")
	}
}
