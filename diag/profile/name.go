package profile

import (
	"fmt"
	"strings"
)

// DefaultClusterDomain is Linkerd's default cluster domain.
const DefaultClusterDomain = "cluster.local"

// FQDN is the only ServiceProfile name the destination controller ever looks
// up for a Service: <svc>.<ns>.svc.<cluster-domain>.
func FQDN(service, namespace, clusterDomain string) string {
	if clusterDomain == "" {
		clusterDomain = DefaultClusterDomain
	}
	return fmt.Sprintf("%s.%s.svc.%s", service, namespace, clusterDomain)
}

// ServiceRef names the Service a profile name refers to.
type ServiceRef struct {
	Name      string
	Namespace string
}

// ParseFQDN splits a profile name of the form <svc>.<ns>.svc.<cluster-domain>.
// ok is false when the name does not have that exact form (case-sensitive,
// no trailing dot), in which case the controller never serves it.
func ParseFQDN(name, clusterDomain string) (ref ServiceRef, ok bool) {
	if clusterDomain == "" {
		clusterDomain = DefaultClusterDomain
	}
	suffix := ".svc." + clusterDomain
	if !strings.HasSuffix(name, suffix) {
		return ServiceRef{}, false
	}
	labels := strings.Split(strings.TrimSuffix(name, suffix), ".")
	if len(labels) != 2 || labels[0] == "" || labels[1] == "" {
		return ServiceRef{}, false
	}
	return ServiceRef{Name: labels[0], Namespace: labels[1]}, true
}
