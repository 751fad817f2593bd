package metrics

import (
	"fmt"
	"strings"
)

// Facts are what the cluster says about the Service a table is for, so that
// an empty or default-only table can be explained.
type Facts struct {
	// Target names what was asked, e.g. "svc/webapp in namespace books".
	Target string
	// Scraped names the scraped workload, e.g. "deploy/traffic"; it is what
	// to restart when its proxies are stale.
	Scraped string
	// Service is set when the table is about one Service.
	Service bool
	// Profile is "namespace/name" of the ServiceProfile in effect for the
	// scraped proxies ("" for none), as `get` decides it.
	Profile string
	// ProfileRoutes is how many routes it has.
	ProfileRoutes int
	// ProfileSource is how it was chosen (client-namespace,
	// service-namespace, default, ...).
	ProfileSource string
	// ProfileUnknown says why the ServiceProfiles could not be read; no
	// conclusion about the route API is drawn then.
	ProfileUnknown string
	// PolicyRoutes is how many HTTPRoutes/GRPCRoutes have the Service as a
	// parent (-1: unknown).
	PolicyRoutes int
	// Window is the length of the comparison.
	Window string
}

// Note explains something about a table. Codes are stable.
type Note struct {
	Code    string `json:"code"`
	Level   string `json:"level"` // info | warning
	Message string `json:"message"`
}

// Note codes.
const (
	NoteNoTraffic      = "no-traffic"
	NoteNoRouteMetrics = "no-route-metrics"
	NoteDefaultOnly    = "no-route-matched"
	NoteStaleProfile   = "stale-profile"
	NotePolicyMode     = "policy-mode"
	NoteProfileMode    = "profile-mode"
	NoteInboundPolicy  = "inbound-policy"
	NoteRestarted      = "proxy-restarted"
	NoteProfileUnknown = "profile-unknown"
)

// Explain says why a table is empty or shows only the default route, and
// whether the proxies use the route API the cluster says they should.
func Explain(res Result, direction string, f Facts) []Note {
	var notes []Note
	add := func(code, level, format string, args ...interface{}) {
		notes = append(notes, Note{Code: code, Level: level, Message: fmt.Sprintf(format, args...)})
	}
	var sp, policy, named, def float64
	for _, r := range res.Rows {
		if r.API == APIServiceProfile {
			sp += r.Requests
		} else {
			policy += r.Requests
		}
		if strings.HasPrefix(r.Route, "[DEFAULT") {
			def += r.Requests
		} else {
			named += r.Requests
		}
	}
	if len(res.Restarted) > 0 {
		add(NoteRestarted, "info", "the proxy of %s restarted during the window: its counters were read from zero", strings.Join(res.Restarted, ", "))
	}
	total := sp + policy
	switch {
	case total == 0 && res.Traffic == 0:
		add(NoteNoTraffic, "info", "no traffic: the %d scraped proxies counted no %s request for %s in %s; send traffic or widen --window",
			res.Proxies, direction, f.Target, f.Window)
	case total == 0:
		if direction == "inbound" {
			add(NoteNoRouteMetrics, "info", "%.0f inbound request(s) reached the proxies but none on a ServiceProfile route: server proxies count routes only for a ServiceProfile they find for the request's name; policy routes (HTTPRoute/GRPCRoute) are counted by client proxies: use --from CLIENT", res.Traffic)
		} else {
			add(NoteNoRouteMetrics, "info", "%.0f request(s) to %s went through the proxies but on no route (neither ServiceProfile nor policy route metrics grew): opaque or non-HTTP traffic, a proxy too old for route metrics, or a cluster domain other than --cluster-domain", res.Traffic, f.Target)
		}
	case named == 0 && def > 0:
		add(NoteDefaultOnly, "info", "traffic matches no route: all %.0f request(s) went to %s; check the routes' conditions against real requests (kubectl profiles unmatched)", def, DefaultRoute)
	}
	if f.Service && f.ProfileUnknown != "" {
		add(NoteProfileUnknown, "warning", "cannot tell which route API should apply: %s", f.ProfileUnknown)
	}
	if f.Service && f.ProfileUnknown == "" {
		switch {
		case sp > 0 && f.Profile == "":
			add(NoteStaleProfile, "warning", "the proxies of %s still count ServiceProfile routes for %s, but no ServiceProfile is in effect (deleted?): they are stale: restart %s",
				f.Scraped, f.Target, f.Scraped)
		case direction == "outbound" && policy > 0 && sp == 0 && f.Profile != "" && f.ProfileRoutes > 0:
			add(NotePolicyMode, "warning", "ServiceProfile %s has %d route(s) but the proxies of %s route %s with policy routes: compare with what the destination serves (kubectl profiles get)",
				f.Profile, f.ProfileRoutes, f.Scraped, f.Target)
		case direction == "outbound" && sp > 0 && f.PolicyRoutes > 0:
			add(NoteProfileMode, "info", "%d HTTPRoute/GRPCRoute(s) have %s as parent, but the proxies use ServiceProfile %s, which takes precedence while it has routes",
				f.PolicyRoutes, f.Target, f.Profile)
		case direction == "inbound" && f.PolicyRoutes > 0:
			add(NoteInboundPolicy, "info", "%d HTTPRoute/GRPCRoute(s) have %s as parent: server proxies do not count them per route; use --from CLIENT to see them",
				f.PolicyRoutes, f.Target)
		}
	}
	return notes
}
