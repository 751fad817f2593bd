package analyze

// Route names: the rt_route metric label. An empty one is rejected by the
// webhook; routes that share a name share the label.
var _ = register(Analyzer{
	Name:  "route-names",
	Codes: []string{CodeRouteNameEmpty, CodeRouteNameDuplicate},
	Needs: []Scope{Decoded},
	Run: func(f *Facts, e *Emitter) {
		first := map[string]int{}
		for i, r := range f.Profile.Spec.Routes {
			if r == nil {
				continue
			}
			if r.Name == "" {
				if f.written(routePath(i, "name")) {
					e.At(CodeRouteNameEmpty, routePath(i, "name"), "route %d has an empty name: the sp-validator webhook rejects the profile (\"has a route with no name\"), and without the webhook its requests get an empty rt_route label, which reads as \"no route matched\"; name it, e.g. \"GET /books\"", i)
				}
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
