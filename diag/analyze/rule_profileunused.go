package analyze

// ServiceProfiles no proxy subscription watches.
var _ = register(Analyzer{
	Name:  "profile-unused",
	Codes: []string{CodeProfileUnused},
	Needs: []Scope{ControlPlane},
	Run: func(f *Facts, e *Emitter) {
		c := f.Control
		for _, ns := range c.UnusedIn {
			e.At(CodeProfileUnused, nil, "no proxy subscription watches ServiceProfile %s/%s on any destination replica (profile_subscribers 0): no client in %s looks this Service up right now",
				ns, c.FQDN, ns)
		}
	},
})
