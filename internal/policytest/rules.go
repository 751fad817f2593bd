package policytest

import (
	"fmt"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/linkerd/linkerd2-proxy-api/go/grpc_route"
	"github.com/linkerd/linkerd2-proxy-api/go/http_route"
	"github.com/linkerd/linkerd2-proxy-api/go/http_types"
	"github.com/linkerd/linkerd2-proxy-api/go/meta"
	"github.com/linkerd/linkerd2-proxy-api/go/opaque_route"
	pb "github.com/linkerd/linkerd2-proxy-api/go/outbound"
	"google.golang.org/protobuf/types/known/durationpb"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func resource(group, kind, ns, name string, port uint32) *meta.Metadata {
	return &meta.Metadata{Kind: &meta.Metadata_Resource{Resource: &meta.Resource{Group: group, Kind: kind, Namespace: ns, Name: name, Port: port}}}
}

func defaultMeta(name string) *meta.Metadata {
	return &meta.Metadata{Kind: &meta.Metadata_Default{Default: name}}
}

// undefinedPort is §10's policy for a port the Service does not define.
func undefinedPort(svc *corev1.Service, port uint32) *pb.OutboundPolicy {
	return &pb.OutboundPolicy{
		Metadata: resource("core", "Service", svc.Namespace, svc.Name, port),
		Protocol: &pb.ProxyProtocol{Kind: &pb.ProxyProtocol_Opaque_{Opaque: &pb.ProxyProtocol_Opaque{Routes: []*pb.OpaqueRoute{{
			Metadata: defaultMeta("undefined-port"),
			Rules: []*pb.OpaqueRoute_Rule{{
				Backends: &pb.OpaqueRoute_Distribution{Kind: &pb.OpaqueRoute_Distribution_Empty_{Empty: &pb.OpaqueRoute_Distribution_Empty{}}},
				Filters:  []*pb.OpaqueRoute_Filter{{Kind: &pb.OpaqueRoute_Filter_Forbidden{Forbidden: &opaque_route.Forbidden{}}}},
			}},
		}}}}},
	}
}

// egressFallback: detect, forwarding to the original destination (§3.5).
func egressFallback() *pb.OutboundPolicy {
	fwd := &pb.Backend{Metadata: defaultMeta("egress-fallback"), Kind: &pb.Backend_Forward{}}
	http := []*pb.HttpRoute{{Metadata: defaultMeta("egress-fallback"), Rules: []*pb.HttpRoute_Rule{{
		Matches:  []*http_route.HttpRouteMatch{{Path: &http_route.PathMatch{Kind: &http_route.PathMatch_Prefix{Prefix: "/"}}}},
		Backends: &pb.HttpRoute_Distribution{Kind: &pb.HttpRoute_Distribution_FirstAvailable_{FirstAvailable: &pb.HttpRoute_Distribution_FirstAvailable{Backends: []*pb.HttpRoute_RouteBackend{{Backend: fwd}}}}},
	}}}}
	return &pb.OutboundPolicy{
		Metadata: defaultMeta("egress-fallback"),
		Protocol: &pb.ProxyProtocol{Kind: &pb.ProxyProtocol_Detect_{Detect: &pb.ProxyProtocol_Detect{
			Timeout: durationpb.New(10 * time.Second),
			Http1:   &pb.ProxyProtocol_Http1{Routes: http},
			Http2:   &pb.ProxyProtocol_Http2{Routes: http},
			Opaque: &pb.ProxyProtocol_Opaque{Routes: []*pb.OpaqueRoute{{Metadata: defaultMeta("egress-fallback"), Rules: []*pb.OpaqueRoute_Rule{{
				Backends: &pb.OpaqueRoute_Distribution{Kind: &pb.OpaqueRoute_Distribution_FirstAvailable_{FirstAvailable: &pb.OpaqueRoute_Distribution_FirstAvailable{Backends: []*pb.OpaqueRoute_RouteBackend{{Backend: fwd}}}}},
			}}}}},
		}}},
	}
}

// ---- annotations (§7.1, §8) ----

// duration is the controller's parse_duration: an integer and one unit.
func duration(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "0" {
		return 0, true
	}
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}} {
		num, ok := strings.CutSuffix(v, u.suffix)
		if !ok || num == "" || strings.Trim(num, "0123456789") != "" {
			continue
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return 0, false
		}
		return time.Duration(n) * u.unit, true
	}
	return 0, false
}

type timeouts struct{ request, response, idle *time.Duration }

func (t timeouts) empty() bool { return t.request == nil && t.response == nil && t.idle == nil }

func (t timeouts) proto() *http_route.Timeouts {
	p := &http_route.Timeouts{}
	if t.request != nil {
		p.Request = durationpb.New(*t.request)
	}
	if t.response != nil {
		p.Response = durationpb.New(*t.response)
	}
	if t.idle != nil {
		p.Idle = durationpb.New(*t.idle)
	}
	return p
}

func parseTimeouts(ann map[string]string) (timeouts, bool) {
	var t timeouts
	for key, dst := range map[string]**time.Duration{"timeout.linkerd.io/request": &t.request, "timeout.linkerd.io/response": &t.response, "timeout.linkerd.io/idle": &t.idle} {
		if v, ok := ann[key]; ok {
			d, ok := duration(v)
			if !ok {
				return timeouts{}, false
			}
			*dst = &d
		}
	}
	return t, true
}

// retry is the parsed retry config of one kind (http or grpc).
type retry struct {
	limit   uint32
	timeout time.Duration
	http    [][2]uint32
	grpc    map[string]bool
}

// parseRetry reads limit, timeout and the condition annotation (http or
// grpc); nil when none is set.
func parseRetry(ann map[string]string, kind string) (*retry, bool) {
	lim, hasLim := ann["retry.linkerd.io/limit"]
	to, hasTo := ann["retry.linkerd.io/timeout"]
	cond, hasCond := ann["retry.linkerd.io/"+kind]
	if !hasLim && !hasTo && !hasCond {
		return nil, true
	}
	r := &retry{limit: 1, grpc: map[string]bool{}}
	if hasLim {
		n, err := strconv.ParseUint(lim, 10, 16)
		if err != nil {
			return nil, false
		}
		if n > 0 {
			r.limit = uint32(n)
		}
	}
	if hasTo {
		d, ok := duration(to)
		if !ok {
			return nil, false
		}
		r.timeout = d
	}
	if hasCond {
		for _, c := range strings.Split(cond, ",") {
			if kind == "grpc" {
				switch strings.ToLower(c) {
				case "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable":
					r.grpc[strings.ToLower(c)] = true
				default:
					return nil, false
				}
				continue
			}
			lc := strings.ToLower(c)
			switch {
			case lc == "5xx":
				r.http = append(r.http, [2]uint32{500, 599})
			case lc == "gateway-error":
				r.http = append(r.http, [2]uint32{502, 504})
			default:
				lo, hi, isRange := strings.Cut(c, "-")
				if !isRange {
					hi = lo
				}
				a, err1 := strconv.ParseUint(lo, 10, 32)
				b, err2 := strconv.ParseUint(hi, 10, 32)
				if err1 != nil || err2 != nil || a < 100 || b > 599 || a > b {
					return nil, false
				}
				r.http = append(r.http, [2]uint32{uint32(a), uint32(b)})
			}
		}
	}
	return r, true
}

func backoff(min, max time.Duration, jitter float32) *pb.ExponentialBackoff {
	return &pb.ExponentialBackoff{MinBackoff: durationpb.New(min), MaxBackoff: durationpb.New(max), JitterRatio: jitter}
}

func (r *retry) httpProto() *pb.HttpRoute_Retry {
	if r == nil {
		return nil
	}
	p := &pb.HttpRoute_Retry{MaxRetries: r.limit, MaxRequestBytes: 65536, Conditions: &pb.HttpRoute_Retry_Conditions{},
		Backoff: backoff(25*time.Millisecond, 250*time.Millisecond, 1)}
	if r.timeout > 0 {
		p.Timeout = durationpb.New(r.timeout)
	}
	for _, sr := range r.http {
		p.Conditions.StatusRanges = append(p.Conditions.StatusRanges, &pb.HttpRoute_Retry_Conditions_StatusRange{Start: sr[0], End: sr[1]})
	}
	return p
}

func (r *retry) grpcProto() *pb.GrpcRoute_Retry {
	if r == nil {
		return nil
	}
	p := &pb.GrpcRoute_Retry{MaxRetries: r.limit, MaxRequestBytes: 65536, Backoff: backoff(25*time.Millisecond, 250*time.Millisecond, 1),
		Conditions: &pb.GrpcRoute_Retry_Conditions{Cancelled: r.grpc["cancelled"], DeadineExceeded: r.grpc["deadline-exceeded"],
			Internal: r.grpc["internal"], ResourceExhausted: r.grpc["resource-exhausted"], Unavailable: r.grpc["unavailable"]}}
	if r.timeout > 0 {
		p.Timeout = durationpb.New(r.timeout)
	}
	return p
}

func accrual(ann map[string]string) *pb.FailureAccrual {
	mode, ok := ann["balancer.linkerd.io/failure-accrual"]
	if !ok || (mode != "consecutive" && mode != "unified") {
		return nil
	}
	maxFailures := uint64(7)
	if v, ok := ann["balancer.linkerd.io/failure-accrual-consecutive-max-failures"]; ok {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil
		}
		maxFailures = n
	}
	minPen, maxPen := time.Second, time.Minute
	if v, ok := ann["balancer.linkerd.io/failure-accrual-consecutive-min-penalty"]; ok {
		if minPen, ok = duration(v); !ok {
			return nil
		}
	}
	if v, ok := ann["balancer.linkerd.io/failure-accrual-consecutive-max-penalty"]; ok {
		if maxPen, ok = duration(v); !ok {
			return nil
		}
	}
	if maxPen <= 0 || minPen > maxPen {
		return nil
	}
	jitter := 0.5
	if v, ok := ann["balancer.linkerd.io/failure-accrual-consecutive-jitter-ratio"]; ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 100 {
			return nil
		}
		jitter = f
	}
	bo := backoff(minPen, maxPen, float32(jitter))
	if mode == "consecutive" {
		return &pb.FailureAccrual{Kind: &pb.FailureAccrual_ConsecutiveFailures_{ConsecutiveFailures: &pb.FailureAccrual_ConsecutiveFailures{MaxFailures: uint32(maxFailures), Backoff: bo}}}
	}
	threshold, window, minReq := 0.8, 10*time.Second, uint64(5)
	if v, ok := ann["balancer.alpha.linkerd.io/failure-accrual-success-rate-threshold"]; ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			return nil
		}
		threshold = f
	}
	if v, ok := ann["balancer.alpha.linkerd.io/failure-accrual-success-rate-window"]; ok {
		if window, ok = duration(v); !ok {
			return nil
		}
	}
	if v, ok := ann["balancer.alpha.linkerd.io/failure-accrual-success-rate-min-requests"]; ok {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil
		}
		minReq = n
	}
	if threshold != 0 && (window < 10*time.Millisecond || minReq > 1000000) {
		return nil
	}
	return &pb.FailureAccrual{Kind: &pb.FailureAccrual_Unified_{Unified: &pb.FailureAccrual_Unified{
		SuccessRateThreshold: threshold, Decay: durationpb.New(window), MinRequests: uint32(minReq),
		MaxConsecutiveFailures: uint32(maxFailures), Backoff: bo}}}
}

// ---- the Service policy (§3, §6, §7) ----

type policyCtx struct {
	s        *Server
	w        *world
	svc      *corev1.Service
	port     uint32
	clientNS string
	penalty  bool
	svcT     timeouts
}

func (s *Server) servicePolicy(w *world, svc *corev1.Service, port uint32, clientNS string) *pb.OutboundPolicy {
	ann := svc.Annotations
	c := &policyCtx{s: s, w: w, svc: svc, port: port, clientNS: clientNS}
	c.svcT, _ = parseTimeouts(ann) // a bad value drops the group
	httpRetry, _ := parseRetry(ann, "http")
	grpcRetry, _ := parseRetry(ann, "grpc")
	if v, ok := ann["balancer.alpha.linkerd.io/penalize-failures"]; ok {
		c.penalty, _ = strconv.ParseBool(v)
	}
	fa := accrual(ann)

	// Routes for this parent, port and client.
	var https []*routeOut
	var grpcs []*routeOut
	for i := range w.http {
		r := &w.http[i]
		if !c.attached(r.ObjectMeta, r.Spec.ParentRefs, r.Status.Parents) {
			continue
		}
		if out, ok := c.convertHTTP(r, httpRetry); ok {
			https = append(https, out)
		}
	}
	for i := range w.grpc {
		r := &w.grpc[i]
		if !c.attached(r.ObjectMeta, r.Spec.ParentRefs, r.Status.Parents) {
			continue
		}
		if out, ok := c.convertGRPC(r, grpcRetry); ok {
			grpcs = append(grpcs, out)
		}
	}
	order(https)
	order(grpcs)

	def := c.serviceBackend(svc.Namespace, svc.Name, port)
	httpList := func() []*pb.HttpRoute {
		if len(https) == 0 {
			return []*pb.HttpRoute{{Metadata: defaultMeta("http"), Rules: []*pb.HttpRoute_Rule{{
				Matches:                []*http_route.HttpRouteMatch{{Path: &http_route.PathMatch{Kind: &http_route.PathMatch_Prefix{Prefix: "/"}}}},
				Backends:               firstAvailable(def),
				Timeouts:               c.svcT.proto(),
				RequestTimeout:         c.svcT.proto().GetRequest(),
				Retry:                  httpRetry.httpProto(),
				AllowL5DRequestHeaders: s.opts.AllowL5dRequestHeaders,
			}}}}
		}
		var out []*pb.HttpRoute
		for _, r := range https {
			out = append(out, r.http)
		}
		return out
	}
	grpcList := func() []*pb.GrpcRoute {
		var out []*pb.GrpcRoute
		for _, r := range grpcs {
			out = append(out, r.grpc)
		}
		return out
	}
	opaq := &pb.ProxyProtocol_Opaque{Routes: []*pb.OpaqueRoute{{Metadata: defaultMeta("opaq"), Rules: []*pb.OpaqueRoute_Rule{{
		Backends: &pb.OpaqueRoute_Distribution{Kind: &pb.OpaqueRoute_Distribution_FirstAvailable_{FirstAvailable: &pb.OpaqueRoute_Distribution_FirstAvailable{Backends: []*pb.OpaqueRoute_RouteBackend{{Backend: def}}}}},
	}}}}}

	var appProtocol *string
	for _, p := range svc.Spec.Ports {
		if uint32(p.Port) == port {
			appProtocol = p.AppProtocol
		}
	}
	proto := &pb.ProxyProtocol{}
	switch {
	case appProtocol != nil && strings.EqualFold(*appProtocol, "http"):
		proto.Kind = &pb.ProxyProtocol_Http1_{Http1: &pb.ProxyProtocol_Http1{Routes: httpList(), FailureAccrual: fa}}
	case appProtocol != nil && strings.EqualFold(*appProtocol, "kubernetes.io/h2c"):
		if len(grpcs) > 0 {
			proto.Kind = &pb.ProxyProtocol_Grpc_{Grpc: &pb.ProxyProtocol_Grpc{Routes: grpcList(), FailureAccrual: fa}}
		} else {
			proto.Kind = &pb.ProxyProtocol_Http2_{Http2: &pb.ProxyProtocol_Http2{Routes: httpList(), FailureAccrual: fa}}
		}
	case appProtocol != nil: // linkerd.io/opaque, linkerd.io/tcp, or anything else
		proto.Kind = &pb.ProxyProtocol_Opaque_{Opaque: opaq}
	case c.opaquePort():
		proto.Kind = &pb.ProxyProtocol_Opaque_{Opaque: opaq}
	case len(grpcs) > 0:
		proto.Kind = &pb.ProxyProtocol_Grpc_{Grpc: &pb.ProxyProtocol_Grpc{Routes: grpcList(), FailureAccrual: fa}}
	default:
		routes := httpList()
		proto.Kind = &pb.ProxyProtocol_Detect_{Detect: &pb.ProxyProtocol_Detect{
			Timeout: durationpb.New(10 * time.Second),
			Opaque:  opaq,
			Http1:   &pb.ProxyProtocol_Http1{Routes: routes, FailureAccrual: fa},
			Http2:   &pb.ProxyProtocol_Http2{Routes: routes, FailureAccrual: fa},
		}}
	}
	return &pb.OutboundPolicy{Metadata: resource("core", "Service", svc.Namespace, svc.Name, port), Protocol: proto}
}

// opaquePort reads config.linkerd.io/opaque-ports (numbers, ranges, port
// names), or the default opaque ports when it is absent.
func (c *policyCtx) opaquePort() bool {
	v, ok := c.svc.Annotations["config.linkerd.io/opaque-ports"]
	if !ok {
		v = c.s.opts.DefaultOpaquePorts
	}
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		for _, p := range c.svc.Spec.Ports {
			if ok && p.Name != "" && p.Name == part && uint32(p.Port) == c.port {
				return true
			}
		}
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			hi = lo
		}
		a, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
		b, err2 := strconv.ParseUint(strings.TrimSpace(hi), 10, 16)
		if err1 == nil && err2 == nil && uint64(c.port) >= a && uint64(c.port) <= b {
			return true
		}
	}
	return false
}

func (c *policyCtx) serviceBackend(ns, name string, port uint32) *pb.Backend {
	bal := &pb.Backend_BalanceP2C{Load: &pb.Backend_BalanceP2C_PeakEwma_{PeakEwma: &pb.Backend_BalanceP2C_PeakEwma{DefaultRtt: durationpb.New(30 * time.Millisecond), Decay: durationpb.New(10 * time.Second)}}}
	if c.penalty {
		bal.Load = &pb.Backend_BalanceP2C_PenaltyPeakEwma_{PenaltyPeakEwma: &pb.Backend_BalanceP2C_PenaltyPeakEwma{DefaultRtt: durationpb.New(30 * time.Millisecond), Decay: durationpb.New(10 * time.Second), Penalty: durationpb.New(5 * time.Second)}}
	}
	bal.Discovery = &pb.Backend_EndpointDiscovery{Kind: &pb.Backend_EndpointDiscovery_Dst{Dst: &pb.Backend_EndpointDiscovery_DestinationGet{
		Path: fmt.Sprintf("%s.%s.svc.%s:%d", name, ns, c.s.opts.ClusterDomain, port)}}}
	return &pb.Backend{
		Metadata: resource("core", "Service", ns, name, port),
		Queue:    &pb.Queue{Capacity: 100, FailfastTimeout: durationpb.New(3 * time.Second)},
		Kind:     &pb.Backend_Balancer{Balancer: bal},
	}
}

func firstAvailable(b *pb.Backend) *pb.HttpRoute_Distribution {
	return &pb.HttpRoute_Distribution{Kind: &pb.HttpRoute_Distribution_FirstAvailable_{FirstAvailable: &pb.HttpRoute_Distribution_FirstAvailable{Backends: []*pb.HttpRoute_RouteBackend{{Backend: b}}}}}
}

func serviceParent(group *gatewayv1.Group, kind *gatewayv1.Kind) bool {
	if kind == nil || strings.ToLower(string(*kind)) != "service" {
		return false
	}
	return group == nil || *group == "core" || *group == ""
}

// attached: a parentRef with kind Service naming this Service and this
// port (or none), Accepted=True for it, and visible to this client (§6).
func (c *policyCtx) attached(m metav1.ObjectMeta, refs []gatewayv1.ParentReference, parents []gatewayv1.RouteParentStatus) bool {
	if m.Namespace != c.svc.Namespace && m.Namespace != c.clientNS {
		return false // a consumer route of another namespace
	}
	for _, ref := range refs {
		if !serviceParent(ref.Group, ref.Kind) || string(ref.Name) != c.svc.Name {
			continue
		}
		ns := m.Namespace
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		if ns != c.svc.Namespace || (ref.Port != nil && uint32(*ref.Port) != c.port) {
			continue
		}
		for _, st := range parents {
			p := st.ParentRef
			if string(p.Name) != c.svc.Name || !serviceParent(p.Group, p.Kind) {
				continue
			}
			if p.Port != nil && (ref.Port == nil || *p.Port != *ref.Port) {
				continue
			}
			for _, cond := range st.Conditions {
				if cond.Type == "Accepted" && cond.Status == metav1.ConditionTrue {
					return true
				}
			}
		}
	}
	return false
}

type routeOut struct {
	meta metav1.ObjectMeta
	http *pb.HttpRoute
	grpc *pb.GrpcRoute
}

func order(rs []*routeOut) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i].meta.CreationTimestamp.Time, rs[j].meta.CreationTimestamp.Time
		switch {
		case a.IsZero() != b.IsZero():
			return !a.IsZero()
		case !a.Equal(b):
			return a.Before(b)
		}
		return rs[i].meta.Name < rs[j].meta.Name
	})
}

func hostMatches(hs []gatewayv1.Hostname) []*http_route.HostMatch {
	var out []*http_route.HostMatch
	for _, h := range hs {
		s := string(h)
		if rest, ok := strings.CutPrefix(s, "*."); ok {
			labels := strings.Split(rest, ".")
			for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
				labels[i], labels[j] = labels[j], labels[i]
			}
			out = append(out, &http_route.HostMatch{Match: &http_route.HostMatch_Suffix_{Suffix: &http_route.HostMatch_Suffix{ReverseLabels: labels}}})
			continue
		}
		out = append(out, &http_route.HostMatch{Match: &http_route.HostMatch_Exact{Exact: s}})
	}
	return out
}

// tokenOK: an RFC 7230 token (a header name the http crate accepts).
func tokenOK(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return s != ""
}

// fieldValueOK: no control characters other than tab.
func fieldValueOK(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func regexOK(re string) bool {
	_, err := syntax.Parse(re, syntax.Perl)
	return err == nil
}

func headerMatch(name, typ, value string) (*http_route.HeaderMatch, bool) {
	if !tokenOK(name) {
		return nil, false
	}
	if typ == "RegularExpression" {
		if !regexOK(value) {
			return nil, false
		}
		return &http_route.HeaderMatch{Name: strings.ToLower(name), Value: &http_route.HeaderMatch_Regex{Regex: value}}, true
	}
	if !fieldValueOK(value) {
		return nil, false
	}
	return &http_route.HeaderMatch{Name: strings.ToLower(name), Value: &http_route.HeaderMatch_Exact{Exact: []byte(value)}}, true
}

func headers(hs []gatewayv1.HTTPHeader) *http_types.Headers {
	if len(hs) == 0 {
		return nil
	}
	out := &http_types.Headers{}
	for _, h := range hs {
		out.Headers = append(out.Headers, &http_types.Headers_Header{Name: string(h.Name), Value: []byte(h.Value)})
	}
	return out
}

func requestModifier(f *gatewayv1.HTTPHeaderFilter) *http_route.RequestHeaderModifier {
	if f == nil {
		return &http_route.RequestHeaderModifier{}
	}
	return &http_route.RequestHeaderModifier{Set: headers(f.Set), Add: headers(f.Add), Remove: f.Remove}
}

// timeoutsFor is §7.2 steps 1–3.
func (c *policyCtx) timeoutsFor(route timeouts, ruleRequest *time.Duration) timeouts {
	t := route
	if t.request == nil && ruleRequest != nil && *ruleRequest != 0 {
		t.request = ruleRequest
	}
	if t.empty() {
		return c.svcT
	}
	return t
}

func (c *policyCtx) convertHTTP(r *httpRoute, svcRetry *retry) (*routeOut, bool) {
	rt, ok := parseTimeouts(r.Annotations)
	if !ok {
		return nil, false
	}
	rr, ok := parseRetry(r.Annotations, "http")
	if !ok {
		return nil, false
	}
	if rr == nil {
		rr = svcRetry
	}
	out := &pb.HttpRoute{Metadata: resource(r.group, "HTTPRoute", r.Namespace, r.Name, 0), Hosts: hostMatches(r.Spec.Hostnames)}
	for _, rule := range r.Spec.Rules {
		x := &pb.HttpRoute_Rule{AllowL5DRequestHeaders: c.s.opts.AllowL5dRequestHeaders, Retry: rr.httpProto()}
		for _, m := range rule.Matches {
			pm := &http_route.HttpRouteMatch{}
			if m.Path != nil {
				typ, val := "PathPrefix", "/"
				if m.Path.Type != nil {
					typ = string(*m.Path.Type)
				}
				if m.Path.Value != nil {
					val = *m.Path.Value
				}
				switch typ {
				case "Exact":
					if !strings.HasPrefix(val, "/") {
						return nil, false
					}
					pm.Path = &http_route.PathMatch{Kind: &http_route.PathMatch_Exact{Exact: val}}
				case "PathPrefix":
					if !strings.HasPrefix(val, "/") {
						return nil, false
					}
					pm.Path = &http_route.PathMatch{Kind: &http_route.PathMatch_Prefix{Prefix: val}}
				case "RegularExpression":
					if !regexOK(val) {
						return nil, false
					}
					pm.Path = &http_route.PathMatch{Kind: &http_route.PathMatch_Regex{Regex: val}}
				default:
					return nil, false
				}
			}
			for _, h := range m.Headers {
				typ := "Exact"
				if h.Type != nil {
					typ = string(*h.Type)
				}
				hm, ok := headerMatch(string(h.Name), typ, h.Value)
				if !ok {
					return nil, false
				}
				pm.Headers = append(pm.Headers, hm)
			}
			for _, q := range m.QueryParams {
				qm := &http_route.QueryParamMatch{Name: string(q.Name), Value: &http_route.QueryParamMatch_Exact{Exact: q.Value}}
				if q.Type != nil && *q.Type == "RegularExpression" {
					if !regexOK(q.Value) {
						return nil, false
					}
					qm.Value = &http_route.QueryParamMatch_Regex{Regex: q.Value}
				}
				pm.QueryParams = append(pm.QueryParams, qm)
			}
			if m.Method != nil {
				if v, ok := http_types.HttpMethod_Registered_value[string(*m.Method)]; ok {
					pm.Method = &http_types.HttpMethod{Type: &http_types.HttpMethod_Registered_{Registered: http_types.HttpMethod_Registered(v)}}
				} else {
					pm.Method = &http_types.HttpMethod{Type: &http_types.HttpMethod_Unregistered{Unregistered: string(*m.Method)}}
				}
			}
			x.Matches = append(x.Matches, pm)
		}
		for _, f := range rule.Filters {
			pf, ok := httpFilter(r.group, f)
			if !ok {
				return nil, false
			}
			x.Filters = append(x.Filters, pf)
		}
		var ruleReq *time.Duration
		if rule.Timeouts != nil && rule.Timeouts.Request != nil {
			v := string(*rule.Timeouts.Request)
			if r.group == "policy.linkerd.io" {
				if d, err := time.ParseDuration(v); err == nil {
					ruleReq = &d
				}
			} else if !c.s.opts.IgnoreGatewayRuleTimeouts {
				if d, ok := duration(v); ok {
					ruleReq = &d
				}
			}
		}
		t := c.timeoutsFor(rt, ruleReq)
		x.Timeouts, x.RequestTimeout = t.proto(), t.proto().GetRequest()
		if len(rule.BackendRefs) == 0 {
			x.Backends = firstAvailable(c.serviceBackend(c.svc.Namespace, c.svc.Name, c.port))
		} else {
			var wbs []*pb.HttpRoute_WeightedRouteBackend
			for _, br := range rule.BackendRefs {
				var unsupported string
				for _, f := range br.Filters {
					if f.Type != "RequestHeaderModifier" && f.Type != "ResponseHeaderModifier" && f.Type != "RequestRedirect" && unsupported == "" {
						unsupported = string(f.Type)
					}
				}
				b, weight, invalid := c.backend(r.Namespace, br.BackendRef, unsupported)
				rb := &pb.HttpRoute_RouteBackend{Backend: b}
				if invalid != "" {
					rb.Filters = []*pb.HttpRoute_Filter{{Kind: &pb.HttpRoute_Filter_FailureInjector{FailureInjector: &http_route.HttpFailureInjector{Status: 500, Message: invalid}}}}
				} else {
					for _, f := range br.Filters {
						pf, _ := httpFilter(r.group, f)
						rb.Filters = append(rb.Filters, pf)
					}
				}
				wbs = append(wbs, &pb.HttpRoute_WeightedRouteBackend{Weight: weight, Backend: rb})
			}
			x.Backends = &pb.HttpRoute_Distribution{Kind: &pb.HttpRoute_Distribution_RandomAvailable_{RandomAvailable: &pb.HttpRoute_Distribution_RandomAvailable{Backends: wbs}}}
		}
		out.Rules = append(out.Rules, x)
	}
	return &routeOut{meta: r.ObjectMeta, http: out}, true
}

func httpFilter(group string, f gatewayv1.HTTPRouteFilter) (*pb.HttpRoute_Filter, bool) {
	switch f.Type {
	case "RequestHeaderModifier":
		return &pb.HttpRoute_Filter{Kind: &pb.HttpRoute_Filter_RequestHeaderModifier{RequestHeaderModifier: requestModifier(f.RequestHeaderModifier)}}, true
	case "ResponseHeaderModifier":
		if group == "policy.linkerd.io" {
			// convert_linkerd_filter: a request modifier on the outbound side.
			return &pb.HttpRoute_Filter{Kind: &pb.HttpRoute_Filter_RequestHeaderModifier{RequestHeaderModifier: requestModifier(f.ResponseHeaderModifier)}}, true
		}
		m := requestModifier(f.ResponseHeaderModifier)
		return &pb.HttpRoute_Filter{Kind: &pb.HttpRoute_Filter_ResponseHeaderModifier{ResponseHeaderModifier: &http_route.ResponseHeaderModifier{Set: m.Set, Add: m.Add, Remove: m.Remove}}}, true
	case "RequestRedirect":
		rr := f.RequestRedirect
		if rr == nil {
			return nil, false
		}
		red := &http_route.RequestRedirect{}
		if rr.Scheme != nil {
			switch strings.ToLower(*rr.Scheme) {
			case "http":
				red.Scheme = &http_types.Scheme{Type: &http_types.Scheme_Registered_{Registered: http_types.Scheme_HTTP}}
			case "https":
				red.Scheme = &http_types.Scheme{Type: &http_types.Scheme_Registered_{Registered: http_types.Scheme_HTTPS}}
			default:
				red.Scheme = &http_types.Scheme{Type: &http_types.Scheme_Unregistered{Unregistered: *rr.Scheme}}
			}
		}
		if rr.Hostname != nil {
			red.Host = string(*rr.Hostname)
		}
		if rr.Port != nil {
			red.Port = uint32(*rr.Port)
		}
		if rr.StatusCode != nil {
			red.Status = uint32(*rr.StatusCode)
		}
		if p := rr.Path; p != nil {
			switch {
			case p.ReplaceFullPath != nil && strings.HasPrefix(*p.ReplaceFullPath, "/"):
				red.Path = &http_route.PathModifier{Replace: &http_route.PathModifier_Full{Full: *p.ReplaceFullPath}}
			case p.ReplaceFullPath == nil && p.ReplacePrefixMatch != nil && strings.HasPrefix(*p.ReplacePrefixMatch, "/"):
				red.Path = &http_route.PathModifier{Replace: &http_route.PathModifier_Prefix{Prefix: *p.ReplacePrefixMatch}}
			default:
				return nil, false
			}
		}
		return &pb.HttpRoute_Filter{Kind: &pb.HttpRoute_Filter_Redirect{Redirect: red}}, true
	}
	return nil, false // RequestMirror, URLRewrite, ExtensionRef, CORS, unknown
}

// backend is §3.3: the backend, its weight, and the failure message when
// it is invalid.
func (c *policyCtx) backend(routeNS string, br gatewayv1.BackendRef, unsupportedFilter string) (*pb.Backend, uint32, string) {
	weight := uint32(1)
	if br.Weight != nil {
		weight = uint32(*br.Weight)
	}
	group, kind := "", "Service"
	if br.Group != nil {
		group = string(*br.Group)
	}
	if br.Kind != nil {
		kind = string(*br.Kind)
	}
	ns := routeNS
	if br.Namespace != nil {
		ns = string(*br.Namespace)
	}
	name := string(br.Name)
	invalid := &pb.Backend{Metadata: defaultMeta("invalid")}
	if !(group == "" || group == "core") || kind != "Service" {
		return invalid, weight, fmt.Sprintf("unsupported backend type %s %s", group, kind)
	}
	if br.Port == nil {
		return invalid, weight, "missing port for backend Service " + name
	}
	if unsupportedFilter != "" {
		return invalid, weight, "unsupported backend filter: " + unsupportedFilter
	}
	port := uint32(*br.Port)
	if c.w.service(ns, name) == nil {
		return &pb.Backend{Metadata: resource("core", "Service", ns, name, port)}, weight, "Service not found " + name
	}
	return c.serviceBackend(ns, name, port), weight, ""
}

func (c *policyCtx) convertGRPC(r *gatewayv1.GRPCRoute, svcRetry *retry) (*routeOut, bool) {
	rt, ok := parseTimeouts(r.Annotations)
	if !ok {
		return nil, false
	}
	rr, ok := parseRetry(r.Annotations, "grpc")
	if !ok {
		return nil, false
	}
	if rr == nil {
		rr = svcRetry
	}
	out := &pb.GrpcRoute{Metadata: resource("gateway.networking.k8s.io", "GRPCRoute", r.Namespace, r.Name, 0), Hosts: hostMatches(r.Spec.Hostnames)}
	for _, rule := range r.Spec.Rules {
		t := c.timeoutsFor(rt, nil)
		x := &pb.GrpcRoute_Rule{AllowL5DRequestHeaders: c.s.opts.AllowL5dRequestHeaders, Retry: rr.grpcProto(), Timeouts: t.proto(), RequestTimeout: t.proto().GetRequest()}
		for _, m := range rule.Matches {
			gm := &grpc_route.GrpcRouteMatch{}
			if m.Method != nil {
				if m.Method.Type != nil && *m.Method.Type == "RegularExpression" {
					return nil, false
				}
				gm.Rpc = &grpc_route.GrpcRpcMatch{}
				if m.Method.Service != nil {
					gm.Rpc.Service = *m.Method.Service
				}
				if m.Method.Method != nil {
					gm.Rpc.Method = *m.Method.Method
				}
			}
			for _, h := range m.Headers {
				typ := "Exact"
				if h.Type != nil {
					typ = string(*h.Type)
				}
				hm, ok := headerMatch(string(h.Name), typ, h.Value)
				if !ok {
					return nil, false
				}
				gm.Headers = append(gm.Headers, hm)
			}
			x.Matches = append(x.Matches, gm)
		}
		for _, f := range rule.Filters {
			switch f.Type {
			case "RequestHeaderModifier":
				x.Filters = append(x.Filters, &pb.GrpcRoute_Filter{Kind: &pb.GrpcRoute_Filter_RequestHeaderModifier{RequestHeaderModifier: requestModifier(f.RequestHeaderModifier)}})
			case "ResponseHeaderModifier":
				x.Filters = append(x.Filters, &pb.GrpcRoute_Filter{}) // "Declining to convert invalid filter type"
			default:
				return nil, false
			}
		}
		if len(rule.BackendRefs) == 0 {
			x.Backends = &pb.GrpcRoute_Distribution{Kind: &pb.GrpcRoute_Distribution_FirstAvailable_{FirstAvailable: &pb.GrpcRoute_Distribution_FirstAvailable{
				Backends: []*pb.GrpcRoute_RouteBackend{{Backend: c.serviceBackend(c.svc.Namespace, c.svc.Name, c.port)}}}}}
		} else {
			var wbs []*pb.GrpcRoute_WeightedRouteBackend
			for _, br := range rule.BackendRefs {
				var unsupported string
				for _, f := range br.Filters {
					if f.Type != "RequestHeaderModifier" && unsupported == "" {
						unsupported = string(f.Type)
					}
				}
				b, weight, invalid := c.backend(r.Namespace, br.BackendRef, unsupported)
				rb := &pb.GrpcRoute_RouteBackend{Backend: b}
				if invalid != "" {
					rb.Filters = []*pb.GrpcRoute_Filter{{Kind: &pb.GrpcRoute_Filter_FailureInjector{FailureInjector: &grpc_route.GrpcFailureInjector{Code: 500, Message: invalid}}}}
				} else {
					for _, f := range br.Filters {
						rb.Filters = append(rb.Filters, &pb.GrpcRoute_Filter{Kind: &pb.GrpcRoute_Filter_RequestHeaderModifier{RequestHeaderModifier: requestModifier(f.RequestHeaderModifier)}})
					}
				}
				wbs = append(wbs, &pb.GrpcRoute_WeightedRouteBackend{Weight: weight, Backend: rb})
			}
			x.Backends = &pb.GrpcRoute_Distribution{Kind: &pb.GrpcRoute_Distribution_RandomAvailable_{RandomAvailable: &pb.GrpcRoute_Distribution_RandomAvailable{Backends: wbs}}}
		}
		out.Rules = append(out.Rules, x)
	}
	return &routeOut{meta: r.ObjectMeta, grpc: out}, true
}
