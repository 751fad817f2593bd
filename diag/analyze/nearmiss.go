package analyze

import (
	"fmt"
	"strings"

	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
)

// NearMiss explains why a ServiceProfile name looks meant for svc but is not
// its FQDN, or returns "" when it does not look related.
func NearMiss(name string, svc model.Service, clusterDomain string, known map[model.NamespacedName]bool, ns string) string {
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
	if ref, ok := profile.ParseFQDN(name, clusterDomain); ok && known[model.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}] {
		return ""
	}
	if d := profile.EditDistance(name, fqdn, 3); d > 0 && d <= 2 {
		return fmt.Sprintf("the name is %d character(s) away from %s (typo?)", d, fqdn)
	}
	return ""
}

// ServiceProfiles whose names are close to, but not, the Service's FQDN.
var _ = register(Analyzer{
	Name:  "name-near-miss",
	Codes: []string{CodeNameNearMiss},
	Needs: []Scope{Served},
	Run: func(f *Facts, e *Emitter) {
		l := f.Lookup
		for _, n := range l.NearbyProfiles {
			if n.Name == l.Outcome.FQDN {
				continue
			}
			if why := NearMiss(n.Name, l.Service, f.ClusterDomain, l.KnownServices, n.Namespace); why != "" {
				e.At(CodeNameNearMiss, nil, "ServiceProfile %s/%s is never used: %s; rename it to %s", n.Namespace, n.Name, why, l.Outcome.FQDN)
			}
		}
	},
})
