package analyze

// What is served differs from what the ServiceProfile in effect predicts.
var _ = register(Analyzer{
	Name:  "served-differs",
	Codes: []string{CodeDrift},
	Needs: []Scope{Served},
	Run: func(f *Facts, e *Emitter) {
		l := f.Lookup
		if l.Served == nil || len(l.Drift) == 0 {
			return
		}
		onlyOpaque := opaqueStale(l) != ""
		for _, d := range l.Drift {
			onlyOpaque = onlyOpaque && d.Field == "opaqueProtocol"
		}
		if onlyOpaque {
			return // the known bug, explained by opaque-protocol-stale
		}
		e.At(CodeDrift, nil, "%d field(s) served differ from what %s predicts (see DRIFT): the destination may be stale or see a different object; compare resourceVersion and check the linkerd-destination logs",
			len(l.Drift), f.Subject())
	},
})
