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

// EditDistance is the Levenshtein distance of a and b, capped at max: it
// tells how close a profile name is to the one the controller looks up.
func EditDistance(a, b string, max int) int {
	if d := len(a) - len(b); d > max || -d > max {
		return max
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	if prev[len(b)] > max {
		return max
	}
	return prev[len(b)]
}
