package analyze

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// metadata.name: valid for the API server, and the FQDN the destination
// looks up.
var _ = register(Analyzer{
	Name:  "name",
	Codes: []string{CodeNameInvalid, CodeNameNotFQDN},
	Needs: []Scope{Written},
	Run: func(f *Facts, e *Emitter) {
		name, domain := f.Name, f.ClusterDomain
		path := source.Path{"metadata", "name"}
		if name == "" {
			meta, _ := f.Doc.Object["metadata"].(map[string]interface{})
			if _, ok := meta["generateName"]; ok {
				e.At(CodeNameNotFQDN, source.Path{"metadata", "generateName"}, "generateName gives a random name, which the destination never looks up: set metadata.name to <svc>.<ns>.svc.%s", domain)
			}
			return // a missing name is a schema error
		}
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			e.At(CodeNameInvalid, path, "metadata.name %q is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters, starting and ending with a letter or digit): the API server rejects the object; %s",
				name, nameFix(name, f.Namespace, domain))
			return
		}
		if !f.Named {
			e.At(CodeNameNotFQDN, path, "%s", notFQDN(name, f.Namespace, domain))
		}
	},
})

// nameFix suggests a valid name: the same one lowercased without a
// trailing dot when that is a Service FQDN, else the expected form.
func nameFix(name, namespace, domain string) string {
	fixed := strings.TrimSuffix(strings.ToLower(name), ".")
	if _, ok := profile.ParseFQDN(fixed, domain); ok && len(validation.IsDNS1123Subdomain(fixed)) == 0 {
		return fmt.Sprintf("use %q (names are compared exactly)", fixed)
	}
	ns := namespace
	if ns == "" {
		ns = "<ns>"
	}
	return fmt.Sprintf("name it after the Service: <svc>.%s.svc.%s", ns, domain)
}

// notFQDN explains why a name is never looked up and what it should be.
func notFQDN(name, namespace, domain string) string {
	const never = "the destination only looks up <svc>.<ns>.svc.%s, so this profile is never used"
	base := fmt.Sprintf(never, domain)
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	switch {
	case strings.HasSuffix(name, "."):
		return fmt.Sprintf("the name %q ends with a dot: %s; drop the dot", name, base)
	case len(labels) >= 4 && labels[2] == "svc" && strings.Join(labels[3:], ".") != domain:
		return fmt.Sprintf("the name %q has cluster domain %q, not %q: %s; rename it, or pass --cluster-domain %s if the cluster uses that domain",
			name, strings.Join(labels[3:], "."), domain, base, strings.Join(labels[3:], "."))
	case len(labels) == 1 && namespace != "":
		return fmt.Sprintf("the name %q is a short name: %s; rename it to %s", name, base, profile.FQDN(labels[0], namespace, domain))
	case len(labels) == 2 || (len(labels) == 3 && labels[2] == "svc"):
		return fmt.Sprintf("the name %q lacks the cluster domain: %s; rename it to %s", name, base, profile.FQDN(labels[0], labels[1], domain))
	case len(labels) == 5+strings.Count(domain, ".") && labels[3] == "svc":
		return fmt.Sprintf("the name %q is a pod DNS name (<host>.<svc>.<ns>.svc...): profiles are only looked up by Service name; %s", name, base)
	}
	return fmt.Sprintf("the name %q is not a Service FQDN: %s", name, base)
}
