package analyze

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/kubectl-profiles/kubectl-profiles/diag/lang"
	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/policymatch"
)

// An HTTPRoute or GRPCRoute rule that can never win under the proxy's
// most-specific match precedence (reference §11). Exact: a match of the
// later rule is reported only when an earlier rule (earlier route, or
// earlier rule of the same route, with the same hostnames) has a match with
// the same header, query and method conditions that ties with it on every
// request it matches, and the tie goes to the earlier one:
//   - an Exact/PathPrefix path covering it (diag/lang) with the same length;
//   - a RegularExpression path that matches its Exact path (a regex ranks by
//     the whole path's length, as the Exact path does), decided with the
//     proxy's leftmost-first rule (diag/policymatch), never when Go reads
//     the regex differently from Rust;
//   - for gRPC, the same service and method.
//
// A regex is never proved to cover a prefix or another regex: it stays
// silent rather than guess.
var _ = register(Analyzer{
	Name:  "rule-never-wins",
	Codes: []string{CodeRuleNeverWins},
	Needs: []Scope{PolicyPath},
	Run: func(f *Facts, e *Emitter) {
		pol := f.PolicyPath.Expected.Policy
		if pol == nil {
			return
		}
		eng := lang.NewEngine(0)
		eng.SetBudget(1 << 22)
		type seen struct {
			route dpolicy.Route
			rule  int
			m     dpolicy.Match
		}
		var earlier []seen
		for _, r := range pol.Routes {
			if r.Default != "" {
				continue
			}
			for ri, rule := range r.Rules {
				if len(rule.Matches) > 0 {
					beaten := make([]string, 0, len(rule.Matches))
					for _, m := range rule.Matches {
						by := ""
						for _, a := range earlier {
							if tiesOrBeats(eng, a.m, m) && reflect.DeepEqual(a.route.Hosts, r.Hosts) {
								by = fmt.Sprintf("%s rule %d", routeLabel(a.route.Kind, a.route.Namespace, a.route.Name, a.route.Default), a.rule)
								break
							}
						}
						if by == "" {
							beaten = nil
							break
						}
						beaten = append(beaten, by)
					}
					if beaten != nil {
						specific := "a longer path, or more header/query matches"
						if pol.Protocol == dpolicy.GRPC {
							specific = "a method, or more header matches"
						}
						e.At(CodeRuleNeverWins, nil, "%s rule %d can never win: every request it matches ties with %s, which the proxy prefers (same specificity, earlier in order); remove it, or make it more specific (%s)",
							routeLabel(r.Kind, r.Namespace, r.Name, r.Default), ri, strings.Join(dedupe(beaten), " and "), specific)
					}
				}
				for _, m := range rule.Matches {
					earlier = append(earlier, seen{r, ri, m})
				}
				if len(rule.Matches) == 0 {
					earlier = append(earlier, seen{r, ri, dpolicy.Match{Path: "prefix:/"}})
				}
			}
		}
	},
})

// tiesOrBeats: every request b matches, a matches with the same path
// length and the same other conditions.
func tiesOrBeats(eng *lang.Engine, a, b dpolicy.Match) bool {
	if a.Method != b.Method || !reflect.DeepEqual(a.Headers, b.Headers) || !reflect.DeepEqual(a.QueryParams, b.QueryParams) {
		return false
	}
	if a.RPC != nil || b.RPC != nil {
		return a.RPC != nil && b.RPC != nil && *a.RPC == *b.RPC && a.Path == b.Path
	}
	if re, ok := strings.CutPrefix(a.Path, "regex:"); ok {
		exact, isExact := strings.CutPrefix(b.Path, "exact:")
		if !isExact {
			return false
		}
		matches, decided, err := policymatch.PathRegexMatches(re, exact)
		return err == nil && decided && matches
	}
	ca, la, ok := pathCond(a.Path)
	if !ok {
		return false
	}
	cb, lb, ok := pathCond(b.Path)
	if !ok || la != lb {
		return false
	}
	res := eng.Covered(cb, []lang.Cond{ca})
	return res.Decided && res.Covered
}

// pathCond is an Exact or PathPrefix path as a diag/lang condition, with
// the length the proxy ranks it by (trailing '/' trimmed for prefixes).
func pathCond(p string) (lang.Cond, int, bool) {
	switch {
	case p == "":
		return lang.Prefix("/"), 1, true
	case strings.HasPrefix(p, "exact:"):
		v := strings.TrimPrefix(p, "exact:")
		return lang.Exact(v), len(v), true
	case strings.HasPrefix(p, "prefix:"):
		v := strings.TrimPrefix(p, "prefix:")
		t := strings.TrimRight(v, "/")
		if t == "" {
			return lang.Prefix("/"), 1, true
		}
		return lang.Prefix(t), len(t), true
	}
	return lang.Cond{}, 0, false
}

func dedupe(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
