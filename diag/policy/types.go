// Package policy describes what a Linkerd proxy gets on the policy path
// (the policy controller's OutboundPolicies API), in the proxy's terms, and
// holds the pure rules around it: which API a proxy uses for a target
// (Mode), what the controller should serve for a Service port and a client
// namespace (Expect), and the field-by-field difference between that and
// what was served (Diff). No network: the thin client is plugin/policy.
//
// Facts: ../shared/reference/policy-api.md (section numbers in comments).
package policy

// Protocol is the ProxyProtocol variant the controller sends (§3.1).
type Protocol string

// The ProxyProtocol variants.
const (
	Detect Protocol = "detect"
	HTTP1  Protocol = "http1"
	HTTP2  Protocol = "http2"
	GRPC   Protocol = "grpc"
	Opaque Protocol = "opaque"
	TLS    Protocol = "tls"
)

// Ref names a resource (Service, HTTPRoute, EgressNetwork, ...) or, for
// synthetic objects, carries only Default (meta.Metadata's default form:
// "http", "opaq", "undefined-port", "invalid", "egress-fallback", ...).
type Ref struct {
	Group     string `json:"group,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Port      uint32 `json:"port,omitempty"`
	Default   string `json:"default,omitempty"`
}

// Policy is one OutboundPolicy as the proxy reads it.
type Policy struct {
	Parent   Ref      `json:"parent"`
	Protocol Protocol `json:"protocol"`
	// DetectTimeout is the protocol-detection timeout (detect only).
	DetectTimeout string `json:"detectTimeout,omitempty"`
	// Routes are the HTTP or gRPC routes the proxy matches requests
	// against: the http1 routes for detect, http1/http2/grpc otherwise.
	Routes []Route `json:"routes"`
	// HTTP2Routes is set only when a detect policy's http2 routes differ
	// from its http1 routes (the controller sends the same list to both).
	HTTP2Routes []Route `json:"http2Routes,omitempty"`
	// OpaqueRoutes are the routes for connections that are not HTTP
	// (opaque protocol, or the opaque part of detect). TLS routes too.
	OpaqueRoutes   []Route         `json:"opaqueRoutes,omitempty"`
	FailureAccrual *FailureAccrual `json:"failureAccrual,omitempty"`
}

// Route is one HTTPRoute, GRPCRoute, TCPRoute, TLSRoute or a synthetic
// route (Default set, e.g. "http").
type Route struct {
	Group     string `json:"group,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Default   string `json:"default,omitempty"`
	// Hosts are the route's hostnames: "exact.host" or "*.suffix.host";
	// empty means any host.
	Hosts []string `json:"hosts,omitempty"`
	Rules []Rule   `json:"rules"`
}

// Rule is one rule of a route.
type Rule struct {
	// Matches: any one may match; empty matches everything.
	Matches  []Match   `json:"matches,omitempty"`
	Filters  []Filter  `json:"filters,omitempty"`
	Timeouts Timeouts  `json:"timeouts"`
	Retry    *Retry    `json:"retry,omitempty"`
	Backends []Backend `json:"backends,omitempty"`
	// Distribution is "empty", "firstAvailable" or "randomAvailable".
	Distribution           string `json:"distribution"`
	AllowL5dRequestHeaders bool   `json:"allowL5dRequestHeaders,omitempty"`
	// Sources says where each effective value came from (expected side
	// only; never compared): see the Source* constants.
	Sources *Sources `json:"sources,omitempty"`
}

// Timeouts are Go durations ("1.5s"); "" means unset.
type Timeouts struct {
	Request  string `json:"request,omitempty"`
	Response string `json:"response,omitempty"`
	Idle     string `json:"idle,omitempty"`
}

// Where an effective value came from.
const (
	SourceRouteAnnotation   = "route-annotation"
	SourceRuleTimeouts      = "rules[].timeouts"
	SourceServiceAnnotation = "service-annotation"
)

// Sources says, per effective value, where it came from ("" = unset).
type Sources struct {
	Request  string `json:"request,omitempty"`
	Response string `json:"response,omitempty"`
	Idle     string `json:"idle,omitempty"`
	Retry    string `json:"retry,omitempty"`
}

// Retry is a rule's retry policy. Conditions are status ranges ("500-599")
// for HTTP and code names ("unavailable") for gRPC; empty conditions never
// match (§7.2).
type Retry struct {
	Limit           uint32   `json:"limit"`
	Conditions      []string `json:"conditions"`
	Timeout         string   `json:"timeout,omitempty"`
	MaxRequestBytes uint32   `json:"maxRequestBytes,omitempty"`
	Backoff         *Backoff `json:"backoff,omitempty"`
}

// Backoff is an exponential backoff.
type Backoff struct {
	Min               string  `json:"min,omitempty"`
	Max               string  `json:"max,omitempty"`
	Jitter            float32 `json:"jitter,omitempty"`
	RespectRetryAfter bool    `json:"respectRetryAfter,omitempty"`
}

// Backend is one backend of a rule's distribution.
type Backend struct {
	Ref Ref `json:"ref"`
	// Weight is the randomAvailable weight (0 for firstAvailable).
	Weight uint32 `json:"weight"`
	// Path is the destination discovery path (Service backends).
	Path string `json:"path,omitempty"`
	// Load is "peakEwma" or "penaltyPeakEwma" (balanced backends).
	Load string `json:"load,omitempty"`
	// Forward is set for backends forwarding to an address (egress).
	Forward bool `json:"forward,omitempty"`
	// Invalid is the failure-injector message of an invalid backend (no
	// kind): that share of requests fails (§3.3).
	Invalid string   `json:"invalid,omitempty"`
	Filters []Filter `json:"filters,omitempty"`
}

// Match is one match of a rule: HTTP fields or gRPC fields.
type Match struct {
	// Path is "exact:/x", "prefix:/x" or "regex:re"; "" for no path match.
	Path        string       `json:"path,omitempty"`
	Headers     []ValueMatch `json:"headers,omitempty"`
	QueryParams []ValueMatch `json:"queryParams,omitempty"`
	Method      string       `json:"method,omitempty"`
	// RPC is the gRPC service/method match (gRPC routes).
	RPC *RPC `json:"rpc,omitempty"`
}

// ValueMatch is a header or query-parameter match.
type ValueMatch struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"` // exact | regex
	Value string `json:"value"`
}

// RPC is a gRPC method match ("" = any).
type RPC struct {
	Service string `json:"service,omitempty"`
	Method  string `json:"method,omitempty"`
}

// Filter kinds.
const (
	FilterRequestHeaderModifier  = "requestHeaderModifier"
	FilterResponseHeaderModifier = "responseHeaderModifier"
	FilterRedirect               = "redirect"
	FilterFailureInjector        = "failureInjector"
	FilterForbidden              = "forbidden"
	FilterInvalid                = "invalid"
	FilterUnknown                = "unknown" // a filter whose kind is unset
)

// Filter is one rule or backend filter.
type Filter struct {
	Kind string `json:"kind"`
	// Header modifiers.
	Set    []Header `json:"set,omitempty"`
	Add    []Header `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
	// Redirect.
	Scheme string `json:"scheme,omitempty"`
	Host   string `json:"host,omitempty"`
	// RedirectPath is "full:/x" or "prefix:/x".
	RedirectPath string `json:"redirectPath,omitempty"`
	Port         uint32 `json:"port,omitempty"`
	// Status is the redirect status, the failure injector's HTTP status
	// or its gRPC code.
	Status  uint32 `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
}

// Header is a header name and value.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// FailureAccrual is the circuit-breaking configuration (§3.4, §8).
type FailureAccrual struct {
	Kind string `json:"kind"` // consecutive | unified
	// MaxFailures: consecutive max_failures, or unified
	// max_consecutive_failures.
	MaxFailures          uint32   `json:"maxFailures"`
	SuccessRateThreshold float64  `json:"successRateThreshold,omitempty"`
	Decay                string   `json:"decay,omitempty"`
	MinRequests          uint32   `json:"minRequests,omitempty"`
	Backoff              *Backoff `json:"backoff,omitempty"`
}
