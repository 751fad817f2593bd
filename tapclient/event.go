package tapclient

import (
	"net"
	"net/netip"
	"strconv"
	"time"
)

// Direction is the proxy direction of a tapped request.
type Direction string

const (
	DirectionUnknown  Direction = "unknown"
	DirectionInbound  Direction = "inbound"
	DirectionOutbound Direction = "outbound"
)

// Kind says which part of an HTTP exchange an event reports, using the
// words of tap's text output.
type Kind string

const (
	KindUnknown  Kind = "unknown"
	KindRequest  Kind = "req" // RequestInit
	KindResponse Kind = "rsp" // ResponseInit
	KindEnd      Kind = "end" // ResponseEnd
)

// StreamID identifies a request within one proxy: Base grows with every
// Observe call, Stream counts within it. It is NOT unique across pods.
type StreamID struct {
	Base   uint32 `json:"base"`
	Stream uint64 `json:"stream"`
}

// String renders the id as tap does ("12:0").
func (id StreamID) String() string {
	return strconv.FormatUint(uint64(id.Base), 10) + ":" + strconv.FormatUint(id.Stream, 10)
}

// Endpoint is one side of a tapped request. IP is the zero Addr when the
// proxy sent none (or 0.0.0.0, which linkerd also renders as empty).
type Endpoint struct {
	IP     netip.Addr        `json:"ip"`
	Port   uint32            `json:"port"`
	Labels map[string]string `json:"labels,omitempty"`
}

// String renders host:port, with IPv6 in brackets.
func (e Endpoint) String() string {
	ip := ""
	if e.IP.IsValid() {
		ip = e.IP.String()
	}
	return net.JoinHostPort(ip, strconv.FormatUint(uint64(e.Port), 10))
}

// Header is one extracted header or trailer. Value holds UTF-8 values;
// ValueBin holds the rest (the tap server sends them as value_bin).
type Header struct {
	Name     string `json:"name"`
	Value    string `json:"value,omitempty"`
	ValueBin []byte `json:"valueBin,omitempty"`
}

// Event is one decoded TapEvent: a request start, a response start or a
// response end seen by one proxy. Fields that do not apply to Kind are zero.
// Label maps of events read from a Stream are shared between events (see
// Decoder): read them, do not modify them.
type Event struct {
	Direction   Direction `json:"direction"`
	Kind        Kind      `json:"kind"`
	ID          StreamID  `json:"id"`
	Source      Endpoint  `json:"source"`
	Destination Endpoint  `json:"destination"`
	// TappedIP is the address of the pod whose proxy reported the event:
	// the destination for inbound, the source for outbound.
	TappedIP netip.Addr `json:"tappedIP"`
	// RouteLabels are the proxy's ServiceProfile route labels (rt_route is
	// RouteLabels["route"]). Nil when there are none.
	RouteLabels map[string]string `json:"routeLabels,omitempty"`
	// RouteMetaPresent records whether route_meta was on the wire at all.
	// Straight from a proxy, outbound requests that matched no route carry
	// an empty route_meta while inbound ones carry none; the viz tap server
	// always sets it, so through the tap API this is true for every event.
	RouteMetaPresent bool `json:"-"`

	// RequestInit.
	Method    string   `json:"method,omitempty"`
	Scheme    string   `json:"scheme,omitempty"`
	Authority string   `json:"authority,omitempty"`
	Path      string   `json:"path,omitempty"` // without the query string
	Headers   []Header `json:"headers,omitempty"`

	// ResponseInit and ResponseEnd.
	HTTPStatus uint32 `json:"httpStatus,omitempty"`
	// Latency is the time from request start to this event.
	Latency time.Duration `json:"latencyNs,omitempty"`
	// Duration is the time since the response started (end events; zero
	// when the stream failed before response headers).
	Duration      time.Duration `json:"durationNs,omitempty"`
	ResponseBytes uint64        `json:"responseBytes,omitempty"`
	Trailers      []Header      `json:"trailers,omitempty"`
	// GRPCStatus is the grpc-status of the response; nil when there was none
	// (HTTP/1, or a reset).
	GRPCStatus *uint32 `json:"grpcStatus,omitempty"`
	// ResetCode is the HTTP/2 reset reason when the stream failed.
	ResetCode *uint32 `json:"resetCode,omitempty"`
}

// Route returns the ServiceProfile route name (rt_route), "" if none.
func (e *Event) Route() string { return e.RouteLabels["route"] }

// tappedIP picks the reporting proxy's own address.
func tappedIP(dir Direction, src, dst netip.Addr) netip.Addr {
	switch dir {
	case DirectionInbound:
		return dst
	case DirectionOutbound:
		return src
	}
	return netip.Addr{}
}
