package analyze

// Routes that share a name share the rt_route metric label.
var _ = register(Analyzer{
	Name:  "route-names",
	Codes: []string{CodeRouteNameDuplicate},
	Needs: []Scope{Decoded},
	Run: func(f *Facts, e *Emitter) {
		first := map[string]int{}
		for i, r := range f.Profile.Spec.Routes {
			if r == nil || r.Name == "" {
				continue
			}
			if j, dup := first[r.Name]; dup {
				e.At(CodeRouteNameDuplicate, routePath(i, "name"),
					"route %d has the same name as route %d (%q): their metrics share the rt_route label and merge; give each route its own name", i, j, r.Name)
				continue
			}
			first[r.Name] = i
		}
	},
})
