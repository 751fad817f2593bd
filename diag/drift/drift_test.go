package drift

import (
	"testing"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	metapb "github.com/linkerd/linkerd2-proxy-api/go/meta"
	"google.golang.org/protobuf/types/known/durationpb"
)

func route(name string, timeoutSec int64) *pb.Route {
	r := &pb.Route{
		Condition:     &pb.RequestMatch{Match: &pb.RequestMatch_Path{Path: &pb.PathMatch{Regex: "/" + name}}},
		MetricsLabels: map[string]string{"route": name},
	}
	if timeoutSec > 0 {
		r.Timeout = &durationpb.Duration{Seconds: timeoutSec}
	}
	return r
}

func TestCompare(t *testing.T) {
	base := func() *pb.DestinationProfile {
		return &pb.DestinationProfile{FullyQualifiedName: "web.ns.svc.cluster.local", Routes: []*pb.Route{route("a", 1), route("b", 0)}}
	}
	tests := []struct {
		name     string
		expected *pb.DestinationProfile
		served   *pb.DestinationProfile
		want     []Change
	}{
		{"both silent", nil, nil, nil},
		{"equal", base(), base(), nil},
		{"served silent", base(), nil, []Change{{Field: "profile", Served: Nothing}}},
		{"expected silent", nil, base(), []Change{{Field: "profile", Expected: Nothing}}},
		{"timeout differs", base(), func() *pb.DestinationProfile { p := base(); p.Routes[0].Timeout = nil; return p }(),
			[]Change{{Field: "routes[0].timeout", Expected: `"1s"`, Served: ""}}},
		{"route missing", base(), func() *pb.DestinationProfile { p := base(); p.Routes = p.Routes[:1]; return p }(),
			[]Change{{Field: "routes[1]", Served: ""}}},
		{"opaque flipped", base(), func() *pb.DestinationProfile { p := base(); p.OpaqueProtocol = true; return p }(),
			[]Change{{Field: "opaqueProtocol", Expected: "", Served: "true"}}},
		{"empty vs absent list", &pb.DestinationProfile{Routes: []*pb.Route{}}, &pb.DestinationProfile{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(tt.expected, tt.served)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d changes %+v, want %d %+v", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				if got[i].Field != tt.want[i].Field {
					t.Errorf("change %d field = %q, want %q", i, got[i].Field, tt.want[i].Field)
				}
				// Compare only the values the case pins down.
				if tt.want[i].Expected != "" && got[i].Expected != tt.want[i].Expected {
					t.Errorf("change %d expected = %q, want %q", i, got[i].Expected, tt.want[i].Expected)
				}
				if tt.want[i].Served != "" && got[i].Served != tt.want[i].Served {
					t.Errorf("change %d served = %q, want %q", i, got[i].Served, tt.want[i].Served)
				}
			}
		})
	}
}

func TestCompareIgnoresProfileRefKind(t *testing.T) {
	ref := func(kind, name string) *pb.DestinationProfile {
		return &pb.DestinationProfile{ProfileRef: &metapb.Metadata{Kind: &metapb.Metadata_Resource{
			Resource: &metapb.Resource{Group: "linkerd.io", Kind: kind, Name: name}}}}
	}
	if got := Compare(ref("ServiceProfile", "a"), ref("", "a")); len(got) != 0 {
		t.Fatalf("kind difference reported as drift: %+v", got)
	}
	if got := Compare(ref("ServiceProfile", "a"), ref("ServiceProfile", "b")); len(got) != 1 || got[0].Field != "profileRef.resource.name" {
		t.Fatalf("name difference not reported: %+v", got)
	}
}
