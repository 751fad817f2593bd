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
		"The destination sends an empty profile: the port is not a port of the Service (or the destination's view of the Service is stale), and the proxy falls back to policy routes.")
	CodeServiceRejected = finding.Register("service-rejected", finding.Error,
		"The destination rejects lookups for this Service (ExternalName Services have no profile).")
	CodeTimeoutUnparsable = finding.Register("timeout-unparsable", finding.Error,
		"A route timeout does not parse as a Go duration (e.g. `10 s`, `1m30`): the sp-validator webhook rejects the profile; without the webhook the route is served without any timeout.")
	CodeTimeoutNegative = finding.Register("timeout-negative", finding.Error,
		"A negative route timeout: the proxy ignores it.")
	CodeRegexDropped = finding.Register("regex-dropped-by-proxy", finding.Error,
		"A pathRegex that the proxy's (Rust) regex engine cannot compile: the proxy drops the whole route.")
	CodeMatchDropped = finding.Register("match-dropped-by-proxy", finding.Error,
		"Part of a request condition the proxy cannot convert is dropped, which changes what the route matches.")
	CodeStatusOneSided = finding.Register("status-range-one-sided", finding.Error,
		"A response status range with only min or only max: the proxy cannot convert it and drops that response class, so those responses are not classified as failures.")
	CodeClassDropped = finding.Register("response-class-dropped-by-proxy", finding.Error,
		"A response class the proxy cannot convert is dropped: matching responses count as successes.")
	CodeRetryBudgetDropped = finding.Register("retry-budget-dropped-by-proxy", finding.Error,
		"The retry budget is outside what the proxy accepts (ttl 1s..60s, retryRatio 0..1000): it is dropped and retryable routes get no retries.")
	CodeDstOverrideDropped = finding.Register("dst-override-dropped-by-proxy", finding.Error,
		"A dstOverride the proxy drops: weight 0, or an authority that is not name:port.")
	CodeNameNearMiss = finding.Register("name-near-miss", finding.Warning,
		"A ServiceProfile whose name is close to, but not, the service's FQDN <svc>.<ns>.svc.<cluster-domain>: it is never used.")
	CodeOpaquePort = finding.Register("opaque-port", finding.Warning,
		"The port is opaque (annotation or control-plane default): traffic is proxied as TCP and HTTP routes never apply.")
	CodeOpaquePortNoRoutes = finding.Register("opaque-port-no-routes", finding.Info,
		"The port is opaque (annotation or control-plane default): traffic on it is proxied as TCP; HTTP routes would never apply there.")
	CodeOpaqueProtocolStale = finding.Register("opaque-protocol-stale", finding.Info,
		"The destination reported an opaqueProtocol that a known server bug explains (false for a port the Service marks opaque, or the default opaque ports despite the annotation, on fresh subscriptions): not a configuration problem.")
	CodeHTTPRouteIgnored = finding.Register("httproute-ignored", finding.Error,
		"HTTPRoutes are attached to this Service, but the ServiceProfile has routes or dstOverrides: proxies use the profile and ignore the HTTPRoutes. Not reported for a profile the destination cannot serve (profile-unservable): it sends nothing, so proxies use the HTTPRoutes.")
	CodeClientOverride = finding.Register("client-override", finding.Info,
		"A ServiceProfile with the service's FQDN lives in another namespace: clients in that namespace get it instead of the service's own.")
	CodeDrift = finding.Register("served-differs", finding.Warning,
		"What the destination serves differs from what the ServiceProfile in effect predicts (stale control plane, admission changes, or a control-plane bug).")
	CodeLookupFailed = finding.Register("lookup-failed", finding.Error,
		"The lookup itself failed (the destination answered an error, closed the stream, or became unreachable): what proxies get for this port is unknown.")
)

// Codes added for `check`: problems found in ServiceProfile objects
// themselves, before any lookup.
var (
	CodeYAMLInvalid = finding.Register("yaml-invalid", finding.Error,
		"A document is not valid YAML, or not an object: kubectl cannot apply it.")
	CodeSchemaInvalid = finding.Register("schema-invalid", finding.Error,
		"The API server rejects the object: a field has the wrong type, a required field is missing, or the apiVersion is not served (CRD schema).")
	CodeFieldPruned = finding.Register("field-pruned", finding.Error,
		"An unknown field where the CRD schema prunes (e.g. isSuccess from old docs): kubectl's strict field validation rejects it, other clients see it silently removed, so it never has an effect.")
	CodeFieldUnknown = finding.Register("field-unknown", finding.Error,
		"An unknown field inside a nested condition (all/any/not), which the CRD keeps: the sp-validator webhook rejects the profile; without the webhook the control plane ignores the field.")
	CodeNameInvalid = finding.Register("name-invalid", finding.Error,
		"metadata.name is not a DNS-1123 subdomain (lowercase, no trailing dot): the API server rejects the object.")
	CodeNameNotFQDN = finding.Register("name-not-fqdn", finding.Error,
		"The name is not <svc>.<ns>.svc.<cluster-domain>: the destination only ever looks up that exact name, so the profile is never used.")
	CodeServiceNotFound = finding.Register("service-not-found", finding.Warning,
		"The Service the profile is named after does not exist: the profile has no effect until it does.")
	CodeRetryRatioNegative = finding.Register("retry-ratio-negative", finding.Error,
		"retryBudget.retryRatio is negative: the sp-validator webhook rejects the profile; if admitted, the proxy drops the budget.")
	CodeRouteDropped = finding.Register("route-dropped-by-proxy", finding.Error,
		"The proxy cannot convert a route's condition (e.g. a method that is not an HTTP token) and drops the whole route.")
	CodeNameDroppedByProxy = finding.Register("name-unparsable-by-proxy", finding.Error,
		"The profile's fully_qualified_name is not a DNS name the proxy accepts: it ignores the profile's routes and dstOverrides.")
	CodeRouteUnreachable = finding.Register("route-unreachable", finding.Error,
		"Every request this route matches is already taken by an earlier route (routes are tried in order, first match wins): it never applies.")
	CodeRouteNameEmpty = finding.Register("route-name-empty", finding.Error,
		"A route whose name is empty: the API server accepts it, the sp-validator webhook rejects the profile, and without the webhook its requests carry an empty rt_route label, which reads as \"no route matched\".")
	CodeRouteNameDuplicate = finding.Register("route-name-duplicate", finding.Warning,
		"Several routes share a name: their metrics (rt_route label) merge and cannot be told apart.")
	CodeRetryNonIdempotent = finding.Register("retry-non-idempotent", finding.Warning,
		"isRetryable on a route that can match POST or PATCH requests (or any method): retried requests may be applied twice.")
	CodeRetryRatioAboveOne = finding.Register("retry-ratio-above-one", finding.Warning,
		"retryBudget.retryRatio is above 1: the budget allows more retries than requests, which can multiply load on a failing service.")
	CodeRegexPartlyAnchored = finding.Register("regex-partly-anchored", finding.Error,
		"A pathRegex with a top-level '|': the proxy adds ^ and $ as text, so only the first alternative is anchored at the start and only the last at the end.")
	CodeRegexDiffersFromGo = finding.Register("regex-differs-from-go", finding.Info,
		"A pathRegex construct that Go's regexp reads differently from the proxy's Rust regex (e.g. Unicode \\d, nested classes): tools that test it with Go may mislead.")
)

// Codes of the control plane's own health, from the destination's
// metrics (diag/ctrlplane) and get --watch.
var (
	CodeQueueOverflow = finding.Register("destination-queue-overflow", finding.Warning,
		"The destination aborted streams for this service because their update queue was full (profile_updates_queue_overflow or endpoint_updates_queue_overflow since the replica started): proxies reconnect, and may have missed updates in between.")
	CodeInformerLag = finding.Register("destination-informer-lag", finding.Warning,
		"The destination's informers saw API changes late (an *_informer_lag_seconds observation above the threshold): profile changes reach proxies that much later. Observations have 1-second resolution, so isolated values deserve suspicion.")
	CodeProfileUnused = finding.Register("profile-unused", finding.Info,
		"No proxy subscription watches this ServiceProfile on any destination replica (profile_subscribers is 0): an override nobody uses, or a name that matches no Service FQDN.")
	CodeNotPushed = finding.Register("watch-not-pushed", finding.Error,
		"A ServiceProfile (or HTTPRoute/GRPCRoute) change that alters what this client should be served was not pushed by the destination (or the policy controller) within --timeout (get --watch).")
)
