// Package report assembles what `kubectl profiles get` shows for one Service:
// per port, the profile in effect, what is served, what should be served,
// the drift between the two and findings that explain it. It is pure: the
// caller supplies cluster facts and the destination's answers.
package report

import (
	"encoding/json"
	"errors"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"

	"github.com/kubectl-profiles/kubectl-profiles/diag/ctrlplane"
	"github.com/kubectl-profiles/kubectl-profiles/diag/drift"
	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
)

// Report is the documented JSON/YAML contract of `get` (see README).
type Report struct {
	Service   ServiceID    `json:"service"`
	FQDN      string       `json:"fqdn"`
	Client    Client       `json:"client"`
	Overrides []string     `json:"overrides"`
	Ports     []PortReport `json:"ports"`
	// NotLookedUp lists what was not looked up and why (a Service without
	// ports, a UDP/SCTP-only port, a Service lacking --port). Always a list.
	NotLookedUp []NotLookedUp `json:"notLookedUp"`
}

// NotLookedUp is a port (0: the whole Service) that get did not look up.
type NotLookedUp struct {
	Port   uint32 `json:"port,omitempty"`
	Reason string `json:"reason"`
}

// ServiceID names a Service.
type ServiceID struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// Client is the fake proxy's identity: the context token it sent.
type Client struct {
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"` // "" without --from
	Token     string `json:"token"`
}

// PortReport is the result for one service port.
type PortReport struct {
	Port     uint32            `json:"port"`
	InEffect InEffect          `json:"inEffect"`
	Lookup   Lookup            `json:"lookup"`
	Served   json.RawMessage   `json:"served"`
	Expected json.RawMessage   `json:"expected"`
	Drift    []drift.Change    `json:"drift"`
	Findings []finding.Finding `json:"findings"`
	// Mode is the API the proxy uses for this port and client
	// (serviceprofile | policy), ModeReason why; Policy is the policy half.
	// All three are absent when the policy path was not looked at.
	Mode       dpolicy.Mode  `json:"mode,omitempty"`
	ModeReason string        `json:"modeReason,omitempty"`
	Policy     *PolicyReport `json:"policy,omitempty"`
	// ControlPlane is what the destination's metrics say about this
	// profile (subscribers, updates, overflows); absent when they were not
	// read.
	ControlPlane *ctrlplane.Profile `json:"controlPlane,omitempty"`

	// The decoded messages, for rendering; not part of the contract.
	ServedProfile   *pb.DestinationProfile `json:"-"`
	ExpectedProfile *pb.DestinationProfile `json:"-"`
	// RawRegexes of the routes in effect, by route index, for -o wide.
	Outcome expect.Outcome `json:"-"`
}

// InEffect says which ServiceProfile the destination uses for this client.
type InEffect struct {
	Source          expect.Source `json:"source"`
	Namespace       string        `json:"namespace,omitempty"`
	Name            string        `json:"name,omitempty"`
	ResourceVersion string        `json:"resourceVersion,omitempty"`
}

// Lookup is how the GetProfile call went.
type Lookup struct {
	// Result is "served", "silent" (nothing within the timeout) or "error".
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
	// Waited is how long a silent lookup was waited for (a Go duration):
	// --timeout, or less for a lookup predicted silent (adaptive wait).
	Waited string `json:"waited,omitempty"`
}

// Lookup results.
const (
	ResultServed = "served"
	ResultSilent = "silent"
	ResultError  = "error"
)

// ErrSilent is what a destination client returns when the stream stayed
// open but sent nothing before the timeout.
var ErrSilent = errors.New("the destination sent nothing before the timeout")
