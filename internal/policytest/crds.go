package policytest

import (
	"embed"
	"io/fs"
	"sort"
)

//go:embed crds/*.yaml
var crdFiles embed.FS

// CRDs are the manifests policytest needs besides testenv's built-in ones
// (which already hold both HTTPRoute CRDs): the Gateway API GRPCRoute. Pass
// them as testenv.Options.ExtraCRDs.
func CRDs() []string {
	names, _ := fs.Glob(crdFiles, "crds/*.yaml")
	sort.Strings(names)
	var out []string
	for _, n := range names {
		b, _ := crdFiles.ReadFile(n)
		out = append(out, string(b))
	}
	return out
}
