package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/linkerd/linkerd2-proxy-api/go/grpc_route"
	"github.com/linkerd/linkerd2-proxy-api/go/http_route"
	"github.com/linkerd/linkerd2-proxy-api/go/http_types"
	"github.com/linkerd/linkerd2-proxy-api/go/meta"
	pb "github.com/linkerd/linkerd2-proxy-api/go/outbound"
	"google.golang.org/protobuf/types/known/durationpb"
)

// FromProto converts a served OutboundPolicy (linkerd2-proxy-api v0.20.0)
// into a Policy. It returns an error when the message has no protocol or a
// protocol variant this version does not know: the caller then says that it
// does not understand what was served rather than guessing.
func FromProto(m *pb.OutboundPolicy) (*Policy, error) {
	if m == nil {
		return nil, fmt.Errorf("no OutboundPolicy")
	}
	p := &Policy{Parent: refOf(m.GetMetadata()), Routes: []Route{}}
	pr := m.GetProtocol()
	switch k := pr.GetKind().(type) {
	case *pb.ProxyProtocol_Detect_:
		p.Protocol = Detect
		p.DetectTimeout = dur(k.Detect.GetTimeout())
		p.Routes = httpRoutes(k.Detect.GetHttp1().GetRoutes())
		if h2 := httpRoutes(k.Detect.GetHttp2().GetRoutes()); !sameRoutes(p.Routes, h2) {
			p.HTTP2Routes = h2
		}
		p.OpaqueRoutes = opaqueRoutes(k.Detect.GetOpaque().GetRoutes())
		p.FailureAccrual = accrual(k.Detect.GetHttp1().GetFailureAccrual())
	case *pb.ProxyProtocol_Http1_:
		p.Protocol = HTTP1
		p.Routes = httpRoutes(k.Http1.GetRoutes())
		p.FailureAccrual = accrual(k.Http1.GetFailureAccrual())
	case *pb.ProxyProtocol_Http2_:
		p.Protocol = HTTP2
		p.Routes = httpRoutes(k.Http2.GetRoutes())
		p.FailureAccrual = accrual(k.Http2.GetFailureAccrual())
	case *pb.ProxyProtocol_Grpc_:
		p.Protocol = GRPC
		p.Routes = grpcRoutes(k.Grpc.GetRoutes())
		p.FailureAccrual = accrual(k.Grpc.GetFailureAccrual())
	case *pb.ProxyProtocol_Opaque_:
		p.Protocol = Opaque
		p.OpaqueRoutes = opaqueRoutes(k.Opaque.GetRoutes())
	case *pb.ProxyProtocol_Tls_:
		p.Protocol = TLS
		p.OpaqueRoutes = tlsRoutes(k.Tls.GetRoutes())
	case nil:
		return nil, fmt.Errorf("the OutboundPolicy has no protocol")
	default:
		return nil, fmt.Errorf("the OutboundPolicy has a protocol this plugin does not know (%T)", k)
	}
	return p, nil
}

func sameRoutes(a, b []Route) bool {
	return string(mustMarshal(a)) == string(mustMarshal(b))
}

// dur formats a proto duration as a Go duration; "" when unset.
func dur(d *durationpb.Duration) string {
	if d == nil {
		return ""
	}
	return FormatDuration(d.AsDuration())
}

// FormatDuration is the one duration format of both sides.
func FormatDuration(d time.Duration) string { return d.String() }

func refOf(md *meta.Metadata) Ref {
	switch k := md.GetKind().(type) {
	case *meta.Metadata_Default:
		return Ref{Default: k.Default}
	case *meta.Metadata_Resource:
		r := k.Resource
		return Ref{Group: r.GetGroup(), Kind: r.GetKind(), Namespace: r.GetNamespace(), Name: r.GetName(), Port: r.GetPort()}
	}
	return Ref{}
}

func routeHead(md *meta.Metadata) Route {
	r := refOf(md)
	return Route{Group: r.Group, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Default: r.Default, Rules: []Rule{}}
}

func hosts(hs []*http_route.HostMatch) []string {
	var out []string
	for _, h := range hs {
		switch m := h.GetMatch().(type) {
		case *http_route.HostMatch_Exact:
			out = append(out, m.Exact)
		case *http_route.HostMatch_Suffix_:
			labels := m.Suffix.GetReverseLabels()
			rev := make([]string, len(labels))
			for i, l := range labels {
				rev[len(labels)-1-i] = l
			}
			out = append(out, "*."+strings.Join(rev, "."))
		}
	}
	return out
}

func httpRoutes(rs []*pb.HttpRoute) []Route {
	out := []Route{}
	for _, r := range rs {
		route := routeHead(r.GetMetadata())
		route.Hosts = hosts(r.GetHosts())
		for _, rule := range r.GetRules() {
			x := Rule{
				Timeouts:               timeouts(rule.GetTimeouts()),
				AllowL5dRequestHeaders: rule.GetAllowL5DRequestHeaders(),
			}
			for _, m := range rule.GetMatches() {
				x.Matches = append(x.Matches, httpMatch(m))
			}
			x.Filters = httpFilters(rule.GetFilters())
			x.Distribution, x.Backends = httpDistribution(rule.GetBackends())
			if rt := rule.GetRetry(); rt != nil {
				x.Retry = &Retry{Limit: rt.GetMaxRetries(), MaxRequestBytes: rt.GetMaxRequestBytes(),
					Timeout: dur(rt.GetTimeout()), Backoff: backoff(rt.GetBackoff()), Conditions: []string{}}
				for _, sr := range rt.GetConditions().GetStatusRanges() {
					x.Retry.Conditions = append(x.Retry.Conditions, StatusRange(sr.GetStart(), sr.GetEnd()))
				}
			}
			route.Rules = append(route.Rules, x)
		}
		out = append(out, route)
	}
	return out
}

// StatusRange is the one spelling of an HTTP retry condition: "500-599",
// or "429" for a single code.
func StatusRange(start, end uint32) string {
	if start == end {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d-%d", start, end)
}

func grpcRoutes(rs []*pb.GrpcRoute) []Route {
	out := []Route{}
	for _, r := range rs {
		route := routeHead(r.GetMetadata())
		route.Hosts = hosts(r.GetHosts())
		for _, rule := range r.GetRules() {
			x := Rule{
				Timeouts:               timeouts(rule.GetTimeouts()),
				AllowL5dRequestHeaders: rule.GetAllowL5DRequestHeaders(),
			}
			for _, m := range rule.GetMatches() {
				x.Matches = append(x.Matches, grpcMatch(m))
			}
			x.Filters = grpcFilters(rule.GetFilters())
			x.Distribution, x.Backends = grpcDistribution(rule.GetBackends())
			if rt := rule.GetRetry(); rt != nil {
				x.Retry = &Retry{Limit: rt.GetMaxRetries(), MaxRequestBytes: rt.GetMaxRequestBytes(),
					Timeout: dur(rt.GetTimeout()), Backoff: backoff(rt.GetBackoff()), Conditions: []string{}}
				c := rt.GetConditions()
				for _, kv := range []struct {
					on   bool
					name string
				}{{c.GetCancelled(), "cancelled"}, {c.GetDeadineExceeded(), "deadline-exceeded"},
					{c.GetInternal(), "internal"}, {c.GetResourceExhausted(), "resource-exhausted"},
					{c.GetUnavailable(), "unavailable"}} {
					if kv.on {
						x.Retry.Conditions = append(x.Retry.Conditions, kv.name)
					}
				}
			}
			route.Rules = append(route.Rules, x)
		}
		out = append(out, route)
	}
	return out
}

func opaqueRoutes(rs []*pb.OpaqueRoute) []Route {
	out := []Route{}
	for _, r := range rs {
		route := routeHead(r.GetMetadata())
		for _, rule := range r.GetRules() {
			x := Rule{}
			for _, f := range rule.GetFilters() {
				x.Filters = append(x.Filters, opaqueFilter(f.GetKind()))
			}
			x.Distribution, x.Backends = opaqueDistribution(rule.GetBackends())
			route.Rules = append(route.Rules, x)
		}
		out = append(out, route)
	}
	return out
}

func tlsRoutes(rs []*pb.TlsRoute) []Route {
	out := []Route{}
	for _, r := range rs {
		route := routeHead(r.GetMetadata())
		for _, rule := range r.GetRules() {
			x := Rule{}
			for _, f := range rule.GetFilters() {
				x.Filters = append(x.Filters, opaqueFilter(f.GetKind()))
			}
			d := rule.GetBackends()
			switch k := d.GetKind().(type) {
			case *pb.TlsRoute_Distribution_Empty_:
				x.Distribution = "empty"
			case *pb.TlsRoute_Distribution_FirstAvailable_:
				x.Distribution = "firstAvailable"
				for _, b := range k.FirstAvailable.GetBackends() {
					x.Backends = append(x.Backends, backend(b.GetBackend(), 0))
				}
			case *pb.TlsRoute_Distribution_RandomAvailable_:
				x.Distribution = "randomAvailable"
				for _, b := range k.RandomAvailable.GetBackends() {
					x.Backends = append(x.Backends, backend(b.GetBackend().GetBackend(), b.GetWeight()))
				}
			}
			route.Rules = append(route.Rules, x)
		}
		out = append(out, route)
	}
	return out
}

func opaqueFilter(k interface{}) Filter {
	switch f := k.(type) {
	case *pb.OpaqueRoute_Filter_Forbidden, *pb.TlsRoute_Filter_Forbidden:
		return Filter{Kind: FilterForbidden}
	case *pb.OpaqueRoute_Filter_Invalid:
		return Filter{Kind: FilterInvalid, Message: f.Invalid.GetMessage()}
	case *pb.TlsRoute_Filter_Invalid:
		return Filter{Kind: FilterInvalid, Message: f.Invalid.GetMessage()}
	}
	return Filter{Kind: FilterUnknown}
}

func timeouts(t *http_route.Timeouts) Timeouts {
	return Timeouts{Request: dur(t.GetRequest()), Response: dur(t.GetResponse()), Idle: dur(t.GetIdle())}
}

func backoff(b *pb.ExponentialBackoff) *Backoff {
	if b == nil {
		return nil
	}
	return &Backoff{Min: dur(b.GetMinBackoff()), Max: dur(b.GetMaxBackoff()), Jitter: b.GetJitterRatio(), RespectRetryAfter: b.GetRespectRetryAfterHint()}
}

func accrual(fa *pb.FailureAccrual) *FailureAccrual {
	switch k := fa.GetKind().(type) {
	case *pb.FailureAccrual_ConsecutiveFailures_:
		c := k.ConsecutiveFailures
		return &FailureAccrual{Kind: "consecutive", MaxFailures: c.GetMaxFailures(), Backoff: backoff(c.GetBackoff())}
	case *pb.FailureAccrual_Unified_:
		u := k.Unified
		return &FailureAccrual{Kind: "unified", MaxFailures: u.GetMaxConsecutiveFailures(),
			SuccessRateThreshold: u.GetSuccessRateThreshold(), Decay: dur(u.GetDecay()),
			MinRequests: u.GetMinRequests(), Backoff: backoff(u.GetBackoff())}
	}
	return nil
}

func valueMatches(hs []*http_route.HeaderMatch) []ValueMatch {
	var out []ValueMatch
	for _, h := range hs {
		v := ValueMatch{Name: h.GetName()}
		switch k := h.GetValue().(type) {
		case *http_route.HeaderMatch_Exact:
			v.Kind, v.Value = "exact", string(k.Exact)
		case *http_route.HeaderMatch_Regex:
			v.Kind, v.Value = "regex", k.Regex
		}
		out = append(out, v)
	}
	return out
}

func httpMatch(m *http_route.HttpRouteMatch) Match {
	var x Match
	switch k := m.GetPath().GetKind().(type) {
	case *http_route.PathMatch_Exact:
		x.Path = "exact:" + k.Exact
	case *http_route.PathMatch_Prefix:
		x.Path = "prefix:" + k.Prefix
	case *http_route.PathMatch_Regex:
		x.Path = "regex:" + k.Regex
	}
	x.Headers = valueMatches(m.GetHeaders())
	for _, q := range m.GetQueryParams() {
		v := ValueMatch{Name: q.GetName()}
		switch k := q.GetValue().(type) {
		case *http_route.QueryParamMatch_Exact:
			v.Kind, v.Value = "exact", k.Exact
		case *http_route.QueryParamMatch_Regex:
			v.Kind, v.Value = "regex", k.Regex
		}
		x.QueryParams = append(x.QueryParams, v)
	}
	switch k := m.GetMethod().GetType().(type) {
	case *http_types.HttpMethod_Registered_:
		x.Method = k.Registered.String()
	case *http_types.HttpMethod_Unregistered:
		x.Method = k.Unregistered
	}
	return x
}

func grpcMatch(m *grpc_route.GrpcRouteMatch) Match {
	x := Match{Headers: valueMatches(m.GetHeaders())}
	if rpc := m.GetRpc(); rpc != nil {
		x.RPC = &RPC{Service: rpc.GetService(), Method: rpc.GetMethod()}
	}
	return x
}

func headers(h *http_types.Headers) []Header {
	var out []Header
	for _, kv := range h.GetHeaders() {
		out = append(out, Header{Name: kv.GetName(), Value: string(kv.GetValue())})
	}
	return out
}

func httpFilters(fs []*pb.HttpRoute_Filter) []Filter {
	var out []Filter
	for _, f := range fs {
		switch k := f.GetKind().(type) {
		case *pb.HttpRoute_Filter_FailureInjector:
			out = append(out, Filter{Kind: FilterFailureInjector, Status: k.FailureInjector.GetStatus(), Message: k.FailureInjector.GetMessage()})
		case *pb.HttpRoute_Filter_RequestHeaderModifier:
			m := k.RequestHeaderModifier
			out = append(out, Filter{Kind: FilterRequestHeaderModifier, Set: headers(m.GetSet()), Add: headers(m.GetAdd()), Remove: m.GetRemove()})
		case *pb.HttpRoute_Filter_ResponseHeaderModifier:
			m := k.ResponseHeaderModifier
			out = append(out, Filter{Kind: FilterResponseHeaderModifier, Set: headers(m.GetSet()), Add: headers(m.GetAdd()), Remove: m.GetRemove()})
		case *pb.HttpRoute_Filter_Redirect:
			r := k.Redirect
			x := Filter{Kind: FilterRedirect, Host: r.GetHost(), Port: r.GetPort(), Status: r.GetStatus()}
			switch s := r.GetScheme().GetType().(type) {
			case *http_types.Scheme_Registered_:
				x.Scheme = s.Registered.String()
			case *http_types.Scheme_Unregistered:
				x.Scheme = s.Unregistered
			}
			switch p := r.GetPath().GetReplace().(type) {
			case *http_route.PathModifier_Full:
				x.RedirectPath = "full:" + p.Full
			case *http_route.PathModifier_Prefix:
				x.RedirectPath = "prefix:" + p.Prefix
			}
			out = append(out, x)
		default:
			out = append(out, Filter{Kind: FilterUnknown})
		}
	}
	return out
}

func grpcFilters(fs []*pb.GrpcRoute_Filter) []Filter {
	var out []Filter
	for _, f := range fs {
		switch k := f.GetKind().(type) {
		case *pb.GrpcRoute_Filter_FailureInjector:
			out = append(out, Filter{Kind: FilterFailureInjector, Status: k.FailureInjector.GetCode(), Message: k.FailureInjector.GetMessage()})
		case *pb.GrpcRoute_Filter_RequestHeaderModifier:
			m := k.RequestHeaderModifier
			out = append(out, Filter{Kind: FilterRequestHeaderModifier, Set: headers(m.GetSet()), Add: headers(m.GetAdd()), Remove: m.GetRemove()})
		default:
			out = append(out, Filter{Kind: FilterUnknown})
		}
	}
	return out
}

// backend converts a Backend; the invalid failure injector, when present
// among filters, becomes Invalid.
func backend(b *pb.Backend, weight uint32) Backend {
	x := Backend{Ref: refOf(b.GetMetadata()), Weight: weight}
	switch k := b.GetKind().(type) {
	case *pb.Backend_Balancer:
		x.Path = k.Balancer.GetDiscovery().GetDst().GetPath()
		switch k.Balancer.GetLoad().(type) {
		case *pb.Backend_BalanceP2C_PeakEwma_:
			x.Load = "peakEwma"
		case *pb.Backend_BalanceP2C_PenaltyPeakEwma_:
			x.Load = "penaltyPeakEwma"
		}
	case *pb.Backend_Forward:
		x.Forward = true
	}
	return x
}

// withFilters attaches backend filters; an invalid backend (no kind, a
// failure injector) gets Invalid set to the injector's message.
func withFilters(x Backend, b *pb.Backend, fs []Filter) Backend {
	for _, f := range fs {
		if b.GetKind() == nil && f.Kind == FilterFailureInjector {
			x.Invalid = f.Message
			continue
		}
		x.Filters = append(x.Filters, f)
	}
	return x
}

func httpDistribution(d *pb.HttpRoute_Distribution) (string, []Backend) {
	var out []Backend
	switch k := d.GetKind().(type) {
	case *pb.HttpRoute_Distribution_Empty_:
		return "empty", nil
	case *pb.HttpRoute_Distribution_FirstAvailable_:
		for _, b := range k.FirstAvailable.GetBackends() {
			out = append(out, withFilters(backend(b.GetBackend(), 0), b.GetBackend(), httpFilters(b.GetFilters())))
		}
		return "firstAvailable", out
	case *pb.HttpRoute_Distribution_RandomAvailable_:
		for _, wb := range k.RandomAvailable.GetBackends() {
			b := wb.GetBackend()
			out = append(out, withFilters(backend(b.GetBackend(), wb.GetWeight()), b.GetBackend(), httpFilters(b.GetFilters())))
		}
		return "randomAvailable", out
	}
	return "", nil
}

func grpcDistribution(d *pb.GrpcRoute_Distribution) (string, []Backend) {
	var out []Backend
	switch k := d.GetKind().(type) {
	case *pb.GrpcRoute_Distribution_Empty_:
		return "empty", nil
	case *pb.GrpcRoute_Distribution_FirstAvailable_:
		for _, b := range k.FirstAvailable.GetBackends() {
			out = append(out, withFilters(backend(b.GetBackend(), 0), b.GetBackend(), grpcFilters(b.GetFilters())))
		}
		return "firstAvailable", out
	case *pb.GrpcRoute_Distribution_RandomAvailable_:
		for _, wb := range k.RandomAvailable.GetBackends() {
			b := wb.GetBackend()
			out = append(out, withFilters(backend(b.GetBackend(), wb.GetWeight()), b.GetBackend(), grpcFilters(b.GetFilters())))
		}
		return "randomAvailable", out
	}
	return "", nil
}

func opaqueDistribution(d *pb.OpaqueRoute_Distribution) (string, []Backend) {
	var out []Backend
	switch k := d.GetKind().(type) {
	case *pb.OpaqueRoute_Distribution_Empty_:
		return "empty", nil
	case *pb.OpaqueRoute_Distribution_FirstAvailable_:
		for _, b := range k.FirstAvailable.GetBackends() {
			out = append(out, backend(b.GetBackend(), 0))
		}
		return "firstAvailable", out
	case *pb.OpaqueRoute_Distribution_RandomAvailable_:
		for _, wb := range k.RandomAvailable.GetBackends() {
			out = append(out, backend(wb.GetBackend().GetBackend(), wb.GetWeight()))
		}
		return "randomAvailable", out
	}
	return "", nil
}
