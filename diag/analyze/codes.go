// Package analyze holds the analyzers shared by `get` and `check`: each one
// looks at plain data (a ServiceProfile, a served DestinationProfile, facts
// about the Service) and returns coded findings.
package analyze

import "github.com/kubectl-profiles/kubectl-profiles/diag/finding"

// Finding codes. They are a stable contract: never rename one, add new ones.
var (
	CodeDefaultProfile = finding.Register("default-profile", finding.Info,
		"No ServiceProfile for this service: the default profile is served (no routes, so no per-route metrics, retries or timeouts).")
	CodeProfileWithoutRoutes = finding.Register("profile-without-routes", finding.Info,
		"The profile has neither routes nor dstOverrides: proxies ignore it and use the policy controller's routes (HTTPRoutes) instead.")
	CodeDestinationSilent = finding.Register("destination-silent", finding.Error,
		"The destination service sent nothing for this lookup within the timeout.")
	CodeUnservable = finding.Register("profile-unservable", finding.Error,
		"The control plane cannot translate the profile (e.g. an unparseable retryBudget.ttl, a route without condition): it sends nothing, proxies keep their previous profile.")
	CodeUndecodable = finding.Register("profile-undecodable", finding.Error,
		"The control plane cannot decode the object (spec.opaquePorts set, or a request `not` written as a list): it is invisible to the destination and can break its ServiceProfile watch.")
	CodePortNotOnService = finding.Register("port-not-on-service", finding.Warning,
		"The port is not a port of the Service: the destination sends an empty profile and the proxy falls back to policy routes.")
	CodeServiceRejected = finding.Register("service-rejected", finding.Error,
		"The destination rejects lookups for this Service (ExternalName Services have no profile).")
	CodeTimeoutUnparsable = finding.Register("timeout-unparsable", finding.Warning,
		"A route timeout does not parse as a Go duration (e.g. `10 s`, `1m30`): the route is served without any timeout.")
	CodeTimeoutNegative = finding.Register("timeout-negative", finding.Warning,
		"A negative route timeout: the proxy ignores it.")
	CodeRegexDropped = finding.Register("regex-dropped-by-proxy", finding.Error,
		"A pathRegex that the proxy's (Rust) regex engine cannot compile: the proxy drops the whole route.")
	CodeMatchDropped = finding.Register("match-dropped-by-proxy", finding.Warning,
		"Part of a request condition the proxy cannot convert is dropped, which changes what the route matches.")
	CodeStatusOneSided = finding.Register("status-range-one-sided", finding.Warning,
		"A response status range with only min or only max: the proxy cannot convert it and drops that response class, so those responses are not classified as failures.")
	CodeClassDropped = finding.Register("response-class-dropped-by-proxy", finding.Warning,
		"A response class the proxy cannot convert is dropped: matching responses count as successes.")
	CodeRetryBudgetDropped = finding.Register("retry-budget-dropped-by-proxy", finding.Error,
		"The retry budget is outside what the proxy accepts (ttl 1s..60s, retryRatio 0..1000): it is dropped and retryable routes get no retries.")
	CodeDstOverrideDropped = finding.Register("dst-override-dropped-by-proxy", finding.Warning,
		"A dstOverride the proxy drops: weight 0, or an authority that is not name:port.")
	CodeNameNearMiss = finding.Register("name-near-miss", finding.Warning,
		"A ServiceProfile whose name is close to, but not, the service's FQDN <svc>.<ns>.svc.<cluster-domain>: it is never used.")
	CodeOpaquePort = finding.Register("opaque-port", finding.Warning,
		"The port is opaque (annotation or control-plane default): traffic is proxied as TCP and HTTP routes never apply.")
	CodeOpaqueProtocolStale = finding.Register("opaque-protocol-stale", finding.Info,
		"The destination reported opaqueProtocol:false for a port the Service marks opaque: a known server bug on fresh subscriptions, not a configuration problem.")
	CodeHTTPRouteIgnored = finding.Register("httproute-ignored", finding.Warning,
		"HTTPRoutes are attached to this Service, but the ServiceProfile has routes or dstOverrides: proxies use the profile and ignore the HTTPRoutes.")
	CodeClientOverride = finding.Register("client-override", finding.Info,
		"A ServiceProfile with the service's FQDN lives in another namespace: clients in that namespace get it instead of the service's own.")
	CodeDrift = finding.Register("served-differs", finding.Warning,
		"What the destination serves differs from what the ServiceProfile in effect predicts (stale control plane, admission changes, or a control-plane bug).")
)
