package analyze

import (
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// Objects the controller cannot decode are invisible to the destination.
// check judges the object itself; get the profiles named after the
// Service, which the destination then ignores.
var _ = register(Analyzer{
	Name:  "decode",
	Codes: []string{CodeUndecodable},
	Needs: []Scope{Written, Served},
	Run: func(f *Facts, e *Emitter) {
		if f.Lookup != nil {
			fqdn := f.Lookup.Outcome.FQDN
			for _, c := range f.Lookup.Candidates {
				if c.Name == fqdn && c.DecodeErr != nil {
					e.At(CodeUndecodable, nil, "ServiceProfile %s/%s cannot be decoded by the control plane and is ignored: %v", c.Namespace, c.Name, c.DecodeErr)
				}
			}
			return
		}
		reported := false
		for _, s := range f.schemaIssues() {
			if s.code == CodeUndecodable {
				e.At(s.code, s.path, "%s", s.msg)
				reported = true
			}
		}
		if f.DecodeErr != nil && !reported {
			e.At(CodeUndecodable, source.Path{"spec"}, "the control plane cannot decode the object, so the destination never sees it (and its ServiceProfile watch can stall): %v", f.DecodeErr)
		}
	},
})
