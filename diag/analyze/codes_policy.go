package analyze

import "github.com/kubectl-profiles/kubectl-profiles/diag/finding"

// Codes of the policy path (HTTPRoute, GRPCRoute, Service annotations and
// the policy controller's answer). Stable, like the others.
var (
	CodeRouteNotAccepted = finding.Register("route-not-accepted", finding.Error,
		"An HTTPRoute or GRPCRoute names the Service as a parent but has no Accepted=True status from Linkerd for it: the policy controller ignores the route.")
	CodeRouteDroppedByController = finding.Register("route-dropped-by-controller", finding.Error,
		"The policy controller cannot convert the route (an unsupported filter, an invalid retry/timeout annotation, a bad match) and drops the whole route, although its status may say Accepted.")
	CodeGRPCRouteHides = finding.Register("grpcroute-hides-httproutes", finding.Error,
		"A GRPCRoute on the port hides every HTTPRoute on it: the controller serves only GRPCRoutes (and HTTP/2 without protocol detection).")
	CodeConsumerRoute = finding.Register("consumer-route", finding.Info,
		"A route in another namespace than its parent Service (a consumer route): it applies only to clients in the route's namespace, added to the Service's own routes for them.")
	CodeBackendInvalid = finding.Register("backend-invalid", finding.Error,
		"A backendRef names a Service that does not exist, lacks a port, or is of a kind Linkerd does not support: its share of the requests fails with HTTP 500.")
	CodeRetryWithoutConditions = finding.Register("retry-without-conditions", finding.Error,
		"retry.linkerd.io/limit or /timeout is set without retry.linkerd.io/http (or /grpc for gRPC): there is no default condition, so no response status is ever retried.")
	CodeServiceAnnotationInvalid = finding.Register("service-annotation-invalid", finding.Error,
		"A retry, timeout, failure-accrual or load-biaser annotation on the Service does not parse: the policy controller silently drops that whole group of settings.")
	CodeRuleTimeoutsIgnored = finding.Register("rule-timeouts-ignored", finding.Error,
		"gateway.networking.k8s.io HTTPRoute rules[].timeouts on a control plane before Linkerd 2.20 (edge-25.11.3): they are ignored; use the timeout.linkerd.io/* route annotations.")
	CodeControlPlaneUnknown = finding.Register("control-plane-version-unknown", finding.Info,
		"The control plane's release could not be read, so whether it honours gateway.networking.k8s.io HTTPRoute rules[].timeouts (2.20 and later) is unknown.")
	CodeRuleNeverWins = finding.Register("rule-never-wins", finding.Error,
		"Every request an HTTPRoute or GRPCRoute rule matches is also matched, at least as specifically, by an earlier rule (Gateway API precedence: path length, then header, query and method counts; gRPC: service, method, then header counts; ties to the earlier route and rule): the rule never receives a request.")
	CodeNoCatchAll = finding.Register("route-no-catch-all", finding.Warning,
		"No rule of the routes on the port matches every request: a request no rule matches gets HTTP 404 (gRPC: NOT_FOUND) from the proxy itself, without reaching the Service and without route metrics.")
	CodeGatewayAPIMissing = finding.Register("gateway-api-missing", finding.Warning,
		"The Gateway API route CRDs are not installed, or are served without v1: the policy controller reads gateway.networking.k8s.io routes at v1 only, so such routes are ignored.")
)
