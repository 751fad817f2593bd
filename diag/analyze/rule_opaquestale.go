package analyze

import "github.com/kubectl-profiles/kubectl-profiles/diag/expect"

// A known destination bug: opaqueProtocol:false on fresh subscriptions.
var _ = register(Analyzer{
	Name:  "opaque-protocol-stale",
	Codes: []string{CodeOpaqueProtocolStale},
	Needs: []Scope{Served},
	Run: func(f *Facts, e *Emitter) {
		l := f.Lookup
		out := l.Outcome
		if l.Served == nil || out.Expected == nil || !out.Opaque || l.Served.GetOpaqueProtocol() || out.Source == expect.SourceNone {
			return
		}
		e.At(CodeOpaqueProtocolStale, nil, "the destination reported opaqueProtocol:false although %s: a known destination bug on fresh subscriptions (it forgets the Service's opaque ports after the last subscriber leaves); meshed proxies holding a subscription get the right value",
			out.OpaqueWhy)
	},
})
