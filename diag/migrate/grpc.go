package migrate

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/kubectl-profiles/kubectl-profiles/diag/gen"
	"github.com/kubectl-profiles/kubectl-profiles/diag/policy"
)

// Output kinds of Convert.
const (
	KindHTTPRoute = "httproute"
	KindGRPCRoute = "grpcroute"
)

// grpcMatch writes an HTTPRoute match of a gRPC profile route as a
// GRPCRoute method match: POST (or any method) and the path /Service/Method
// as an exact literal, or /Service/ followed by .* or [^/]+ for every method
// of a service.
func grpcMatch(m gatewayv1.HTTPRouteMatch) (gatewayv1.GRPCRouteMatch, string) {
	var out gatewayv1.GRPCRouteMatch
	if m.Method != nil && *m.Method != "POST" {
		return out, fmt.Sprintf("method %s: gRPC requests are POST", *m.Method)
	}
	if m.Path == nil || m.Path.Value == nil {
		return out, "no path: a GRPCRoute match needs a service or a method"
	}
	v := *m.Path.Value
	switch *m.Path.Type {
	case gatewayv1.PathMatchExact:
		parts := strings.Split(v, "/")
		if len(parts) != 3 || parts[1] == "" || parts[2] == "" {
			return out, fmt.Sprintf("path %s is not /<package>.<Service>/<Method>", v)
		}
		out.Method = &gatewayv1.GRPCMethodMatch{Type: ptr(gatewayv1.GRPCMethodMatchExact), Service: ptr(parts[1]), Method: ptr(parts[2])}
	default:
		re := strings.TrimSuffix(strings.TrimPrefix(v, "^"), "$")
		for _, rest := range []string{".*", "[^/]+", "[^/]*", ".+"} {
			if svc, ok := strings.CutSuffix(re, "/"+rest); ok {
				if lit, isLit := literal(svc); isLit && strings.HasPrefix(lit, "/") && !strings.Contains(lit[1:], "/") && len(lit) > 1 {
					out.Method = &gatewayv1.GRPCMethodMatch{Type: ptr(gatewayv1.GRPCMethodMatchExact), Service: ptr(lit[1:])}
					return out, ""
				}
			}
		}
		return out, fmt.Sprintf("path regex %s is neither one method nor every method of one service", v)
	}
	return out, ""
}

// GRPCRetryConditions is the retry.linkerd.io/grpc value of retryable
// routes: every status Linkerd can retry (a gRPC profile route classes any
// non-OK grpc-status as a failure).
var GRPCRetryConditions = gen.GRPCRetryAnnotations[policy.AnnotationRetryGRPC]

// grpcRoutes groups the rules by class; exact service and method matches of
// different rules never tie, so the grouping changes no match.
func grpcRoutes(t gen.Target, rules []gatewayv1.GRPCRouteRule, classes []gen.Class) ([]*gatewayv1.GRPCRoute, []gen.Placed) {
	var order []gen.Class
	byClass := map[gen.Class]*gatewayv1.GRPCRoute{}
	for _, c := range classes {
		if byClass[c] == nil {
			byClass[c] = &gatewayv1.GRPCRoute{}
			order = append(order, c)
		}
	}
	var out []*gatewayv1.GRPCRoute
	for i, c := range order {
		name := t.Service
		if len(order) > 1 {
			name = fmt.Sprintf("%s-%02d", t.Service, i+1)
			if c.Retry != "" {
				name += gen.RetrySuffix
			}
		}
		ann := map[string]string{}
		if c.Retry != "" {
			ann[policy.AnnotationRetryGRPC] = c.Retry
			ann[policy.AnnotationRetryLimit] = gen.GRPCRetryAnnotations[policy.AnnotationRetryLimit]
		}
		if c.Timeout != "" {
			ann[policy.AnnotationTimeoutRequest] = c.Timeout
		}
		if len(ann) == 0 {
			ann = nil
		}
		r := &gatewayv1.GRPCRoute{
			TypeMeta:   metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "GRPCRoute"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: t.Namespace, Annotations: ann},
			Spec:       gatewayv1.GRPCRouteSpec{CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{parentRef(t)}}},
		}
		byClass[c] = r
		out = append(out, r)
	}
	placed := make([]gen.Placed, len(rules))
	for i, rule := range rules {
		r := byClass[classes[i]]
		r.Spec.Rules = append(r.Spec.Rules, rule)
		placed[i] = gen.Placed{Route: r.Name, Rule: len(r.Spec.Rules) - 1}
	}
	return out, placed
}
