package analyze

import dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"

// A route the controller cannot convert is dropped whole, whatever its
// status says.
var _ = register(Analyzer{
	Name:  "route-dropped-by-controller",
	Codes: []string{CodeRouteDroppedByController},
	Needs: []Scope{PolicyPath},
	Run: func(f *Facts, e *Emitter) {
		for _, v := range f.PolicyPath.Expected.Routes {
			if v.Reason != dpolicy.ReasonConversion {
				continue
			}
			e.At(CodeRouteDroppedByController, nil, "%s %s/%s (%s) is dropped by the policy controller: %s; remove or fix that part (its status can still say Accepted)",
				v.Kind, v.Namespace, v.Name, v.Group, v.Detail)
		}
	},
})
