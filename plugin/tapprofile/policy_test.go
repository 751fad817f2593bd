package tapprofile

import (
	"context"
	"errors"
	"testing"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

type fixedProfile struct{ dp *pb.DestinationProfile }

func (f fixedProfile) Profile(context.Context, Key) (*pb.DestinationProfile, string, error) {
	return f.dp, "", nil
}

type fixedPolicy struct {
	pol *dpolicy.Policy
	err error
}

func (f fixedPolicy) Policy(context.Context, Key) (*dpolicy.Policy, string, error) {
	return f.pol, "", f.err
}

func outboundTo(path string) *tapclient.Event {
	return &tapclient.Event{Direction: tapclient.DirectionOutbound, Kind: tapclient.KindRequest, Method: "GET", Path: path,
		Authority:   "books.lib.svc.cluster.local:7002",
		Source:      tapclient.Endpoint{Labels: map[string]string{"namespace": "web"}},
		Destination: tapclient.Endpoint{Labels: map[string]string{"service": "books", "namespace": "lib"}}}
}

// The mode follows diag/policy.Decide on both answers; a policy lookup
// that fails leaves the request unclassified unless the profile decides.
func TestClassifyByMode(t *testing.T) {
	withRoutes := &pb.DestinationProfile{FullyQualifiedName: "books.lib.svc.cluster.local",
		Routes: []*pb.Route{{Condition: &pb.RequestMatch{Match: &pb.RequestMatch_Path{Path: &pb.PathMatch{Regex: "/books"}}},
			MetricsLabels: map[string]string{"route": "books"}}}}
	empty := &pb.DestinationProfile{FullyQualifiedName: "books.lib.svc.cluster.local"}
	pol := &dpolicy.Policy{Protocol: dpolicy.Detect, Routes: []dpolicy.Route{{Kind: "HTTPRoute", Namespace: "lib", Name: "books",
		Rules: []dpolicy.Rule{{Matches: []dpolicy.Match{{Path: "prefix:/books"}}}}}}}
	for _, c := range []struct {
		name   string
		dp     *pb.DestinationProfile
		pol    fixedPolicy
		path   string
		status Status
		route  string
		mode   dpolicy.Mode
		reason string
	}{
		{"profile with routes wins", withRoutes, fixedPolicy{pol: pol}, "/books", Matched, "books", dpolicy.ModeServiceProfile, ""},
		{"profile with routes wins even when the policy lookup fails", withRoutes, fixedPolicy{err: errors.New("down")}, "/books", Matched, "books", dpolicy.ModeServiceProfile, ""},
		{"empty profile: policy rule", empty, fixedPolicy{pol: pol}, "/books/1", PolicyMatched, "HTTPRoute/lib/books#rule1", dpolicy.ModePolicy, ""},
		{"empty profile: no rule is the proxy's 404", empty, fixedPolicy{pol: pol}, "/bookstore", PolicyNoRoute, "", dpolicy.ModePolicy, ""},
		{"empty profile, policy lookup failed: unknown", empty, fixedPolicy{err: errors.New("down")}, "/books", Unknown, "", "", ReasonPolicyFailed},
		{"no client policy (NotFound): forwarded, no route", empty, fixedPolicy{}, "/books", NoRoutes, "", dpolicy.ModePolicy, ""},
		{"opaque policy: not HTTP-routed", empty, fixedPolicy{pol: &dpolicy.Policy{Protocol: dpolicy.Opaque}}, "/books", Unknown, "", dpolicy.ModePolicy, ReasonOpaque},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl := &Classifier{Resolver: Resolver{ClusterDomain: "cluster.local"}, Source: fixedProfile{c.dp}, Policies: c.pol}
			res := cl.Classify(context.Background(), outboundTo(c.path))
			cl.Wait()
			route := res.Route
			if res.Mode == dpolicy.ModePolicy {
				route = res.PolicyRoute
			}
			if res.Status != c.status || route != c.route || res.Mode != c.mode || res.Reason != c.reason {
				t.Errorf("got %v %q mode %q reason %q", res.Status, route, res.Mode, res.Reason)
			}
		})
	}
}
