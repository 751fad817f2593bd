package analyze

import (
	"fmt"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
)

// PolicyFacts are the facts about the policy path for one Service port as
// seen by one client: what the controller indexes (Cluster: Services,
// HTTPRoutes, GRPCRoutes), what it should serve (Expected, with a verdict
// per route naming the Service) and, for `get`, what it served.
type PolicyFacts struct {
	// Target.Port is AnyPort when it stands for every port (check: routes
	// whose parentRefs name no port, on a Service whose ports are unknown).
	Target   dpolicy.Target
	Cluster  *dpolicy.Cluster
	Expected dpolicy.Expected
	// Asked is set when the controller was asked (get); then Served is its
	// answer, nil with Err set when the lookup failed, nil with NoPolicy
	// when it has no policy for the target (NotFound).
	Asked    bool
	Served   *dpolicy.Policy
	NoPolicy bool
	Err      error
	// Decision is the proxy's choice between the two APIs (get only).
	Decision *dpolicy.Decision
	// ControlPlane is the control plane's release, if known; VersionAsked
	// is set when the plugin tried to read it (get, check in a cluster).
	ControlPlane dpolicy.ControlPlane
	VersionAsked bool
	// ServiceKnown: Target.Service is a real object (check synthesizes
	// the parent Service of a route when neither the files nor the cluster
	// hold it).
	ServiceKnown bool
	// Notes are what could not be read of the route kinds (CRDs absent, only
	// v1beta1 served, RBAC), one line each.
	Notes []string
}

// ServedOrExpected is the policy the proxy works on: what was served, else
// what should be.
func (p *PolicyFacts) ServedOrExpected() *dpolicy.Policy {
	if p.Served != nil {
		return p.Served
	}
	return p.Expected.Policy
}

// port names the target's port in messages: "port 80", or "every port"
// for AnyPort.
func (p *PolicyFacts) port() string {
	if p.Target.Port == AnyPort {
		return "every port"
	}
	return fmt.Sprintf("port %d", p.Target.Port)
}
