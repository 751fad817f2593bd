package analyze

import (
	"fmt"
	"strings"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// Opaque ports carry TCP: HTTP routes never apply there.
var _ = register(Analyzer{
	Name:  "opaque-ports",
	Codes: []string{CodeOpaquePort, CodeOpaquePortNoRoutes},
	Needs: []Scope{InCluster},
	Run: func(f *Facts, e *Emitter) {
		svc, known, exists := f.service()
		if !known || !exists || svc.ExternalName {
			return
		}
		defaults := f.Cluster.DefaultOpaquePorts
		if defaults == "" {
			defaults = expect.DefaultOpaquePorts
		}
		var opaque []string
		var why string
		for _, p := range f.PortsInScope(svc) {
			if !svc.HasPort(p) {
				continue
			}
			if ok, reason := expect.IsOpaque(svc, p, defaults); ok {
				opaque = append(opaque, fmt.Sprint(p))
				why = reason
			}
		}
		if len(opaque) == 0 {
			return
		}
		ports := strings.Join(opaque, ", ")
		routes := 0
		if f.Profile != nil {
			routes = len(f.Profile.Spec.Routes)
		}
		if routes == 0 {
			e.At(CodeOpaquePortNoRoutes, nil, "port %s of Service %s/%s is opaque (%s): traffic is proxied as TCP, so HTTP routes would never apply there",
				ports, svc.Namespace, svc.Name, why)
			return
		}
		e.At(CodeOpaquePort, source.Path{"spec", "routes"},
			"port %s of Service %s/%s is opaque (%s): traffic is proxied as TCP, so the %d HTTP route(s) never apply there; remove the port from the annotation if it speaks HTTP",
			ports, svc.Namespace, svc.Name, why, routes)
	},
})
