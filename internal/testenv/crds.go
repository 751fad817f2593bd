package testenv

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
)

//go:embed crds/*.yaml
var crdFiles embed.FS

// ServiceProfileCRD is the name of the CRD Options.SkipServiceProfileCRD leaves out.
const ServiceProfileCRD = "serviceprofiles.linkerd.io"

// builtinCRDs returns the embedded CRD manifests; each file is named after
// the CRD it holds.
func builtinCRDs(skipServiceProfile bool) ([]string, error) {
	names, err := fs.Glob(crdFiles, "crds/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []string
	for _, name := range names {
		if skipServiceProfile && name == "crds/"+ServiceProfileCRD+".yaml" {
			continue
		}
		data, err := crdFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("testenv: embedded %s: %w", name, err)
		}
		out = append(out, string(data))
	}
	return out, nil
}

// CRDManifest returns the embedded manifest of one built-in CRD by name
// (e.g. ServiceProfileCRD), so a test that skipped it can install it later.
func CRDManifest(name string) (string, error) {
	data, err := crdFiles.ReadFile("crds/" + name + ".yaml")
	if err != nil {
		return "", fmt.Errorf("testenv: no built-in CRD %q", name)
	}
	return string(data), nil
}
