package analyze

import dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"

// A route that names the Service without Linkerd's Accepted=True status for
// it is ignored by the policy controller.
var _ = register(Analyzer{
	Name:  "route-not-accepted",
	Codes: []string{CodeRouteNotAccepted},
	Needs: []Scope{PolicyPath},
	Run: func(f *Facts, e *Emitter) {
		for _, v := range f.PolicyPath.Expected.Routes {
			if v.Reason != dpolicy.ReasonNotAccepted {
				continue
			}
			e.At(CodeRouteNotAccepted, nil, "%s %s/%s (%s) is not accepted for Service %s/%s (%s): the policy controller ignores it; fix what its status.parents[].conditions say (kubectl describe) or check that the policy controller runs",
				v.Kind, v.Namespace, v.Name, v.Group, f.PolicyPath.Target.Service.Namespace, f.PolicyPath.Target.Service.Name, orNoStatus(v.Detail))
		}
	},
})

func orNoStatus(s string) string {
	if s == "" {
		return "no status from Linkerd"
	}
	return s
}
