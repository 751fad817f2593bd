package analyze

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// cluster runs the analyzers that need the Service the profile is named
// after: does it exist, which of its ports are opaque, which HTTPRoutes the
// profile hides. namespace is where the profile lives.
func (c *checker) cluster(sp *profile.ServiceProfile, ref profile.ServiceRef, namespace string) {
	cl := c.opts.Cluster
	if cl == nil || !cl.Listed[ref.Namespace] {
		return // no facts about that namespace
	}
	key := NamespacedName{Namespace: ref.Namespace, Name: ref.Name}
	svc, ok := cl.Services[key]
	namePath := source.Path{"metadata", "name"}
	if !ok {
		msg := fmt.Sprintf("Service %s/%s does not exist, so nothing looks up this profile", ref.Namespace, ref.Name)
		if near := nearestService(cl, ref); near != "" {
			msg += fmt.Sprintf("; did you mean Service %s (profile name %s)?", near, profile.FQDN(near, ref.Namespace, c.opts.ClusterDomain))
		} else {
			msg += "; create the Service or rename the profile after an existing one"
		}
		c.add(CodeServiceNotFound, finding.Warning, namePath, "%s", msg)
		return
	}
	if svc.ExternalName {
		c.add(CodeServiceRejected, finding.Error, namePath,
			"Service %s/%s is an ExternalName Service: the destination rejects profile lookups for it (InvalidArgument), so this profile is never served", ref.Namespace, ref.Name)
		return
	}
	hasRoutes := len(sp.Spec.Routes) > 0
	if hasRoutes {
		var opaque []string
		var why string
		for _, p := range svc.Ports {
			if ok, reason := expect.IsOpaque(svc, p.Port, defaultOpaque(cl)); ok {
				opaque = append(opaque, fmt.Sprint(p.Port))
				why = reason
			}
		}
		switch {
		case len(opaque) == 0:
		case len(opaque) == len(svc.Ports):
			c.add(CodeOpaquePort, finding.Warning, source.Path{"spec", "routes"},
				"every port of Service %s/%s is opaque (%s; %s): traffic is proxied as TCP, so none of the %d HTTP route(s) ever applies; remove the ports from the annotation if they speak HTTP",
				ref.Namespace, ref.Name, strings.Join(opaque, ", "), why, len(sp.Spec.Routes))
		default:
			c.add(CodeOpaquePort, finding.Warning, source.Path{"spec", "routes"},
				"port(s) %s of Service %s/%s are opaque (%s): the HTTP routes never apply to traffic on them; remove them from the annotation if they speak HTTP",
				strings.Join(opaque, ", "), ref.Namespace, ref.Name, why)
		}
	}
	if hasRoutes || len(sp.Spec.DstOverrides) > 0 {
		who := "clients"
		if namespace != "" && namespace != ref.Namespace {
			who = "clients in namespace " + namespace
		}
		routes := append([]HTTPRoute(nil), cl.HTTPRoutes[key]...)
		sort.Slice(routes, func(i, j int) bool {
			a, b := routes[i], routes[j]
			return a.Namespace+"/"+a.Name+"/"+a.Group < b.Namespace+"/"+b.Name+"/"+b.Group
		})
		for _, h := range routes {
			port := ""
			if h.Port != 0 {
				port = fmt.Sprintf(" (port %d)", h.Port)
			}
			c.add(CodeHTTPRouteIgnored, finding.Warning, source.Path{"spec"},
				"HTTPRoute %s/%s (%s) is attached to Service %s/%s%s but %s ignore it: this profile has routes or dstOverrides, which take precedence; move the routes to one of them",
				h.Namespace, h.Name, h.Group, ref.Namespace, ref.Name, port, who)
		}
	}
}

func defaultOpaque(cl *Cluster) string {
	if cl.DefaultOpaquePorts != "" {
		return cl.DefaultOpaquePorts
	}
	return expect.DefaultOpaquePorts
}

// nearestService finds a Service in the same namespace whose name is one or
// two edits away (a typo), or "".
func nearestService(cl *Cluster, ref profile.ServiceRef) string {
	best, bestD := "", 3
	for k := range cl.Services {
		if k.Namespace != ref.Namespace {
			continue
		}
		if d := profile.EditDistance(k.Name, ref.Name, bestD); d < bestD || (d == bestD && d < 3 && k.Name < best) {
			best, bestD = k.Name, d
		}
	}
	return best
}
