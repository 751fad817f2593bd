package analyze

import (
	"fmt"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// A ServiceProfile in a namespace other than its Service's is a
// client-side override: only clients in that namespace get it. check
// judges one object; get lists the overrides other clients get.
var _ = register(Analyzer{
	Name:  "client-override",
	Codes: []string{CodeClientOverride},
	Needs: []Scope{Written, Served},
	Run: func(f *Facts, e *Emitter) {
		if l := f.Lookup; l != nil {
			for _, ns := range expect.Overrides(l.Service, f.ClusterDomain, l.Candidates) {
				if ns == l.ClientNamespace {
					continue // it is the profile in effect; IN EFFECT says so
				}
				e.At(CodeClientOverride, nil, "clients in namespace %s get ServiceProfile %s/%s instead (see: --from-namespace %s)", ns, ns, l.Outcome.FQDN, ns)
			}
			return
		}
		if !f.Named || f.Namespace == "" || f.Service.Namespace == f.Namespace {
			return
		}
		ref, ns := f.Service, f.Namespace
		msg := fmt.Sprintf("this is a client-side override: it lives in namespace %s, not in the Service's namespace %s, so only clients (pods) in namespace %s get it when they call %s.%s, instead of the Service's own profile",
			ns, ref.Namespace, ns, ref.Name, ref.Namespace)
		if cl := f.Cluster; cl != nil && cl.Profiles != nil {
			own := model.NamespacedName{Namespace: ref.Namespace, Name: f.Name}
			if cl.Profiles[own] {
				msg += fmt.Sprintf(" (%s/%s)", own.Namespace, own.Name)
			} else if cl.Listed[ref.Namespace] {
				msg += " (there is none: other clients get the default profile)"
			}
		}
		e.At(CodeClientOverride, source.Path{"metadata", "namespace"}, "%s", msg)
	},
})
