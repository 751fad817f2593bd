package policy

import (
	"encoding/json"

	"github.com/kubectl-profiles/kubectl-profiles/diag/drift"
)

// Diff lists the fields where the served policy differs from the expected
// one, in diag/drift's style (paths in the JSON form of Policy, e.g.
// "routes[0].rules[1].retry.limit"). Rule sources are never compared (only
// the expected side has them). A nil policy means nothing was served (or is
// expected); the single change is then on field "policy".
func Diff(expected, served *Policy) []drift.Change {
	switch {
	case expected == nil && served == nil:
		return nil
	case expected == nil:
		return []drift.Change{{Field: "policy", Expected: drift.Nothing, Served: string(mustMarshal(served))}}
	case served == nil:
		return []drift.Change{{Field: "policy", Expected: string(mustMarshal(expected)), Served: drift.Nothing}}
	}
	return drift.Values(withoutSources(expected), withoutSources(served))
}

func withoutSources(p *Policy) *Policy {
	c := *p
	strip := func(rs []Route) []Route {
		out := make([]Route, len(rs))
		for i, r := range rs {
			r.Rules = append([]Rule(nil), r.Rules...)
			for j := range r.Rules {
				r.Rules[j].Sources = nil
			}
			out[i] = r
		}
		return out
	}
	c.Routes, c.HTTP2Routes, c.OpaqueRoutes = strip(p.Routes), strip(p.HTTP2Routes), strip(p.OpaqueRoutes)
	return &c
}

func mustMarshal(v interface{}) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte("null")
	}
	return b
}
