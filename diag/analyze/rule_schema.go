package analyze

import (
	"strings"

	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// What the API server (CRD schema, pruning) and the sp-validator webhook
// (strict decoding) make of the fields as written.
var _ = register(Analyzer{
	Name:  "schema",
	Codes: []string{CodeSchemaInvalid, CodeFieldPruned, CodeFieldUnknown},
	Needs: []Scope{Written},
	Run: func(f *Facts, e *Emitter) {
		apiVersion(f, e)
		if f.Name == "" {
			meta, _ := f.Doc.Object["metadata"].(map[string]interface{})
			if _, ok := meta["generateName"]; !ok {
				e.At(CodeSchemaInvalid, source.Path{"metadata"}, "metadata.name is missing: the API server rejects the object; name it <svc>.<ns>.svc.%s", f.ClusterDomain)
			}
		}
		unknown := false
		for _, s := range f.schemaIssues() {
			if s.code == CodeUndecodable {
				continue // the decode analyzer reports it
			}
			unknown = unknown || s.code == CodeFieldUnknown || s.code == CodeFieldPruned
			e.At(s.code, s.path, "%s", s.msg)
		}
		if f.DecodeErr != nil || unknown {
			return
		}
		if _, err := profile.DecodeStrict(f.Doc.Raw); err != nil {
			e.At(CodeFieldUnknown, nil, "the sp-validator webhook's strict decoding rejects the object: %v", err)
		}
	},
})

// apiVersion reports versions of linkerd.io that do not serve ServiceProfiles.
func apiVersion(f *Facts, e *Emitter) {
	_, version, _ := strings.Cut(f.Doc.APIVersion(), "/")
	switch version {
	case "v1alpha2":
	case "v1alpha1":
		spec, _ := f.Doc.Object["spec"].(map[string]interface{})
		if _, ok := spec["routes"]; !ok {
			e.At(CodeSchemaInvalid, source.Path{"spec"}, "linkerd.io/v1alpha1 requires spec.routes: the API server rejects the object; use apiVersion linkerd.io/v1alpha2")
		}
	default:
		e.At(CodeSchemaInvalid, source.Path{"apiVersion"}, "apiVersion %q is not served by the ServiceProfile CRD: use linkerd.io/v1alpha2", f.Doc.APIVersion())
	}
}
