package report

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	gproto "google.golang.org/protobuf/proto"

	"github.com/kubectl-profiles/kubectl-profiles/diag/analyze"
	"github.com/kubectl-profiles/kubectl-profiles/diag/drift"
	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
)

// Input is everything known about one Service and the lookups made for it.
type Input struct {
	Service       expect.Service
	Client        Client
	ClusterDomain string
	// DefaultOpaquePorts of the control plane ("" for the chart default).
	DefaultOpaquePorts string
	// Candidates are ServiceProfiles named after the service's FQDN, in any
	// namespace that could be listed.
	Candidates []expect.Candidate
	// NearbyProfiles are the names of other ServiceProfiles in the service's
	// and the client's namespaces, checked for near-miss names.
	NearbyProfiles []NamespacedName
	// KnownServices are names of Services that exist in the namespaces of
	// NearbyProfiles, so a well-formed profile of another service is not
	// mistaken for a typo.
	KnownServices map[NamespacedName]bool
	// HTTPRoutes attached to this Service.
	HTTPRoutes []HTTPRoute
	Lookups    []PortLookup
}

// NamespacedName names an object.
type NamespacedName = analyze.NamespacedName

// HTTPRoute is an HTTPRoute whose parentRefs include this Service.
type HTTPRoute = analyze.HTTPRoute

// PortLookup is the destination's answer for one port.
type PortLookup struct {
	Port   uint32
	Served *pb.DestinationProfile
	// Err is nil when Served is set; ErrSilent (possibly wrapped) when the
	// server sent nothing in time; any other error otherwise.
	Err error
}

// Build assembles the report.
func Build(in Input) Report {
	fqdn := profile.FQDN(in.Service.Name, in.Service.Namespace, in.ClusterDomain)
	r := Report{
		Service:   ServiceID{Namespace: in.Service.Namespace, Name: in.Service.Name},
		FQDN:      fqdn,
		Client:    in.Client,
		Overrides: expect.Overrides(in.Service, in.ClusterDomain, in.Candidates),
	}
	if r.Overrides == nil {
		r.Overrides = []string{}
	}
	sort.Strings(r.Overrides)
	shared := sharedFindings(in, fqdn)
	for _, l := range in.Lookups {
		r.Ports = append(r.Ports, buildPort(in, l, shared))
	}
	return r
}

func buildPort(in Input, l PortLookup, shared []finding.Finding) PortReport {
	out := expect.Expect(expect.Lookup{
		Service: in.Service, Port: l.Port, ClientNamespace: in.Client.Namespace,
		ClusterDomain: in.ClusterDomain, DefaultOpaquePorts: in.DefaultOpaquePorts, Candidates: in.Candidates,
	})
	p := PortReport{
		Port:            l.Port,
		InEffect:        InEffect{Source: out.Source},
		ServedProfile:   l.Served,
		ExpectedProfile: out.Expected,
		Outcome:         out,
	}
	if c := out.InEffect; c != nil {
		p.InEffect.Namespace, p.InEffect.Name, p.InEffect.ResourceVersion = c.Namespace, c.Name, c.ResourceVersion
	}
	switch {
	case l.Err == nil:
		p.Lookup.Result = ResultServed
	case errors.Is(l.Err, ErrSilent):
		p.Lookup = Lookup{Result: ResultSilent, Error: l.Err.Error()}
	default:
		p.Lookup = Lookup{Result: ResultError, Error: l.Err.Error()}
	}
	p.Served = drift.JSON(l.Served)
	p.Expected = drift.JSON(out.Expected)
	if p.Lookup.Result != ResultError {
		p.Drift = drift.Compare(out.Expected, l.Served)
	}
	if p.Drift == nil {
		p.Drift = []drift.Change{}
	}
	// Always a list, never null: scripts take len(findings).
	p.Findings = append(append([]finding.Finding{}, portFindings(in, l, out, p)...), shared...)
	finding.Sort(p.Findings)
	return p
}

func portFindings(in Input, l PortLookup, out expect.Outcome, p PortReport) []finding.Finding {
	var fs []finding.Finding
	add := func(code string, level finding.Level, format string, args ...interface{}) {
		fs = append(fs, finding.Finding{Code: code, Level: level, Message: fmt.Sprintf(format, args...), RouteIndex: -1})
	}
	what := "the profile"
	if c := out.InEffect; c != nil {
		what = fmt.Sprintf("ServiceProfile %s/%s", c.Namespace, c.Name)
	}

	switch out.Source {
	case expect.SourceRejected:
		add(analyze.CodeServiceRejected, finding.Error,
			"the destination rejects lookups for %s/%s (%s: %s): proxies get no profile for it", in.Service.Namespace, in.Service.Name, out.Rejected.Code, out.Rejected.Reason)
	case expect.SourceNone:
		add(analyze.CodePortNotOnService, finding.Warning,
			"port %d is not a port of Service %s/%s (ports: %s): the destination sends an empty profile and proxies use policy routes; pass --port with a service port",
			l.Port, in.Service.Namespace, in.Service.Name, portList(in.Service))
	case expect.SourceDefault:
		add(analyze.CodeDefaultProfile, finding.Info,
			"no ServiceProfile named %s in %s: the default profile is served, so there are no routes, no per-route metrics (rt_route), retries or timeouts; create one to get them",
			out.FQDN, namespacesSearched(in))
	}

	if out.Unserved != nil {
		fs = append(fs, analyze.Unservable(out.Unserved, what))
	}
	fs = append(fs, analyze.TranslationNotes(out.Notes)...)

	switch p.Lookup.Result {
	case ResultSilent:
		if out.Unserved == nil {
			add(analyze.CodeDestinationSilent, finding.Error,
				"the destination sent nothing although %s translates cleanly here: it may not see the object yet, run with a different --cluster-domain, or be overloaded; check the linkerd-destination logs",
				what)
		}
	case ResultServed:
		if out.Source != expect.SourceNone && gproto.Equal(l.Served, translate.PortNotOnService()) {
			add(analyze.CodePortNotOnService, finding.Warning,
				"the destination sent an empty profile, which it sends for a port that is not on the Service, although port %d is on Service %s/%s: its view of the Service is stale (check the linkerd-destination logs, or restart it)",
				l.Port, in.Service.Namespace, in.Service.Name)
		}
		if out.Expected != nil && out.Opaque && !l.Served.GetOpaqueProtocol() && out.Source != expect.SourceNone {
			add(analyze.CodeOpaqueProtocolStale, finding.Info,
				"the destination reported opaqueProtocol:false although %s: a known destination bug on fresh subscriptions (it forgets the Service's opaque ports after the last subscriber leaves); meshed proxies holding a subscription get the right value",
				out.OpaqueWhy)
		}
		if len(p.Drift) > 0 && !onlyOpaqueDrift(p, out) {
			add(analyze.CodeDrift, finding.Warning,
				"%d field(s) served differ from what %s predicts (see DRIFT): the destination may be stale or see a different object; compare resourceVersion and check the linkerd-destination logs",
				len(p.Drift), what)
		}
	}

	if out.Opaque && out.Source != expect.SourceNone {
		routes := 0
		if out.InEffect != nil {
			routes = len(out.InEffect.Profile.Spec.Routes)
		}
		if routes > 0 {
			add(analyze.CodeOpaquePort, finding.Warning,
				"port %d is opaque because %s: traffic is proxied as TCP, so the %d HTTP route(s) never apply; remove the port from the annotation if it speaks HTTP",
				l.Port, out.OpaqueWhy, routes)
		} else {
			add(analyze.CodeOpaquePort, finding.Info,
				"port %d is opaque because %s: traffic is proxied as TCP, HTTP routes would never apply", l.Port, out.OpaqueWhy)
		}
	}

	// What the proxy makes of what it is (or would be) sent.
	if prof := l.Served; prof != nil {
		fs = append(fs, analyze.ProxyDrops(prof)...)
	} else if out.Expected != nil {
		fs = append(fs, analyze.ProxyDrops(out.Expected)...)
	}

	if out.InEffect != nil {
		sp := out.InEffect.Profile
		if len(sp.Spec.Routes) == 0 && len(sp.Spec.DstOverrides) == 0 && out.Unserved == nil {
			add(analyze.CodeProfileWithoutRoutes, finding.Info,
				"%s has neither routes nor dstOverrides: proxies ignore it and use policy routes (its retryBudget has no effect)", what)
		}
		if len(sp.Spec.Routes) > 0 || len(sp.Spec.DstOverrides) > 0 {
			for _, h := range in.HTTPRoutes {
				if h.Port != 0 && h.Port != l.Port {
					continue
				}
				add(analyze.CodeHTTPRouteIgnored, finding.Warning,
					"HTTPRoute %s/%s (%s) is attached to this Service but is ignored: proxies use %s because it has routes or dstOverrides; move the routes to one of them",
					h.Namespace, h.Name, h.Group, what)
			}
		}
	}
	return fs
}

// sharedFindings do not depend on the port.
func sharedFindings(in Input, fqdn string) []finding.Finding {
	var fs []finding.Finding
	for _, c := range in.Candidates {
		if c.Name == fqdn && c.DecodeErr != nil {
			fs = append(fs, finding.Finding{Code: analyze.CodeUndecodable, Level: finding.Error, RouteIndex: -1,
				Message: fmt.Sprintf("ServiceProfile %s/%s cannot be decoded by the control plane and is ignored: %v", c.Namespace, c.Name, c.DecodeErr)})
		}
	}
	for _, ns := range expect.Overrides(in.Service, in.ClusterDomain, in.Candidates) {
		if ns == in.Client.Namespace {
			continue // it is the profile in effect; the source says so
		}
		fs = append(fs, finding.Finding{Code: analyze.CodeClientOverride, Level: finding.Info, RouteIndex: -1,
			Message: fmt.Sprintf("clients in namespace %s get ServiceProfile %s/%s instead (see: --from-namespace %s)", ns, ns, fqdn, ns)})
	}
	for _, n := range in.NearbyProfiles {
		if n.Name == fqdn {
			continue
		}
		if why := NearMiss(n.Name, in.Service, in.ClusterDomain, in.KnownServices, n.Namespace); why != "" {
			fs = append(fs, finding.Finding{Code: analyze.CodeNameNearMiss, Level: finding.Warning, RouteIndex: -1,
				Message: fmt.Sprintf("ServiceProfile %s/%s is never used: %s; rename it to %s", n.Namespace, n.Name, why, fqdn)})
		}
	}
	return fs
}

func onlyOpaqueDrift(p PortReport, out expect.Outcome) bool {
	for _, d := range p.Drift {
		if d.Field != "opaqueProtocol" {
			return false
		}
	}
	return out.Opaque
}

func portList(s expect.Service) string {
	var ps []string
	for _, p := range s.Ports {
		ps = append(ps, fmt.Sprint(p.Port))
	}
	if len(ps) == 0 {
		return "none"
	}
	return strings.Join(ps, ", ")
}

func namespacesSearched(in Input) string {
	if in.Client.Namespace != "" && in.Client.Namespace != in.Service.Namespace {
		return fmt.Sprintf("namespaces %s (client) or %s (service)", in.Client.Namespace, in.Service.Namespace)
	}
	return "namespace " + in.Service.Namespace
}
