package policy

import (
	"reflect"
	"testing"
	"time"

	"github.com/linkerd/linkerd2-proxy-api/go/grpc_route"
	"github.com/linkerd/linkerd2-proxy-api/go/http_route"
	"github.com/linkerd/linkerd2-proxy-api/go/meta"
	pb "github.com/linkerd/linkerd2-proxy-api/go/outbound"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/kubectl-profiles/kubectl-profiles/diag/drift"
)

func svcBackend(ns, name string, port uint32) *pb.Backend {
	return &pb.Backend{
		Metadata: &meta.Metadata{Kind: &meta.Metadata_Resource{Resource: &meta.Resource{Group: "core", Kind: "Service", Namespace: ns, Name: name, Port: port}}},
		Queue:    &pb.Queue{Capacity: 100, FailfastTimeout: durationpb.New(3 * time.Second)},
		Kind: &pb.Backend_Balancer{Balancer: &pb.Backend_BalanceP2C{
			Discovery: &pb.Backend_EndpointDiscovery{Kind: &pb.Backend_EndpointDiscovery_Dst{Dst: &pb.Backend_EndpointDiscovery_DestinationGet{Path: name + "." + ns + ".svc.cluster.local:80"}}},
			Load:      &pb.Backend_BalanceP2C_PeakEwma_{PeakEwma: &pb.Backend_BalanceP2C_PeakEwma{DefaultRtt: durationpb.New(30 * time.Millisecond), Decay: durationpb.New(10 * time.Second)}},
		}},
	}
}

// served is what the reference (§3) says the controller sends for web:80
// with the Service annotated retry.linkerd.io/http: 5xx and
// timeout.linkerd.io/request: 9s, and no routes: detect, the default http
// route carrying the Service's retry and timeouts, and the opaq route.
func served() *pb.OutboundPolicy {
	def := svcBackend("shop", "web", 80)
	httpRoutes := []*pb.HttpRoute{{
		Metadata: &meta.Metadata{Kind: &meta.Metadata_Default{Default: "http"}},
		Rules: []*pb.HttpRoute_Rule{{
			Matches:  []*http_route.HttpRouteMatch{{Path: &http_route.PathMatch{Kind: &http_route.PathMatch_Prefix{Prefix: "/"}}}},
			Backends: &pb.HttpRoute_Distribution{Kind: &pb.HttpRoute_Distribution_FirstAvailable_{FirstAvailable: &pb.HttpRoute_Distribution_FirstAvailable{Backends: []*pb.HttpRoute_RouteBackend{{Backend: def}}}}},
			Timeouts: &http_route.Timeouts{Request: durationpb.New(9 * time.Second)},
			Retry: &pb.HttpRoute_Retry{MaxRetries: 1, MaxRequestBytes: 65536,
				Conditions: &pb.HttpRoute_Retry_Conditions{StatusRanges: []*pb.HttpRoute_Retry_Conditions_StatusRange{{Start: 500, End: 599}}},
				Backoff:    &pb.ExponentialBackoff{MinBackoff: durationpb.New(25 * time.Millisecond), MaxBackoff: durationpb.New(250 * time.Millisecond), JitterRatio: 1}},
		}},
	}}
	return &pb.OutboundPolicy{
		Metadata: &meta.Metadata{Kind: &meta.Metadata_Resource{Resource: &meta.Resource{Group: "core", Kind: "Service", Namespace: "shop", Name: "web", Port: 80}}},
		Protocol: &pb.ProxyProtocol{Kind: &pb.ProxyProtocol_Detect_{Detect: &pb.ProxyProtocol_Detect{
			Timeout: durationpb.New(10 * time.Second),
			Http1:   &pb.ProxyProtocol_Http1{Routes: httpRoutes},
			Http2:   &pb.ProxyProtocol_Http2{Routes: httpRoutes},
			Opaque: &pb.ProxyProtocol_Opaque{Routes: []*pb.OpaqueRoute{{
				Metadata: &meta.Metadata{Kind: &meta.Metadata_Default{Default: "opaq"}},
				Rules: []*pb.OpaqueRoute_Rule{{Backends: &pb.OpaqueRoute_Distribution{Kind: &pb.OpaqueRoute_Distribution_FirstAvailable_{
					FirstAvailable: &pb.OpaqueRoute_Distribution_FirstAvailable{Backends: []*pb.OpaqueRoute_RouteBackend{{Backend: def}}}}}}},
			}}},
		}}},
	}
}

func TestFromProtoMatchesExpected(t *testing.T) {
	got, err := FromProto(served())
	if err != nil {
		t.Fatal(err)
	}
	cl := parse(t, `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, annotations: {retry.linkerd.io/http: 5xx, timeout.linkerd.io/request: 9s}}
spec: {clusterIP: 10.0.0.10, ports: [{port: 80}]}
`)
	want := expectFor(t, cl, "shop", 80).Policy
	if d := Diff(want, got); len(d) != 0 {
		t.Errorf("served and expected differ: %+v", d)
	}
	if got.HTTP2Routes != nil {
		t.Errorf("identical http2 routes must not be repeated")
	}
}

func TestDiffPaths(t *testing.T) {
	m := served()
	m.GetProtocol().GetDetect().GetHttp1().Routes[0].Rules[0].Retry.MaxRetries = 3
	got, _ := FromProto(m)
	base, _ := FromProto(served())
	// http1 and http2 share the routes in served(): one change.
	d := Diff(base, got)
	want := []drift.Change{{Field: "routes[0].rules[0].retry.limit", Expected: "1", Served: "3"}}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("diff %+v", d)
	}
	if d := Diff(nil, base); len(d) != 1 || d[0].Field != "policy" || d[0].Expected != drift.Nothing {
		t.Errorf("nothing expected: %+v", d)
	}
	// Sources are never compared.
	withSrc := *base
	withSrc.Routes = []Route{base.Routes[0]}
	withSrc.Routes[0].Rules = []Rule{base.Routes[0].Rules[0]}
	withSrc.Routes[0].Rules[0].Sources = &Sources{Retry: SourceServiceAnnotation}
	if d := Diff(&withSrc, base); len(d) != 0 {
		t.Errorf("sources compared: %+v", d)
	}
}

func TestFromProtoVariants(t *testing.T) {
	if _, err := FromProto(&pb.OutboundPolicy{}); err == nil {
		t.Error("no protocol must be an error, not an empty policy")
	}
	fa := &pb.FailureAccrual{Kind: &pb.FailureAccrual_ConsecutiveFailures_{ConsecutiveFailures: &pb.FailureAccrual_ConsecutiveFailures{MaxFailures: 7}}}
	p, err := FromProto(&pb.OutboundPolicy{Protocol: &pb.ProxyProtocol{Kind: &pb.ProxyProtocol_Grpc_{Grpc: &pb.ProxyProtocol_Grpc{FailureAccrual: fa,
		Routes: []*pb.GrpcRoute{{Metadata: &meta.Metadata{Kind: &meta.Metadata_Resource{Resource: &meta.Resource{Group: GroupGateway, Kind: "GRPCRoute", Namespace: "shop", Name: "g"}}},
			Hosts: []*http_route.HostMatch{{Match: &http_route.HostMatch_Suffix_{Suffix: &http_route.HostMatch_Suffix{ReverseLabels: []string{"com", "example"}}}}},
			Rules: []*pb.GrpcRoute_Rule{{
				Retry: &pb.GrpcRoute_Retry{MaxRetries: 2, Conditions: &pb.GrpcRoute_Retry_Conditions{DeadineExceeded: true, Unavailable: true}},
				Backends: &pb.GrpcRoute_Distribution{Kind: &pb.GrpcRoute_Distribution_RandomAvailable_{RandomAvailable: &pb.GrpcRoute_Distribution_RandomAvailable{Backends: []*pb.GrpcRoute_WeightedRouteBackend{{
					Weight: 1, Backend: &pb.GrpcRoute_RouteBackend{Backend: &pb.Backend{Metadata: &meta.Metadata{Kind: &meta.Metadata_Default{Default: "invalid"}}},
						Filters: []*pb.GrpcRoute_Filter{{Kind: &pb.GrpcRoute_Filter_FailureInjector{FailureInjector: grpcFailure()}}}}}}}}},
			}}}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	r := p.Routes[0]
	if p.Protocol != GRPC || p.FailureAccrual.Kind != "consecutive" || p.FailureAccrual.MaxFailures != 7 || r.Name != "g" || r.Kind != "GRPCRoute" ||
		!reflect.DeepEqual(r.Hosts, []string{"*.example.com"}) || !reflect.DeepEqual(r.Rules[0].Retry.Conditions, []string{"deadline-exceeded", "unavailable"}) ||
		r.Rules[0].Backends[0].Invalid != "missing port for backend Service x" || r.Rules[0].Backends[0].Ref.Default != "invalid" {
		t.Errorf("%+v", p)
	}
}

func grpcFailure() *grpc_route.GrpcFailureInjector {
	return &grpc_route.GrpcFailureInjector{Code: 500, Message: "missing port for backend Service x"}
}
