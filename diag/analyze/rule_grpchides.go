package analyze

import dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"

// One GRPCRoute on a port with appProtocol unset or kubernetes.io/h2c hides
// every HTTPRoute there (reference §3.1).
var _ = register(Analyzer{
	Name:  "grpcroute-hides-httproutes",
	Codes: []string{CodeGRPCRouteHides},
	Needs: []Scope{PolicyPath},
	Run: func(f *Facts, e *Emitter) {
		for _, v := range f.PolicyPath.Expected.Routes {
			if v.Reason != dpolicy.ReasonHiddenByGRPC {
				continue
			}
			here := "this port"
			if f.PolicyPath.Target.Port == AnyPort {
				here = "the same ports"
			}
			e.At(CodeGRPCRouteHides, nil, "HTTPRoute %s/%s (%s) is hidden on %s: a GRPCRoute on %s makes the controller serve only GRPCRoutes (HTTP/2, no protocol detection); move the HTTPRoute to another port, or set appProtocol: http on the port",
				v.Namespace, v.Name, v.Group, f.PolicyPath.port(), here)
		}
	},
})
