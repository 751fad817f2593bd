package analyze

import (
	"strings"

	"github.com/kubectl-profiles/kubectl-profiles/diag/lang"
)

// Retrying requests that are not idempotent.
var _ = register(Analyzer{
	Name:  "retry-idempotency",
	Codes: []string{CodeRetryNonIdempotent},
	Needs: []Scope{Decoded},
	Run: func(f *Facts, e *Emitter) {
		eng := lang.NewEngine(0)
		for i, r := range f.Translated.GetRoutes() {
			if !r.GetIsRetryable() {
				continue
			}
			set, all := lang.MethodSet(matchCond(eng, r.GetCondition()))
			var risky []string
			for _, m := range []string{"POST", "PATCH"} {
				if all || set[m] {
					risky = append(risky, m)
				}
			}
			if len(risky) == 0 {
				continue
			}
			what := "it matches " + strings.Join(risky, " and ") + " requests"
			if all {
				what = "its condition does not limit the method, so it also matches POST and PATCH requests"
			}
			e.At(CodeRetryNonIdempotent, routePath(i, "isRetryable"),
				"isRetryable is set but %s: a retried request that reached the server may be applied twice; retry only idempotent methods (GET, HEAD, PUT, DELETE) or make the handler idempotent", what)
		}
	},
})
