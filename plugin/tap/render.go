package tap

import (
	"sort"
	"strconv"

	"google.golang.org/grpc/codes"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapcapture"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapprofile"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// UnknownRoute is printed as rt_route when the route cannot be computed
// (no Service name, failed lookup, or a response whose request was not
// seen).
const UnknownRoute = "?"

// routeOf is the rt_route this plugin prints for res: the route name, ""
// when the proxy applies no route (exactly when it reports none), or
// UnknownRoute.
func routeOf(res tapprofile.Result) string {
	if res.Mode == dpolicy.ModePolicy && res.Status != tapprofile.Unknown {
		return "" // the proxy reports no route for policy-routed requests
	}
	switch res.Status {
	case tapprofile.Matched:
		return res.Route
	case tapprofile.Unknown:
		return UnknownRoute
	}
	return ""
}

// appendLine renders ev like `linkerd viz tap` (shared/reference/tap-api.md
// §4: the same fields in the same order, labels sorted in -o wide), then
// rt_route=<computed>, then proxy_rt_route=<reported> when the proxy
// reported a route label that differs. Untrusted text is escaped.
func appendLine(b []byte, ev *tapclient.Event, res tapprofile.Result, wide bool) []byte {
	id := ev.ID.String()
	switch ev.Kind {
	case tapclient.KindRequest:
		b = append(b, "req id="...)
		b = append(b, id...)
		b = appendFlow(b, ev)
		b = append(b, " :method="...)
		b = append(b, cli.Escape(ev.Method)...)
		b = append(b, " :authority="...)
		b = append(b, cli.Escape(ev.Authority)...)
		b = append(b, " :path="...)
		b = append(b, cli.Escape(ev.Path)...)
	case tapclient.KindResponse:
		b = append(b, "rsp id="...)
		b = append(b, id...)
		b = appendFlow(b, ev)
		b = append(b, " :status="...)
		b = strconv.AppendUint(b, uint64(ev.HTTPStatus), 10)
		b = append(b, " latency="...)
		b = strconv.AppendInt(b, ev.Latency.Microseconds(), 10)
		b = append(b, "µs"...)
	case tapclient.KindEnd:
		b = append(b, "end id="...)
		b = append(b, id...)
		b = appendFlow(b, ev)
		switch {
		case ev.GRPCStatus != nil:
			b = append(b, " grpc-status="...)
			b = append(b, codes.Code(*ev.GRPCStatus).String()...)
		case ev.ResetCode != nil:
			b = append(b, " reset-error="...)
			b = strconv.AppendUint(b, uint64(*ev.ResetCode), 10)
		}
		b = append(b, " duration="...)
		b = strconv.AppendInt(b, ev.Duration.Microseconds(), 10)
		b = append(b, "µs response-length="...)
		b = strconv.AppendUint(b, ev.ResponseBytes, 10)
		b = append(b, 'B')
	default:
		b = append(b, "unknown"...)
		b = appendFlow(b, ev)
	}
	if wide {
		b = appendLabels(b, " src_", ev.Source.Labels, "")
		b = appendLabels(b, " dst_", ev.Destination.Labels, "")
	}
	route := routeOf(res)
	b = append(b, " rt_route="...)
	b = append(b, cli.Escape(route)...)
	if wide {
		// The proxy's other route labels, if it ever sends any.
		b = appendLabels(b, " rt_", ev.RouteLabels, "route")
	}
	if reported := ev.Route(); reported != "" && reported != route {
		b = append(b, " proxy_rt_route="...)
		b = append(b, cli.Escape(reported)...)
	}
	if wide {
		b = appendPolicy(b, res)
	}
	return append(b, '\n')
}

// appendPolicy writes, for a request the proxy routes by client policy,
// mode=policy then route=<kind>/<ns>/<name>#rule<i> (the rule it picks),
// route=none proxy_response=404 (no rule matches: the proxy answers
// itself), or route=? route_candidate=<rule> (undecided), and
// backend_failure="<share>: <message>" for a rule with an invalid backend.
func appendPolicy(b []byte, res tapprofile.Result) []byte {
	if res.Mode == "" {
		return b
	}
	b = append(b, " mode="...)
	b = append(b, res.Mode...)
	if res.Mode != dpolicy.ModePolicy {
		return b
	}
	switch res.Status {
	case tapprofile.PolicyMatched:
		b = append(b, " route="...)
		b = append(b, cli.Escape(res.PolicyRoute)...)
		if res.BackendFailure != "" {
			b = append(b, " backend_failure="...)
			b = strconv.AppendQuote(b, res.BackendFailure)
		}
	case tapprofile.PolicyNoRoute:
		b = append(b, " route=none proxy_response="...)
		b = append(b, proxyResponse(res)...)
	case tapprofile.NoRoutes:
		b = append(b, " route=none"...)
	case tapprofile.Unknown:
		b = append(b, " route=?"...)
		if res.PolicyRoute != "" {
			b = append(b, " route_candidate="...)
			b = append(b, cli.Escape(res.PolicyRoute)...)
		}
	}
	return b
}

// proxyResponse is what the proxy answers a request no rule matches.
func proxyResponse(res tapprofile.Result) string {
	if res.Matcher != nil && res.Matcher.GRPC() {
		return "grpc-status-5"
	}
	return "404"
}

// appendFlow writes linkerd's flow: " proxy=in  src=... dst=... tls=...".
func appendFlow(b []byte, ev *tapclient.Event) []byte {
	tls := ""
	switch ev.Direction {
	case tapclient.DirectionInbound:
		b = append(b, " proxy=in "...)
		tls = ev.Source.Labels["tls"]
	case tapclient.DirectionOutbound:
		b = append(b, " proxy=out"...)
		tls = ev.Destination.Labels["tls"]
	default:
		b = append(b, " proxy=???"...)
	}
	b = append(b, " src="...)
	b = append(b, ev.Source.String()...)
	b = append(b, " dst="...)
	b = append(b, ev.Destination.String()...)
	b = append(b, " tls="...)
	return append(b, cli.Escape(tls)...)
}

func appendLabels(b []byte, prefix string, labels map[string]string, skip string) []byte {
	if len(labels) == 0 {
		return b
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		if k != skip {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		b = append(b, prefix...)
		b = append(b, cli.Escape(k)...)
		b = append(b, '=')
		b = append(b, cli.Escape(labels[k])...)
	}
	return b
}

// appendJSON renders ev as one NDJSON line in linkerd's shape plus rtRoute
// and rtRouteInfo.
func appendJSON(b []byte, ev *tapclient.Event, res tapprofile.Result, clusterDomain string) ([]byte, error) {
	route := routeOf(res)
	info := &tapcapture.RouteInfo{Status: res.Status.String(), ProxyRoute: ev.Route(), Reason: res.Reason}
	if res.Status == tapprofile.Unknown {
		route = ""
	}
	if res.HasKey {
		info.Profile = res.Key.Path(clusterDomain)
		info.ClientNamespace = res.Key.ClientNamespace
	}
	info.Drift = res.Status != tapprofile.Unknown && info.ProxyRoute != "" && info.ProxyRoute != route
	info.Mode, info.Route, info.BackendFailure = string(res.Mode), res.PolicyRoute, res.BackendFailure
	if res.Status == tapprofile.PolicyNoRoute {
		info.ProxyResponse = proxyResponse(res)
	}
	return tapcapture.AppendEvent(b, ev, route, info)
}
