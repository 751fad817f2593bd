package analyze

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kubectl-profiles/kubectl-profiles/diag/proxy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/rustregex"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// Regexes the proxy keeps but reads in a way the author may not expect.
var _ = register(Analyzer{
	Name:  "regex-pitfalls",
	Codes: []string{CodeRegexPartlyAnchored, CodeRegexDiffersFromGo},
	Needs: []Scope{Decoded},
	Run: func(f *Facts, e *Emitter) {
		for i, r := range f.Profile.Spec.Routes {
			if r == nil {
				continue
			}
			var regexes []source.Path
			collectRegexes(r.Condition, routePath(i, "condition"), &regexes)
			for _, path := range regexes {
				re := regexAt(r.Condition, path[4:])
				if proxy.TopLevelAlternation(strings.TrimSpace(re)) && rustregex.Check(proxy.Anchor(re)) == nil {
					e.At(CodeRegexPartlyAnchored, path,
						"pathRegex %q has a top-level '|': the proxy matches %q, where ^ binds only to the first alternative and $ only to the last, so it also matches paths that merely start or end like them; wrap it in a group: (%s)",
						re, proxy.Anchor(re), strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(re), "^"), "$"))
				}
			}
		}
		if f.Kept == nil {
			return
		}
		for _, kr := range f.Kept.Routes {
			if len(kr.GoDifferences) == 0 {
				continue
			}
			var notes []string
			for _, d := range kr.GoDifferences {
				notes = append(notes, fmt.Sprintf("%q: Rust %s, Go %s", d.Construct, d.Rust, d.Go))
			}
			sort.Strings(notes)
			e.At(CodeRegexDiffersFromGo, routePath(kr.Index, "condition"),
				"the proxy's Rust regex reads this route's pathRegex differently from Go's regexp (%s): test it against the proxy's semantics, not with Go-based tools", strings.Join(notes, "; "))
		}
	},
})
