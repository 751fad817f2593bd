package analyze

// Route timeouts the translation drops because they do not parse.
var _ = register(Analyzer{
	Name:  "timeout-unparsable",
	Codes: []string{CodeTimeoutUnparsable},
	Needs: []Scope{Decoded},
	Run: func(f *Facts, e *Emitter) {
		for _, n := range f.Notes {
			timeout := ""
			if n.RouteIndex >= 0 && n.RouteIndex < len(f.Profile.Spec.Routes) && f.Profile.Spec.Routes[n.RouteIndex] != nil {
				timeout = f.Profile.Spec.Routes[n.RouteIndex].Timeout
			}
			e.At(CodeTimeoutUnparsable, parseFieldPath(n.Field), "%s: timeout %q does not parse as a Go duration: the sp-validator webhook rejects the profile, and without the webhook the route is served with no timeout at all; use a Go duration such as 500ms, 10s or 1m30s",
				n.Field, timeout)
		}
	},
})
