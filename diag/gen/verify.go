package gen

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/kubectl-profiles/kubectl-profiles/diag/analyze"
	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/lang"
	"github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/policymatch"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/proxy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
)

// CheckProfile runs check's analyzers (diag/analyze, the file mode of
// `kubectl profiles check`) on sp and returns the issues at or above level.
func CheckProfile(sp *profile.ServiceProfile, clusterDomain string, level finding.Level) ([]analyze.Issue, error) {
	obj, err := Object(sp)
	if err != nil {
		return nil, err
	}
	doc := source.FromObject(obj)
	res := analyze.Check(&doc, analyze.Options{ClusterDomain: clusterDomain})
	var out []analyze.Issue
	for _, is := range res.Issues {
		if is.Level >= level {
			out = append(out, is)
		}
	}
	return out, nil
}

// ServedProfile is the profile as the proxy gets and keeps it: translated
// as the destination controller does (diag/translate), then converted as the
// proxy does (diag/proxy).
func ServedProfile(sp *profile.ServiceProfile, t Target) (*proxy.Profile, error) {
	domain := t.ClusterDomain
	if domain == "" {
		domain = profile.DefaultClusterDomain
	}
	port := uint32(t.Port)
	if port == 0 {
		port = 80
	}
	dp, _, err := translate.Profile(sp, translate.Target{
		Service: profile.ServiceRef{Name: t.Service, Namespace: t.Namespace}, Port: port,
		FQDN: profile.FQDN(t.Service, t.Namespace, domain), ProfileNS: t.Namespace,
	})
	if err != nil {
		return nil, err
	}
	p, _ := proxy.Convert(dp)
	return p, nil
}

// VerifyProfile checks, with the proxy's own matching (diag/proxy), that
// the sample request of every endpoint gets exactly the route made for it:
// route i for eps[i]. It returns one line per endpoint that does not.
func VerifyProfile(sp *profile.ServiceProfile, t Target, eps []Endpoint) ([]string, error) {
	p, err := ServedProfile(sp, t)
	if err != nil {
		return nil, err
	}
	var bad []string
	var eng *lang.Engine
	for i, ep := range eps {
		method, sample := ep.SampleMethod(), ep.Sample()
		idx, name, ok := p.Match(method, sample)
		if !ok || idx != i {
			if eng == nil {
				eng = lang.NewEngine(0)
			}
			if w, found := Witness(eng, eps, i); found {
				sample = w
				idx, name, ok = p.Match(method, sample)
			}
		}
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s %s matches no route, not %q", method, sample, ep.Name()))
		case idx != i:
			bad = append(bad, fmt.Sprintf("%s %s gets route %q, not %q", method, sample, name, ep.Name()))
		}
	}
	return bad, nil
}

// Epoch is the creation time Simulate gives every route: routes created by
// one `kubectl apply` of one file share it to the second, so the
// controller orders them by name.
var Epoch = metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))

// Simulate returns what Linkerd's policy controller would serve for the
// Service with these annotations and routes, once they are accepted
// (diag/policy's model of the controller). The Service has port t.Port
// (80 when 0), without appProtocol.
func Simulate(t Target, svcAnnotations map[string]string, https []*gatewayv1.HTTPRoute, grpcs []*gatewayv1.GRPCRoute) policy.Expected {
	port := t.Port
	if port == 0 {
		port = 80
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: t.Service, Namespace: t.Namespace, Annotations: svcAnnotations},
		Spec:       corev1.ServiceSpec{ClusterIP: "10.0.0.1", Ports: []corev1.ServicePort{{Name: "http", Port: port}}},
	}
	status := gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{{
		ParentRef:      parentRef(t),
		ControllerName: "linkerd.io/policy-controller",
		Conditions:     []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted"}},
	}}}
	c := &policy.Cluster{Services: []*corev1.Service{svc}}
	for _, r := range https {
		r = r.DeepCopy()
		r.CreationTimestamp = Epoch
		r.Status.RouteStatus = status
		c.HTTPRoutes = append(c.HTTPRoutes, policy.HTTPRoute{Group: policy.GroupGateway, HTTPRoute: r})
	}
	for _, r := range grpcs {
		r = r.DeepCopy()
		r.CreationTimestamp = Epoch
		r.Status.RouteStatus = status
		c.GRPCRoutes = append(c.GRPCRoutes, r)
	}
	return policy.Expect(policy.Target{Service: svc, Port: port, ClientNamespace: t.Namespace}, c, policy.Options{ClusterDomain: t.ClusterDomain})
}

// VerifyRoutes checks that the controller serves every route (none dropped
// by a conversion failure) and that the sample request of every endpoint
// gets exactly the rule made for it under the proxy's precedence
// (diag/policymatch, one Matcher for all samples).
func VerifyRoutes(exp policy.Expected, eps []Endpoint, placed []Placed) []string {
	var bad []string
	for _, v := range exp.Routes {
		if v.Reason != policy.ReasonServed {
			bad = append(bad, fmt.Sprintf("%s %s would not be served: %s %s", v.Kind, v.Name, v.Reason, v.Detail))
		}
	}
	if len(bad) > 0 || exp.Policy == nil {
		return bad
	}
	m, err := policymatch.New(exp.Policy)
	if err != nil {
		return append(bad, fmt.Sprintf("the proxy would reject the routes: %v", err))
	}
	routes := m.Routes()
	var req policymatch.Request
	var eng *lang.Engine
	for i, ep := range eps {
		req.Method, req.Path = ep.SampleMethod(), ep.Sample()
		res := m.Match(&req)
		want := placed[i]
		if res.Outcome != policymatch.Matched || routes[res.Route].Name != want.Route || res.Rule != want.Rule {
			if eng == nil {
				eng = lang.NewEngine(0)
			}
			if w, found := Witness(eng, eps, i); found {
				req.Path = w
				res = m.Match(&req)
			}
		}
		switch {
		case res.Outcome == policymatch.NoRoute:
			bad = append(bad, fmt.Sprintf("%s %s matches no rule (would get a 404), not %s rule %d", req.Method, req.Path, want.Route, want.Rule))
		case res.Outcome == policymatch.Undecided:
			bad = append(bad, fmt.Sprintf("%s %s may get %s rule %d: cannot be decided (a query-param match, or a regex Go reads differently from the proxy), want %s rule %d", req.Method, req.Path, routes[res.Route].Name, res.Rule, want.Route, want.Rule))
		case routes[res.Route].Name != want.Route || res.Rule != want.Rule:
			bad = append(bad, fmt.Sprintf("%s %s gets %s rule %d, not %s rule %d (%s)", req.Method, req.Path, routes[res.Route].Name, res.Rule, want.Route, want.Rule, ep.Name()))
		}
	}
	return bad
}
