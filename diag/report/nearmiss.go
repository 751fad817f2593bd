package report

import (
	"fmt"
	"strings"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
)

// NearMiss explains why a ServiceProfile name looks meant for svc but is not
// its FQDN, or returns "" when it does not look related.
func NearMiss(name string, svc expect.Service, clusterDomain string, known map[NamespacedName]bool, ns string) string {
	if clusterDomain == "" {
		clusterDomain = profile.DefaultClusterDomain
	}
	fqdn := profile.FQDN(svc.Name, svc.Namespace, clusterDomain)
	switch {
	case name == fqdn:
		return ""
	case name == fqdn+".":
		return "the name has a trailing dot"
	case strings.HasPrefix(fqdn, name+"."):
		return fmt.Sprintf("the name is missing %q", strings.TrimPrefix(fqdn, name))
	case strings.EqualFold(name, fqdn):
		return "the name differs in case (names are compared exactly)"
	}
	prefix := svc.Name + "." + svc.Namespace + ".svc."
	if strings.HasPrefix(name, prefix) {
		return fmt.Sprintf("its cluster domain %q is not the cluster's %q (set --cluster-domain if the cluster uses another one)",
			strings.TrimPrefix(name, prefix), clusterDomain)
	}
	// A well-formed name of another existing Service is that Service's profile.
	if ref, ok := profile.ParseFQDN(name, clusterDomain); ok && known[NamespacedName{Namespace: ref.Namespace, Name: ref.Name}] {
		return ""
	}
	if d := profile.EditDistance(name, fqdn, 3); d > 0 && d <= 2 {
		return fmt.Sprintf("the name is %d character(s) away from %s (typo?)", d, fqdn)
	}
	return ""
}
