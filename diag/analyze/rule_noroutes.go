package analyze

import "github.com/kubectl-profiles/kubectl-profiles/diag/source"

// A profile without routes or dstOverrides: proxies use policy routes.
var _ = register(Analyzer{
	Name:  "without-routes",
	Codes: []string{CodeProfileWithoutRoutes},
	Needs: []Scope{Decoded},
	Run: func(f *Facts, e *Emitter) {
		if f.HasRoutes() || f.Unservable != nil {
			return
		}
		uses := "policy routes (HTTPRoutes)"
		if p := f.PolicyPath; p != nil && p.Decision != nil {
			uses = "client policy (" + p.Decision.Reason + ")"
		}
		e.At(CodeProfileWithoutRoutes, source.Path{"spec"},
			"%s has neither routes nor dstOverrides: proxies ignore it and use %s, so its retryBudget has no effect", f.Subject(), uses)
	},
})
