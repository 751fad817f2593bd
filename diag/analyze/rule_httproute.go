package analyze

import (
	"fmt"
	"sort"

	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// A ServiceProfile with routes or dstOverrides masks the policy path: the
// HTTPRoutes attached to the Service are ignored.
var _ = register(Analyzer{
	Name:  "httproute-masked",
	Codes: []string{CodeHTTPRouteIgnored},
	Needs: []Scope{Decoded | InCluster},
	Run: func(f *Facts, e *Emitter) {
		svc, known, exists := f.service()
		if !known || !exists || svc.ExternalName || !f.HasRoutes() {
			return
		}
		inScope := map[uint32]bool{}
		for _, p := range f.PortsInScope(svc) {
			inScope[p] = true
		}
		key := model.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
		routes := append([]model.HTTPRoute(nil), f.Cluster.HTTPRoutes[key]...)
		sort.Slice(routes, func(i, j int) bool {
			a, b := routes[i], routes[j]
			return a.Namespace+"/"+a.Name+"/"+a.Group < b.Namespace+"/"+b.Name+"/"+b.Group
		})
		who := "clients"
		if f.Namespace != "" && f.Namespace != svc.Namespace {
			who = "clients in namespace " + f.Namespace
		}
		for _, h := range routes {
			if h.Port != 0 && !inScope[h.Port] {
				continue
			}
			port := ""
			if h.Port != 0 {
				port = fmt.Sprintf(" (port %d)", h.Port)
			}
			e.At(CodeHTTPRouteIgnored, source.Path{"spec"},
				"HTTPRoute %s/%s (%s) is attached to Service %s/%s%s but %s ignore it: %s has routes or dstOverrides, which take precedence; move the routes to one of them",
				h.Namespace, h.Name, h.Group, svc.Namespace, svc.Name, port, who, f.Subject())
		}
	},
})
