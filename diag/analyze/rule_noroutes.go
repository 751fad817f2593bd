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
		e.At(CodeProfileWithoutRoutes, source.Path{"spec"},
			"%s has neither routes nor dstOverrides: proxies ignore it and use policy routes (HTTPRoutes), so its retryBudget has no effect", f.Subject())
	},
})
