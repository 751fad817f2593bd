package analyze

import dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"

// A route in another namespace than its parent Service applies only to
// clients in its own namespace (reference §6.4).
var _ = register(Analyzer{
	Name:  "consumer-route",
	Codes: []string{CodeConsumerRoute},
	Needs: []Scope{PolicyPath},
	Run: func(f *Facts, e *Emitter) {
		p := f.PolicyPath
		svc := p.Target.Service
		for _, v := range p.Expected.Routes {
			if v.Namespace == svc.Namespace {
				continue
			}
			switch v.Reason {
			case dpolicy.ReasonOtherConsumer:
				e.At(CodeConsumerRoute, nil, "%s %s/%s is a consumer route: only clients in namespace %s get it, not these clients (namespace %s); to change every client's routes, put it in namespace %s",
					v.Kind, v.Namespace, v.Name, v.Namespace, p.Target.ClientNamespace, svc.Namespace)
			case dpolicy.ReasonServed:
				e.At(CodeConsumerRoute, nil, "%s %s/%s is a consumer route: clients in namespace %s get it in addition to the routes in namespace %s; other clients do not see it",
					v.Kind, v.Namespace, v.Name, v.Namespace, svc.Namespace)
			}
		}
	},
})
