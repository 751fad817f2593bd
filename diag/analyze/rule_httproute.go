package analyze

import (
	"fmt"
	"sort"
	"strings"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"

	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// A ServiceProfile with routes or dstOverrides masks the policy path: the
// HTTPRoutes attached to the Service are ignored. Only when proxies do use
// the profile (usesProfile): a profile the destination cannot serve is
// never sent, so proxies get none and use the HTTPRoutes (profile-unservable
// is the finding there).
var _ = register(Analyzer{
	Name:  "httproute-masked",
	Codes: []string{CodeHTTPRouteIgnored},
	Needs: []Scope{Decoded | InCluster},
	Run: func(f *Facts, e *Emitter) {
		svc, known, exists := f.service()
		if !known || !exists || svc.ExternalName || !f.usesProfile() {
			return
		}
		inScope := map[uint32]bool{}
		for _, p := range f.PortsInScope(svc) {
			inScope[p] = true
		}
		key := model.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
		routes := append([]model.HTTPRoute(nil), f.Cluster.HTTPRoutes[key]...)
		sort.Slice(routes, func(i, j int) bool {
			a, b := routes[i], routes[j]
			return a.Namespace+"/"+a.Name+"/"+a.Group < b.Namespace+"/"+b.Name+"/"+b.Group
		})
		who := "clients"
		if f.Namespace != "" && f.Namespace != svc.Namespace {
			who = "clients in namespace " + f.Namespace
		}
		for _, h := range routes {
			if h.Port != 0 && !inScope[h.Port] {
				continue
			}
			port := ""
			if h.Port != 0 {
				port = fmt.Sprintf(" (port %d)", h.Port)
			}
			e.At(CodeHTTPRouteIgnored, source.Path{"spec"},
				"HTTPRoute %s/%s (%s) is attached to Service %s/%s%s but %s ignore it: %s has routes or dstOverrides, which take precedence; move the routes to one of them",
				h.Namespace, h.Name, h.Group, svc.Namespace, svc.Name, port, who, f.Subject())
		}
		maskedPolicy(f, e, svc.Namespace, svc.Name, who)
	},
})

// usesProfile tells whether proxies route with the ServiceProfile rather
// than client policy: the MODE of get (dpolicy.Decide on what the
// destination served) when it was decided, else dpolicy.Decide on what the
// destination sends for the profile, which is nothing when it cannot
// translate it.
func (f *Facts) usesProfile() bool {
	if p := f.PolicyPath; p != nil && p.Decision != nil {
		return p.Decision.Mode == dpolicy.ModeServiceProfile
	}
	var sent *pb.DestinationProfile
	if f.Unservable == nil {
		sent = f.Translated // Translated is for analysis only when unservable
	}
	if f.Lookup != nil && f.Lookup.Served != nil {
		sent = f.Lookup.Served
	}
	return dpolicy.Decide(sent, nil).Mode == dpolicy.ModeServiceProfile
}

// maskedPolicy extends the rule to the rest of the policy path, when its
// facts are known: GRPCRoutes served for the port and the Service's retry,
// timeout and failure-accrual annotations are ignored too.
func maskedPolicy(f *Facts, e *Emitter, ns, name, who string) {
	p := f.PolicyPath
	if p == nil {
		return
	}
	for _, v := range p.Expected.Routes {
		if v.Kind == "GRPCRoute" && v.Reason == dpolicy.ReasonServed {
			e.At(CodeHTTPRouteIgnored, source.Path{"spec"},
				"GRPCRoute %s/%s is attached to Service %s/%s but %s ignore it: %s has routes or dstOverrides, which take precedence",
				v.Namespace, v.Name, ns, name, who, f.Subject())
		}
	}
	var keys []string
	for k := range p.Target.Service.Annotations {
		if strings.HasPrefix(k, "retry.linkerd.io/") || strings.HasPrefix(k, "timeout.linkerd.io/") || strings.Contains(k, "linkerd.io/failure-accrual") {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		sort.Strings(keys)
		e.At(CodeHTTPRouteIgnored, source.Path{"spec"},
			"Service %s/%s has %s, but %s ignore them: %s has routes or dstOverrides, so the policy path (and its retries, timeouts and failure accrual) is not used; move the routes to HTTPRoutes or remove the ServiceProfile's routes",
			ns, name, strings.Join(keys, ", "), who, f.Subject())
	}
}
