// Package tapcapture reads and writes tap captures as JSON: the stream of
// pretty-printed objects that `linkerd viz tap -o json` writes, and the
// NDJSON that `kubectl profiles tap -o json` writes (the same object shape,
// one per line, plus this plugin's rtRoute fields). Both are read by the same
// Reader, in bounded memory, so a capture of any length can be replayed.
package tapcapture

import (
	"encoding/json"
	"net/netip"
	"time"
)

// The object shape is linkerd's (viz/cmd/tap.go mapPublicToDisplayTapEvent,
// shared/reference/tap-api.md §4): endpoints with "metadata" label maps,
// "routeMeta", "proxyDirection" and exactly one of the three *Event keys.
type event struct {
	Source         *endpoint       `json:"source"`
	Destination    *endpoint       `json:"destination"`
	RouteMeta      json.RawMessage `json:"routeMeta"`
	ProxyDirection string          `json:"proxyDirection"`
	RequestInit    *requestInit    `json:"requestInitEvent,omitempty"`
	ResponseInit   *responseInit   `json:"responseInitEvent,omitempty"`
	ResponseEnd    *responseEnd    `json:"responseEndEvent,omitempty"`
	RTRoute        *string         `json:"rtRoute,omitempty"`
	RTRouteInfo    *RouteInfo      `json:"rtRouteInfo,omitempty"`
}

type endpoint struct {
	IP       string          `json:"ip"`
	Port     uint32          `json:"port"`
	Metadata json.RawMessage `json:"metadata"`
}

type streamID struct {
	Base   uint32 `json:"base"`
	Stream uint64 `json:"stream"`
}

type header struct {
	Name     string `json:"name"`
	ValueStr string `json:"valueStr,omitempty"`
	ValueBin []byte `json:"valueBin,omitempty"`
}

type duration struct {
	Seconds int64 `json:"seconds,omitempty"`
	Nanos   int32 `json:"nanos,omitempty"`
}

type requestInit struct {
	ID        streamID `json:"id"`
	Method    string   `json:"method"`
	Scheme    string   `json:"scheme"`
	Authority string   `json:"authority"`
	Path      string   `json:"path"`
	Headers   []header `json:"headers"`
}

type responseInit struct {
	ID               streamID  `json:"id"`
	SinceRequestInit *duration `json:"sinceRequestInit"`
	HTTPStatus       uint32    `json:"httpStatus"`
	Headers          []header  `json:"headers"`
}

type responseEnd struct {
	ID                streamID  `json:"id"`
	SinceRequestInit  *duration `json:"sinceRequestInit"`
	SinceResponseInit *duration `json:"sinceResponseInit"`
	ResponseBytes     uint64    `json:"responseBytes"`
	Trailers          []header  `json:"trailers"`
	// linkerd always writes grpcStatusCode (0 = OK or none); this plugin
	// writes it only when the proxy reported one. See Reader.
	GRPCStatusCode *uint32 `json:"grpcStatusCode,omitempty"`
	ResetErrorCode uint32  `json:"resetErrorCode,omitempty"`
}

// RouteInfo is what this plugin adds to each object of its NDJSON: how the
// rtRoute value was computed. Readers ignore it (routes are recomputed).
type RouteInfo struct {
	// Status is matched, unmatched, no-routes or unknown.
	Status string `json:"status"`
	// Profile is the GetProfile path the tapped proxy looks up
	// (<svc>.<ns>.svc.<domain>:<port>); empty when unknown.
	Profile string `json:"profile,omitempty"`
	// ClientNamespace is the context-token namespace of that lookup.
	ClientNamespace string `json:"clientNamespace,omitempty"`
	// ProxyRoute is the route label the proxy itself reported, if any.
	ProxyRoute string `json:"proxyRoute,omitempty"`
	// Drift is set when ProxyRoute is set and differs from rtRoute.
	Drift bool `json:"drift,omitempty"`
	// Reason says why Status is unknown.
	Reason string `json:"reason,omitempty"`
	// Mode is the API whose routes the proxy uses: serviceprofile or
	// policy (absent when not known).
	Mode string `json:"mode,omitempty"`
	// Route is the policy rule (status policy-matched), as
	// <kind>/<namespace>/<name>#rule<i>; for an undecided request, the
	// rule that could win.
	Route string `json:"route,omitempty"`
	// ProxyResponse is what the proxy answers itself instead of routing
	// (status policy-404): "404", or "grpc-status 5 (NOT_FOUND)".
	ProxyResponse string `json:"proxyResponse,omitempty"`
	// BackendFailure: the rule has an invalid backend, so that share of
	// its requests fails with 500.
	BackendFailure string `json:"backendFailure,omitempty"`
}

func toDuration(d time.Duration) *duration {
	return &duration{Seconds: int64(d / time.Second), Nanos: int32(d % time.Second)}
}

func (d *duration) value() time.Duration {
	if d == nil {
		return 0
	}
	const maxSecs = int64(1<<63-1) / int64(time.Second)
	if d.Seconds > maxSecs || d.Seconds < -maxSecs {
		return 0
	}
	return time.Duration(d.Seconds)*time.Second + time.Duration(d.Nanos)
}

func ipString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
