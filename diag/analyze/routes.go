package analyze

import (
	"fmt"

	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// Routes an earlier route always takes first (the first match wins).
var _ = register(Analyzer{
	Name:  "route-reachability",
	Codes: []string{CodeRouteUnreachable, CodeRouteOverlap, CodeRouteShadowingUndecided},
	Needs: []Scope{Decoded},
	Run:   unreachable,
})

// unreachable reports routes that earlier routes always take first, or
// take in part, deciding it on the proxy's matching semantics (shadow.go).
// Only routes the proxy keeps whole are compared.
func unreachable(f *Facts, e *Emitter) {
	if f.Translated == nil || f.Kept == nil {
		return
	}
	for _, l := range shadowing(f.Translated, keptWhole(f.Kept, f.Drops), shadowLimit) {
		e.At(l.f.Code, l.path, "%s", l.f.Message)
	}
}

func quoteName(s string) string {
	if s == "" {
		return "(unnamed)"
	}
	return fmt.Sprintf("%q", s)
}

// collectRegexes lists the paths of every pathRegex in a condition.
func collectRegexes(m *profile.RequestMatch, path source.Path, out *[]source.Path) {
	if m == nil {
		return
	}
	if m.PathRegex != "" {
		*out = append(*out, path.Append("pathRegex"))
	}
	for k, s := range m.All {
		collectRegexes(s, path.Append("all", k), out)
	}
	for k, s := range m.Any {
		collectRegexes(s, path.Append("any", k), out)
	}
	collectRegexes(m.Not, path.Append("not"), out)
}

// regexAt follows rel (all/any/not steps, then pathRegex) from m.
func regexAt(m *profile.RequestMatch, rel source.Path) string {
	for i := 0; i < len(rel) && m != nil; i++ {
		switch rel[i] {
		case "pathRegex":
			return m.PathRegex
		case "not":
			m = m.Not
		case "all", "any":
			list := m.All
			if rel[i] == "any" {
				list = m.Any
			}
			i++
			k, _ := rel[i].(int)
			if k < 0 || k >= len(list) {
				return ""
			}
			m = list[k]
		}
	}
	return ""
}
