package report

import (
	"errors"
	"sort"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"

	"github.com/kubectl-profiles/kubectl-profiles/diag/analyze"
	"github.com/kubectl-profiles/kubectl-profiles/diag/drift"
	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
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
	// Policy is the policy half's input; nil: not looked at.
	Policy *PolicyInput
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
	// Policy is the policy controller's answer (Input.Policy set): nil
	// with PolicyErr when the lookup failed; PolicyErr wraps NoPolicy
	// (see PolicyInput) when the controller has no policy for the target.
	Policy    *dpolicy.Policy
	PolicyErr error
}

// Build assembles the report.
func Build(in Input) Report {
	fqdn := profile.FQDN(in.Service.Name, in.Service.Namespace, in.ClusterDomain)
	r := Report{
		Service:   ServiceID{Namespace: in.Service.Namespace, Name: in.Service.Name},
		FQDN:      fqdn,
		Client:    in.Client,
		Overrides: expect.Overrides(in.Service, in.ClusterDomain, in.Candidates),
		Ports:     []PortReport{}, NotLookedUp: []NotLookedUp{},
	}
	if r.Overrides == nil {
		r.Overrides = []string{}
	}
	sort.Strings(r.Overrides)
	for _, l := range in.Lookups {
		r.Ports = append(r.Ports, buildPort(in, l))
	}
	return r
}

func buildPort(in Input, l PortLookup) PortReport {
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
	facts := &analyze.Lookup{
		Service: in.Service, Port: l.Port, ClientNamespace: in.Client.Namespace, DefaultOpaquePorts: in.DefaultOpaquePorts,
		Outcome: out, Served: l.Served, Silent: p.Lookup.Result == ResultSilent, Drift: p.Drift,
		Candidates: in.Candidates, NearbyProfiles: in.NearbyProfiles, KnownServices: in.KnownServices,
	}
	if p.Lookup.Result == ResultError {
		facts.Err = l.Err
	}
	af := analyze.LookupFacts(facts, in.ClusterDomain, in.HTTPRoutes)
	if in.Policy != nil {
		af.Scope |= analyze.PolicyPath
		af.PolicyPath = buildPolicy(in, l, &p)
	}
	// The same analyzers as check, over what this lookup shows. Always a
	// list, never null: scripts take len(findings).
	p.Findings = []finding.Finding{}
	for _, is := range analyze.Run(af) {
		p.Findings = append(p.Findings, is.Finding)
	}
	finding.Sort(p.Findings)
	return p
}
