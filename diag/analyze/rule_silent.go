package analyze

// The destination sent nothing although the profile translates: silence
// the CRD does not explain.
var _ = register(Analyzer{
	Name:  "destination-silent",
	Codes: []string{CodeDestinationSilent},
	Needs: []Scope{Served},
	Run: func(f *Facts, e *Emitter) {
		l := f.Lookup
		if !l.Silent || l.Outcome.Unserved != nil {
			return
		}
		e.At(CodeDestinationSilent, nil, "the destination sent nothing although %s translates cleanly here: it may not see the object yet, run with a different --cluster-domain, or be overloaded; check the linkerd-destination logs",
			f.Subject())
	},
})
