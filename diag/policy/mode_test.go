package policy

import (
	"strings"
	"testing"

	dpb "github.com/linkerd/linkerd2-proxy-api/go/destination"
)

// Reference §5.
func TestDecide(t *testing.T) {
	const fqn = "web.shop.svc.cluster.local"
	route := []*dpb.Route{{}}
	dst := []*dpb.WeightedDst{{Authority: "web-v2.shop.svc.cluster.local:80", Weight: 10000}}
	httpPol := &Policy{Protocol: Detect, Routes: []Route{{Kind: "HTTPRoute", Name: "r"}}}
	defPol := &Policy{Protocol: Detect, Routes: []Route{{Default: "http"}}}
	opaquePol := &Policy{Protocol: Opaque}
	cases := []struct {
		name    string
		profile *dpb.DestinationProfile
		pol     *Policy
		mode    Mode
		proto   Protocol
		reason  string // substring
	}{
		{"profile with routes wins", &dpb.DestinationProfile{FullyQualifiedName: fqn, Routes: route}, httpPol, ModeServiceProfile, Detect, "has 1 route: HTTPRoutes"},
		{"dstOverrides alone win", &dpb.DestinationProfile{FullyQualifiedName: fqn, DstOverrides: dst}, httpPol, ModeServiceProfile, Detect, "1 dstOverride"},
		{"profile without routes is ignored", &dpb.DestinationProfile{FullyQualifiedName: fqn, RetryBudget: &dpb.RetryBudget{}}, httpPol, ModePolicy, Detect, "no routes and no dstOverrides"},
		{"empty profile: policy", &dpb.DestinationProfile{}, defPol, ModePolicy, Detect, "the default route"},
		{"no profile: policy", nil, httpPol, ModePolicy, Detect, "HTTPRoutes"},
		{"routes without a name do not count", &dpb.DestinationProfile{Routes: route}, httpPol, ModePolicy, Detect, "no fully qualified name"},
		{"opaque profile with routes: policy", &dpb.DestinationProfile{FullyQualifiedName: fqn, Routes: route, OpaqueProtocol: true}, httpPol, ModePolicy, Opaque, "profile marks the port opaque"},
		{"opaque profile with dstOverrides: profile", &dpb.DestinationProfile{FullyQualifiedName: fqn, DstOverrides: dst, OpaqueProtocol: true}, httpPol, ModeServiceProfile, Opaque, "dstOverride"},
		{"opaque policy ignores profile routes", &dpb.DestinationProfile{FullyQualifiedName: fqn, Routes: route}, opaquePol, ModePolicy, Opaque, "policy marks the port opaque"},
		{"grpc policy, profile routes: profile", &dpb.DestinationProfile{FullyQualifiedName: fqn, Routes: route}, &Policy{Protocol: GRPC}, ModeServiceProfile, GRPC, "GRPCRoutes"},
		{"tls policy ignores dstOverrides", &dpb.DestinationProfile{FullyQualifiedName: fqn, DstOverrides: dst}, &Policy{Protocol: TLS}, ModePolicy, TLS, "TLS routes"},
		{"NotFound policy", &dpb.DestinationProfile{}, nil, ModePolicy, Detect, "forwards to the original destination"},
	}
	for _, c := range cases {
		d := Decide(c.profile, c.pol)
		if d.Mode != c.mode || d.Protocol != c.proto || !strings.Contains(d.Reason, c.reason) {
			t.Errorf("%s: got %+v; want %s %s ~%q", c.name, d, c.mode, c.proto, c.reason)
		}
		if strings.Contains(d.Reason, "\n") {
			t.Errorf("%s: reason is not one line", c.name)
		}
	}
}
