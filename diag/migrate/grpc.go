package migrate

import (
	"fmt"
	"strings"

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
