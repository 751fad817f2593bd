package analyze

import (
	"fmt"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
)

// A known destination bug: its opaque-ports watcher forgets a Service's
// annotation when the last subscriber leaves, so a fresh subscription can
// report opaqueProtocol:false, or the control plane's default opaque ports,
// instead of what the annotation says.
var _ = register(Analyzer{
	Name:  "opaque-protocol-stale",
	Codes: []string{CodeOpaqueProtocolStale},
	Needs: []Scope{Served},
	Run: func(f *Facts, e *Emitter) {
		if why := opaqueStale(f.Lookup); why != "" {
			e.At(CodeOpaqueProtocolStale, nil, "%s: a known destination bug on fresh subscriptions (its opaque-ports watcher forgets the Service's annotation after the last subscriber leaves); meshed proxies holding a subscription get the right value", why)
		}
	},
})

// opaqueStale explains a served opaqueProtocol that the watcher bug
// produces, or returns "".
func opaqueStale(l *Lookup) string {
	out := l.Outcome
	if l.Served == nil || out.Expected == nil || out.Source == expect.SourceNone {
		return ""
	}
	served := l.Served.GetOpaqueProtocol()
	if served == out.Opaque {
		return ""
	}
	if !served {
		return fmt.Sprintf("the destination reported opaqueProtocol:false although %s", out.OpaqueWhy)
	}
	defaults := l.DefaultOpaquePorts
	if defaults == "" {
		defaults = expect.DefaultOpaquePorts
	}
	unannotated := l.Service
	unannotated.OpaquePorts = nil
	if byDefault, _ := expect.IsOpaque(unannotated, l.Port, defaults); byDefault && l.Service.OpaquePorts != nil {
		return fmt.Sprintf("the destination reported opaqueProtocol:true for port %d, one of the control plane's default opaque ports, although the Service's %s annotation (%q) leaves it out",
			l.Port, expect.OpaquePortsAnnotation, *l.Service.OpaquePorts)
	}
	return ""
}
