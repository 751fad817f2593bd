package analyze

// Service annotations the controller cannot parse are dropped silently,
// a whole group at a time (reference §8).
var _ = register(Analyzer{
	Name:  "service-annotation-invalid",
	Codes: []string{CodeServiceAnnotationInvalid},
	Needs: []Scope{PolicyPath},
	Run: func(f *Facts, e *Emitter) {
		svc := f.PolicyPath.Target.Service
		for _, p := range f.PolicyPath.Expected.Problems {
			e.At(CodeServiceAnnotationInvalid, nil, "Service %s/%s: %s (the policy controller ignores it silently); fix the annotation",
				svc.Namespace, svc.Name, p)
		}
	},
})
