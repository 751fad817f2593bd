package analyze

import (
	"fmt"

	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// The Service a profile is named after: does it exist, can it have a
// profile at all.
var _ = register(Analyzer{
	Name:  "service",
	Codes: []string{CodeServiceNotFound, CodeServiceRejected},
	Needs: []Scope{InCluster},
	Run: func(f *Facts, e *Emitter) {
		svc, known, exists := f.service()
		if !known {
			return
		}
		ref := f.Service
		namePath := source.Path{"metadata", "name"}
		if !exists {
			msg := fmt.Sprintf("Service %s/%s does not exist, so nothing looks up this profile", ref.Namespace, ref.Name)
			if near := nearestService(f.Cluster, ref); near != "" {
				msg += fmt.Sprintf("; did you mean Service %s (profile name %s)?", near, profile.FQDN(near, ref.Namespace, f.ClusterDomain))
			} else {
				msg += "; create the Service or rename the profile after an existing one"
			}
			e.At(CodeServiceNotFound, namePath, "%s", msg)
			return
		}
		if svc.ExternalName {
			e.At(CodeServiceRejected, namePath,
				"Service %s/%s is an ExternalName Service: the destination rejects profile lookups for it (InvalidArgument), so proxies never get a profile for it", ref.Namespace, ref.Name)
		}
	},
})

// service returns the Service the facts are about: known is false when
// its namespace could not be read.
func (f *Facts) service() (svc model.Service, known, exists bool) {
	cl := f.Cluster
	if !f.Named || cl == nil || !cl.Listed[f.Service.Namespace] {
		return svc, false, false
	}
	svc, exists = cl.Services[model.NamespacedName{Namespace: f.Service.Namespace, Name: f.Service.Name}]
	return svc, true, exists
}

// nearestService finds a Service in the same namespace whose name is one or
// two edits away (a typo), or "".
func nearestService(cl *model.Cluster, ref profile.ServiceRef) string {
	best, bestD := "", 3
	for k := range cl.Services {
		if k.Namespace != ref.Namespace {
			continue
		}
		if d := profile.EditDistance(k.Name, ref.Name, bestD); d < bestD || (d == bestD && d < 3 && k.Name < best) {
			best, bestD = k.Name, d
		}
	}
	return best
}
