package analyze

import (
	"fmt"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
)

// No ServiceProfile is in effect: the default profile has no routes.
var _ = register(Analyzer{
	Name:  "default-profile",
	Codes: []string{CodeDefaultProfile},
	Needs: []Scope{Served},
	Run: func(f *Facts, e *Emitter) {
		l := f.Lookup
		out := l.Outcome
		if out.Source != expect.SourceDefault {
			return
		}
		if len(out.Ignored) > 0 {
			e.At(CodeDefaultProfile, nil, "ServiceProfile %s/%s exists but the control plane cannot decode it (profile-undecodable), so the default profile is served: fix that object rather than create another",
				out.Ignored[0].Namespace, out.Ignored[0].Name)
			return
		}
		where := "namespace " + l.Service.Namespace
		if l.ClientNamespace != "" && l.ClientNamespace != l.Service.Namespace {
			where = fmt.Sprintf("namespaces %s (client) or %s (service)", l.ClientNamespace, l.Service.Namespace)
		}
		if p := f.PolicyPath; p != nil && p.Decision != nil && p.Decision.Mode == dpolicy.ModePolicy {
			// The policy path is in use: routes come from it, not from a profile.
			e.At(CodeDefaultProfile, nil, "no ServiceProfile named %s in %s: the default profile is served and the proxy uses client policy (see MODE and POLICY): routes, retries and timeouts come from HTTPRoutes/GRPCRoutes and retry/timeout annotations",
				out.FQDN, where)
			return
		}
		e.At(CodeDefaultProfile, nil, "no ServiceProfile named %s in %s: the default profile is served, so there are no routes, no per-route metrics (rt_route), retries or timeouts; create one to get them",
			out.FQDN, where)
	},
})
