package report

import (
	"errors"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-profiles/kubectl-profiles/diag/analyze"
	"github.com/kubectl-profiles/kubectl-profiles/diag/drift"
	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
)

// PolicyInput is what the policy half of a report is built from: the
// Service as the policy controller reads it, what the controller indexes,
// and control-plane facts.
type PolicyInput struct {
	Service *corev1.Service
	// Authority: the lookup is by authority (headless Service), see
	// diag/policy.Target.
	Authority bool
	// Cluster is what the controller indexes; nil when it could not be
	// read (then nothing is predicted or compared).
	Cluster *dpolicy.Cluster
	Options dpolicy.Options
	// ControlPlane is the control plane's release; VersionAsked says the
	// plugin tried to read it.
	ControlPlane dpolicy.ControlPlane
	VersionAsked bool
	// Notes say what could not be read of the route kinds.
	Notes []string
	// NoPolicy is the sentinel a PortLookup.PolicyErr wraps when the
	// controller has no policy for the target (NotFound).
	NoPolicy error
}

// PolicyReport is the policy half of a port's report: what the policy
// controller serves this client, in the proxy's terms.
type PolicyReport struct {
	// Lookup: result served | error | not-found (the controller has no
	// policy: the proxy forwards to the original destination).
	Lookup Lookup `json:"lookup"`
	// Protocol is the ProxyProtocol variant (detect | http1 | http2 | grpc
	// | opaque | tls).
	Protocol dpolicy.Protocol `json:"protocol,omitempty"`
	// Routes are the routes the proxy matches requests against for this
	// client, in the controller's order (served; predicted when nothing
	// was served), with each rule's effective timeouts, retry and
	// backends, and where the values come from (rules[].sources).
	Routes []PolicyRoute `json:"routes"`
	// NotServed are the routes naming the Service that this client does
	// not get on this port, each with the reason.
	NotServed      []dpolicy.Verdict       `json:"notServed"`
	FailureAccrual *dpolicy.FailureAccrual `json:"failureAccrual,omitempty"`
	Served         *dpolicy.Policy         `json:"served"`
	Expected       *dpolicy.Policy         `json:"expected"`
	// Drift lists the fields where served and expected differ.
	Drift []drift.Change `json:"drift"`
}

// PolicyRoute is one route of a policy: an HTTPRoute, a GRPCRoute or a
// synthetic route (kind "default", e.g. name "http").
type PolicyRoute struct {
	Name      string         `json:"name"`
	Namespace string         `json:"namespace,omitempty"`
	Kind      string         `json:"kind"`
	Group     string         `json:"group,omitempty"`
	Hosts     []string       `json:"hosts,omitempty"`
	Rules     []dpolicy.Rule `json:"rules"`
}

// PolicyNotFound is the policy lookup result when the controller has no
// policy for the target.
const PolicyNotFound = "not-found"

// buildPolicy fills the policy half of p (mode, reason, policy) and
// returns the analyzers' facts.
func buildPolicy(in Input, l PortLookup, p *PortReport) *analyze.PolicyFacts {
	pi := in.Policy
	t := dpolicy.Target{Service: pi.Service, Port: int32(l.Port), ClientNamespace: in.Client.Namespace, Authority: pi.Authority}
	pf := &analyze.PolicyFacts{Target: t, Cluster: pi.Cluster, Asked: true, ControlPlane: pi.ControlPlane, ServiceKnown: true,
		VersionAsked: pi.VersionAsked, Notes: pi.Notes, Served: l.Policy, Err: l.PolicyErr}
	pr := &PolicyReport{Routes: []PolicyRoute{}, NotServed: []dpolicy.Verdict{}, Drift: []drift.Change{}, Served: l.Policy}
	if pi.Cluster != nil {
		pf.Expected = dpolicy.Expect(t, pi.Cluster, pi.Options)
		pr.Expected = pf.Expected.Policy
	}
	for _, v := range pf.Expected.Routes {
		if v.Reason != dpolicy.ReasonServed {
			pr.NotServed = append(pr.NotServed, v)
		}
	}
	decidePolicy := l.Policy
	switch {
	case l.PolicyErr == nil:
		pr.Lookup.Result = ResultServed
		if pr.Expected != nil {
			pr.Drift = dpolicy.Diff(pr.Expected, l.Policy)
			if pr.Drift == nil {
				pr.Drift = []drift.Change{}
			}
		}
	case pi.NoPolicy != nil && errors.Is(l.PolicyErr, pi.NoPolicy):
		pf.NoPolicy = true
		pr.Lookup = Lookup{Result: PolicyNotFound, Error: l.PolicyErr.Error()}
	default:
		pr.Lookup = Lookup{Result: ResultError, Error: l.PolicyErr.Error()}
		decidePolicy = pr.Expected
	}
	shown := l.Policy
	if shown == nil && !pf.NoPolicy {
		shown = pr.Expected
	}
	if shown != nil {
		pr.Protocol = shown.Protocol
		pr.FailureAccrual = shown.FailureAccrual
		routes := shown.Routes
		if len(routes) == 0 && (shown.Protocol == dpolicy.Opaque || shown.Protocol == dpolicy.TLS) {
			routes = shown.OpaqueRoutes
		}
		for _, r := range routes {
			pr.Routes = append(pr.Routes, policyRoute(r, pr.Expected))
		}
	}
	prof := l.Served
	if prof == nil {
		prof = p.ExpectedProfile
	}
	d := dpolicy.Decide(prof, decidePolicy)
	switch {
	case l.Served == nil && p.ExpectedProfile != nil:
		d.Reason += " (no profile was served: decided from the ServiceProfile in effect)"
	case l.Served == nil && p.Outcome.Unserved != nil:
		d.Reason += " (the destination sends no profile at all for this ServiceProfile, see profile-unservable: proxies that had an earlier one keep it)"
	case l.PolicyErr != nil && !pf.NoPolicy && pr.Expected != nil:
		d.Reason += " (the policy lookup failed: decided from the predicted policy)"
	case l.PolicyErr != nil && !pf.NoPolicy:
		d.Reason += " (the policy lookup failed)"
	}
	pf.Decision = &d
	p.Mode, p.ModeReason, p.Policy = d.Mode, d.Reason, pr
	return pf
}

// policyRoute is r in the report's terms, with the expected side's rule
// sources when the expected policy has the same route with as many rules.
func policyRoute(r dpolicy.Route, expected *dpolicy.Policy) PolicyRoute {
	out := PolicyRoute{Name: r.Name, Namespace: r.Namespace, Kind: r.Kind, Group: r.Group, Hosts: r.Hosts, Rules: r.Rules}
	if r.Default != "" {
		out.Name, out.Kind = r.Default, "default"
	}
	if out.Rules == nil {
		out.Rules = []dpolicy.Rule{}
	}
	if expected == nil {
		return out
	}
	for _, e := range append(append([]dpolicy.Route{}, expected.Routes...), expected.OpaqueRoutes...) {
		if e.Kind != r.Kind || e.Namespace != r.Namespace || e.Name != r.Name || e.Default != r.Default || len(e.Rules) != len(r.Rules) {
			continue
		}
		rules := make([]dpolicy.Rule, len(r.Rules))
		copy(rules, r.Rules)
		for i := range rules {
			if rules[i].Sources == nil {
				rules[i].Sources = e.Rules[i].Sources
			}
		}
		out.Rules = rules
		break
	}
	return out
}
