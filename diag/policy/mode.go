package policy

import (
	"fmt"
	"strings"

	dpb "github.com/linkerd/linkerd2-proxy-api/go/destination"
)

// Mode is the API whose routes a proxy uses for a target.
type Mode string

// Modes.
const (
	ModeServiceProfile Mode = "serviceprofile"
	ModePolicy         Mode = "policy"
)

// Decision is the proxy's choice for one target, with a one-line reason.
type Decision struct {
	Mode Mode `json:"mode"`
	// Protocol is what the proxy does with connections to the target:
	// the policy variant, or opaque when the profile says so.
	Protocol Protocol `json:"protocol"`
	Reason   string   `json:"reason"`
}

// Decide applies the proxy's rule (reference §5) to what both APIs served
// for one target: profile is the DestinationProfile (nil when none was
// served) and pol the OutboundPolicy (nil when the controller answered
// NotFound: the proxy then synthesizes a forward-to-endpoint policy).
//
//   - Protocol: the profile's opaque_protocol makes the target opaque;
//     otherwise the policy variant decides.
//   - HTTP: the ServiceProfile is used iff it has routes or dstOverrides and
//     a fully qualified name; otherwise client policy.
//   - Opaque: only the profile's dstOverrides override the policy; TLS
//     targets always use the policy's TLS routes.
func Decide(profile *dpb.DestinationProfile, pol *Policy) Decision {
	proto := Detect
	if pol != nil {
		proto = pol.Protocol
	}
	if profile.GetOpaqueProtocol() {
		proto = Opaque
	}
	fqn := profile.GetFullyQualifiedName()
	routes, targets := len(profile.GetRoutes()), len(profile.GetDstOverrides())
	named := fqn != ""

	policyWhat := "client policy"
	if pol == nil {
		policyWhat = "no client policy (the policy controller has none for this target: the proxy forwards to the original destination)"
	}
	switch proto {
	case TLS:
		return Decision{ModePolicy, proto, "the policy serves TLS routes for this port: no HTTP routing; the proxy uses client policy (tls routes)"}
	case Opaque:
		if targets > 0 && named {
			return Decision{ModeServiceProfile, proto, fmt.Sprintf("%s target: ServiceProfile %s has %s, which override the policy's %s routes", proto, fqn, plural(targets, "dstOverride"), proto)}
		}
		why := "the policy marks the port " + string(proto)
		if profile.GetOpaqueProtocol() {
			why = "the profile marks the port opaque"
		}
		return Decision{ModePolicy, proto, fmt.Sprintf("%s: no HTTP routing; the proxy uses %s (%s routes)", why, policyWhat, proto)}
	}
	if (routes > 0 || targets > 0) && named {
		var has []string
		if routes > 0 {
			has = append(has, plural(routes, "route"))
		}
		if targets > 0 {
			has = append(has, plural(targets, "dstOverride"))
		}
		return Decision{ModeServiceProfile, proto, fmt.Sprintf("ServiceProfile %s has %s: HTTPRoutes, GRPCRoutes, retry/timeout annotations and failure accrual are ignored", fqn, strings.Join(has, " and "))}
	}
	why := "no ServiceProfile was served"
	switch {
	case profile == nil:
	case routes > 0 || targets > 0:
		why = "the served profile has no fully qualified name"
	case fqn != "":
		why = fmt.Sprintf("ServiceProfile %s has no routes and no dstOverrides (it is ignored, retry budget included)", fqn)
	default:
		why = "the served profile is empty (no ServiceProfile)"
	}
	return Decision{ModePolicy, proto, why + ": the proxy uses " + policyWhat + routeKinds(pol)}
}

// routeKinds says which routes the policy carries: " (HTTPRoutes)",
// " (GRPCRoutes)" or " (the default route)".
func routeKinds(pol *Policy) string {
	if pol == nil {
		return ""
	}
	kinds := map[string]bool{}
	var order []string
	for _, r := range pol.Routes {
		k := r.Kind + "s"
		if r.Default != "" {
			k = "the default route"
		}
		if !kinds[k] {
			kinds[k] = true
			order = append(order, k)
		}
	}
	if len(order) == 0 {
		return ""
	}
	return " (" + strings.Join(order, ", ") + ")"
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
