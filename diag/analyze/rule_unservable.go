package analyze

// Profiles the destination cannot translate: it sends nothing at all.
var _ = register(Analyzer{
	Name:  "unservable",
	Codes: []string{CodeUnservable},
	Needs: []Scope{Decoded},
	Run: func(f *Facts, e *Emitter) {
		if ue := f.Unservable; ue != nil {
			e.At(CodeUnservable, parseFieldPath(ue.Field), "the control plane cannot translate %s (%s: %v): it sends nothing, so proxies keep their previous profile or get none; fix %s",
				f.Subject(), ue.Field, ue.Err, ue.Field)
		}
	},
})
