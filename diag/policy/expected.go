package policy

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/rustregex"
)

// Target is what a fake proxy asks about: a Service port, as a client in
// ClientNamespace.
type Target struct {
	Service         *corev1.Service
	Port            int32
	ClientNamespace string
	// Authority is true when the lookup is by authority (headless
	// Services): no port check, so an undefined port gets the normal
	// policy instead of the undefined-port one (§2.2).
	Authority bool
}

// Cluster is what the policy controller indexes.
type Cluster struct {
	// Services are every Service known (backend existence), with or
	// without the target.
	Services   []*corev1.Service
	HTTPRoutes []HTTPRoute
	GRPCRoutes []*GRPCRoute
	// Unread says what could not be listed (a kind in a namespace, and
	// why): the routes above may be missing some there, so a conclusion
	// drawn from them is not an all-clear.
	Unread []string
}

// Options are control-plane settings the answer depends on.
type Options struct {
	ClusterDomain string // default cluster.local
	// DefaultOpaquePorts is the controller's --default-opaque-ports
	// (default expect.DefaultOpaquePorts).
	DefaultOpaquePorts string
	// IgnoreGatewayRuleTimeouts models a control plane before 2.20, which
	// ignores gateway.networking.k8s.io HTTPRoute rules[].timeouts.
	IgnoreGatewayRuleTimeouts bool
	// AllowL5dRequestHeaders is the controller's
	// --allow-l5d-request-headers (off in default installs).
	AllowL5dRequestHeaders bool
}

// Verdict reasons: why a route naming the Service is or is not served to
// this client on this port.
const (
	ReasonServed          = "served"
	ReasonOtherPort       = "other-port"          // its parentRefs name another port
	ReasonParentNoKind    = "parent-without-kind" // parentRef without kind: Gateway's default, skipped
	ReasonNotAccepted     = "not-accepted"        // no Accepted=True status for this parent
	ReasonConversion      = "conversion-failed"   // the controller drops the whole route
	ReasonOtherConsumer   = "consumer-other-namespace"
	ReasonHiddenByGRPC    = "hidden-by-grpcroute"
	ReasonProtocolIgnores = "protocol-ignores-kind" // opaque port, or http1 hiding GRPCRoutes
)

// Verdict is one route that names the target Service.
type Verdict struct {
	Group     string `json:"group"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Reason    string `json:"reason"`
	Detail    string `json:"detail,omitempty"`
}

// Expected is what the policy controller should serve.
type Expected struct {
	Policy *Policy `json:"policy"`
	// Routes are every route whose parentRefs name the Service, with
	// whether and why it is served to this client on this port.
	Routes []Verdict `json:"routes,omitempty"`
	// Problems are Service annotations the controller drops (§8).
	Problems []string `json:"problems,omitempty"`
}

type candidate struct {
	meta  metav1.ObjectMeta
	group string
	kind  string
	route Route
}

// Expect computes what the controller serves for t (reference §3, §6, §7,
// §8, §10).
func Expect(t Target, c *Cluster, o Options) Expected {
	if o.ClusterDomain == "" {
		o.ClusterDomain = profile.DefaultClusterDomain
	}
	if o.DefaultOpaquePorts == "" {
		o.DefaultOpaquePorts = expect.DefaultOpaquePorts
	}
	svc := t.Service
	port := uint32(t.Port)
	var out Expected
	parent := Ref{Group: "core", Kind: "Service", Namespace: svc.Namespace, Name: svc.Name, Port: port}

	sp := servicePort(svc, t.Port)
	if sp == nil && !t.Authority {
		out.Policy = &Policy{Parent: parent, Protocol: Opaque, Routes: []Route{},
			OpaqueRoutes: []Route{{Default: "undefined-port", Rules: []Rule{{Distribution: "empty", Filters: []Filter{{Kind: FilterForbidden}}}}}}}
		return out
	}

	ann := svc.Annotations
	svcTimeouts, err := timeoutsFrom(ann)
	if err != nil {
		out.Problems = append(out.Problems, "timeouts dropped: "+err.Error())
	}
	svcHTTPRetry, err := retryFrom(ann, AnnotationRetryHTTP)
	if err != nil {
		out.Problems = append(out.Problems, "HTTP retry dropped: "+err.Error())
	}
	svcGRPCRetry, err := retryFrom(ann, AnnotationRetryGRPC)
	if err != nil {
		out.Problems = append(out.Problems, "gRPC retry dropped: "+err.Error())
	}
	accrual, err := accrualFrom(ann)
	if err != nil {
		out.Problems = append(out.Problems, "failure accrual dropped: "+err.Error())
	}
	pen, err := penalize(ann)
	if err != nil {
		out.Problems = append(out.Problems, "load biaser dropped: "+err.Error())
	}
	load := "peakEwma"
	if pen {
		load = "penaltyPeakEwma"
	}
	b := &builder{t: t, c: c, o: o, load: load, svcTimeouts: svcTimeouts}
	defaultBackend := b.serviceBackend(svc.Namespace, svc.Name, port)

	var httpRoutes, grpcRoutes []candidate
	for _, r := range c.HTTPRoutes {
		if r.HTTPRoute == nil {
			continue
		}
		v := Verdict{Group: r.Group, Kind: "HTTPRoute", Namespace: r.Namespace, Name: r.Name}
		reason, detail, applies := b.applies(r.ObjectMeta, r.Spec.ParentRefs, r.Status.Parents)
		if applies {
			route, err := b.httpRoute(r, svcHTTPRetry, defaultBackend)
			if err != nil {
				reason, detail, applies = ReasonConversion, err.Error(), false
			} else {
				httpRoutes = append(httpRoutes, candidate{r.ObjectMeta, r.Group, "HTTPRoute", route})
			}
		}
		if reason == "" && !applies {
			continue
		}
		v.Reason, v.Detail = reason, detail
		out.Routes = append(out.Routes, v)
	}
	for _, r := range c.GRPCRoutes {
		if r == nil {
			continue
		}
		v := Verdict{Group: GroupGateway, Kind: "GRPCRoute", Namespace: r.Namespace, Name: r.Name}
		reason, detail, applies := b.applies(r.ObjectMeta, r.Spec.ParentRefs, r.Status.Parents)
		if applies {
			route, err := b.grpcRoute(r, svcGRPCRetry, defaultBackend)
			if err != nil {
				reason, detail, applies = ReasonConversion, err.Error(), false
			} else {
				grpcRoutes = append(grpcRoutes, candidate{r.ObjectMeta, GroupGateway, "GRPCRoute", route})
			}
		}
		if reason == "" && !applies {
			continue
		}
		v.Reason, v.Detail = reason, detail
		out.Routes = append(out.Routes, v)
	}
	sortCandidates(httpRoutes)
	sortCandidates(grpcRoutes)

	pol := &Policy{Parent: parent, Routes: []Route{}}
	defaultHTTP := Route{Default: "http", Rules: []Rule{{
		Matches:      []Match{{Path: "prefix:/"}},
		Timeouts:     svcTimeouts,
		Retry:        svcHTTPRetry,
		Distribution: "firstAvailable",
		Backends:     []Backend{defaultBackend},
		Sources:      serviceSources(svcTimeouts, svcHTTPRetry),

		AllowL5dRequestHeaders: o.AllowL5dRequestHeaders,
	}}}
	opaq := Route{Default: "opaq", Rules: []Rule{{Distribution: "firstAvailable", Backends: []Backend{defaultBackend}}}}
	routesOf := func(cs []candidate) []Route {
		rs := []Route{}
		for _, c := range cs {
			rs = append(rs, c.route)
		}
		return rs
	}
	httpOrDefault := func() []Route {
		if len(httpRoutes) == 0 {
			return []Route{defaultHTTP}
		}
		return routesOf(httpRoutes)
	}
	appProto := ""
	if sp != nil && sp.AppProtocol != nil {
		appProto = strings.ToLower(*sp.AppProtocol)
	}
	hide := func(cs []candidate, reason, detail string) {
		for _, c := range cs {
			for i := range out.Routes {
				v := &out.Routes[i]
				if v.Kind == c.kind && v.Group == c.group && v.Namespace == c.meta.Namespace && v.Name == c.meta.Name && v.Reason == ReasonServed {
					v.Reason, v.Detail = reason, detail
				}
			}
		}
	}
	opaqueByAnnotation, why := false, ""
	if appProto == "" {
		opaqueByAnnotation, why = expect.IsOpaque(modelService(svc), port, o.DefaultOpaquePorts)
	}
	switch {
	case appProto == AppProtocolHTTP:
		pol.Protocol, pol.Routes = HTTP1, httpOrDefault()
		hide(grpcRoutes, ReasonProtocolIgnores, "the port's appProtocol is http: GRPCRoutes are not served")
	case appProto == AppProtocolH2C && len(grpcRoutes) > 0:
		pol.Protocol, pol.Routes = GRPC, routesOf(grpcRoutes)
		hide(httpRoutes, ReasonHiddenByGRPC, "a GRPCRoute on this port hides every HTTPRoute")
	case appProto == AppProtocolH2C:
		pol.Protocol, pol.Routes = HTTP2, httpOrDefault()
	case appProto != "" || opaqueByAnnotation:
		pol.Protocol, pol.OpaqueRoutes = Opaque, []Route{opaq}
		detail := fmt.Sprintf("the port's appProtocol %q means opaque: no HTTP routing", appProto)
		if opaqueByAnnotation {
			detail = "the port is opaque: " + why
		}
		hide(httpRoutes, ReasonProtocolIgnores, detail)
		hide(grpcRoutes, ReasonProtocolIgnores, detail)
		accrual = nil
	case len(grpcRoutes) > 0:
		pol.Protocol, pol.Routes = GRPC, routesOf(grpcRoutes)
		hide(httpRoutes, ReasonHiddenByGRPC, "a GRPCRoute on this port hides every HTTPRoute")
	default:
		pol.Protocol, pol.Routes, pol.OpaqueRoutes = Detect, httpOrDefault(), []Route{opaq}
		pol.DetectTimeout = FormatDuration(defaultDetectTimeout)
	}
	pol.FailureAccrual = accrual
	out.Policy = pol
	return out
}

func serviceSources(t Timeouts, r *Retry) *Sources {
	s := &Sources{}
	if t.Request != "" {
		s.Request = SourceServiceAnnotation
	}
	if t.Response != "" {
		s.Response = SourceServiceAnnotation
	}
	if t.Idle != "" {
		s.Idle = SourceServiceAnnotation
	}
	if r != nil {
		s.Retry = SourceServiceAnnotation
	}
	if *s == (Sources{}) {
		return nil
	}
	return s
}

func sortCandidates(cs []candidate) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i].meta, cs[j].meta
		az, bz := a.CreationTimestamp.IsZero(), b.CreationTimestamp.IsZero()
		if az != bz {
			return bz // routes without a timestamp sort last
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
}

func servicePort(svc *corev1.Service, port int32) *corev1.ServicePort {
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == port {
			return &svc.Spec.Ports[i]
		}
	}
	return nil
}

// modelService is the shape diag/expect's opaque-port rule reads.
func modelService(svc *corev1.Service) model.Service {
	m := model.Service{Name: svc.Name, Namespace: svc.Namespace}
	for _, p := range svc.Spec.Ports {
		m.Ports = append(m.Ports, model.ServicePort{Name: p.Name, Port: uint32(p.Port), Protocol: string(p.Protocol)})
	}
	if v, ok := svc.Annotations[model.OpaquePortsAnnotation]; ok {
		m.OpaquePorts = &v
	}
	return m
}

type builder struct {
	t           Target
	c           *Cluster
	o           Options
	load        string
	svcTimeouts Timeouts
}

func (b *builder) serviceExists(ns, name string) bool {
	for _, s := range b.c.Services {
		if s != nil && s.Namespace == ns && s.Name == name {
			return true
		}
	}
	return b.t.Service.Namespace == ns && b.t.Service.Name == name
}

func (b *builder) serviceBackend(ns, name string, port uint32) Backend {
	return Backend{
		Ref:  Ref{Group: "core", Kind: "Service", Namespace: ns, Name: name, Port: port},
		Path: fmt.Sprintf("%s:%d", profile.FQDN(name, ns, b.o.ClusterDomain), port),
		Load: b.load,
	}
}

func isServiceKind(group *gatewayv1.Group, kind *gatewayv1.Kind) bool {
	if kind == nil || !strings.EqualFold(string(*kind), "Service") {
		return false
	}
	return group == nil || *group == "" || *group == "core"
}

// applies decides whether a route reaches this client on this port through
// one of its parentRefs (§6.1, §6.2, §6.4). reason is "" when no parentRef
// names the Service at all.
func (b *builder) applies(m metav1.ObjectMeta, refs []gatewayv1.ParentReference, status []gatewayv1.RouteParentStatus) (reason, detail string, ok bool) {
	svc := b.t.Service
	for _, ref := range refs {
		ns := m.Namespace
		if ref.Namespace != nil && *ref.Namespace != "" {
			ns = string(*ref.Namespace)
		}
		if ns != svc.Namespace || string(ref.Name) != svc.Name {
			continue
		}
		if ref.Kind == nil {
			if reason == "" {
				reason, detail = ReasonParentNoKind, "a parentRef without kind means Gateway: set kind: Service (group core)"
			}
			continue
		}
		if !isServiceKind(ref.Group, ref.Kind) {
			continue
		}
		if ref.Port != nil && int32(*ref.Port) != b.t.Port {
			if reason == "" || reason == ReasonParentNoKind {
				reason, detail = ReasonOtherPort, fmt.Sprintf("its parentRef names port %d", *ref.Port)
			}
			continue
		}
		if acc, why := accepted(ref, status, svc.Name); !acc {
			reason, detail = ReasonNotAccepted, why
			continue
		}
		if m.Namespace != svc.Namespace && m.Namespace != b.t.ClientNamespace {
			reason, detail = ReasonOtherConsumer, fmt.Sprintf("a consumer route in namespace %s applies only to clients in that namespace", m.Namespace)
			continue
		}
		return ReasonServed, "", true
	}
	return reason, detail, false
}

// accepted looks for a status.parents entry for this parent with
// Accepted=True (§6.2).
func accepted(ref gatewayv1.ParentReference, status []gatewayv1.RouteParentStatus, name string) (bool, string) {
	why := "no status.parents entry for this Service: the policy controller has not accepted it (is it running and holding the status lease?)"
	for _, st := range status {
		p := st.ParentRef
		if string(p.Name) != name || !isServiceKind(p.Group, p.Kind) {
			continue
		}
		if p.Port != nil && (ref.Port == nil || *ref.Port != *p.Port) {
			continue
		}
		for _, c := range st.Conditions {
			if c.Type != "Accepted" {
				continue
			}
			if c.Status == metav1.ConditionTrue {
				return true, ""
			}
			why = fmt.Sprintf("Accepted=%s reason %s: %s", c.Status, c.Reason, c.Message)
		}
	}
	return false, why
}

// ruleTimeouts applies §7.2 steps 1–3.
func (b *builder) ruleTimeouts(routeT Timeouts, ruleRequest string) (Timeouts, *Sources) {
	t := routeT
	s := &Sources{}
	if t.Request != "" {
		s.Request = SourceRouteAnnotation
	} else if ruleRequest != "" {
		t.Request, s.Request = ruleRequest, SourceRuleTimeouts
	}
	if t.Response != "" {
		s.Response = SourceRouteAnnotation
	}
	if t.Idle != "" {
		s.Idle = SourceRouteAnnotation
	}
	if t == (Timeouts{}) {
		t = b.svcTimeouts
		sv := serviceSources(t, nil)
		if sv == nil {
			sv = &Sources{}
		}
		s = sv
	}
	return t, s
}

func (b *builder) httpRoute(r HTTPRoute, svcRetry *Retry, def Backend) (Route, error) {
	ann := r.Annotations
	rt, err := timeoutsFrom(ann)
	if err != nil {
		return Route{}, err
	}
	retry, err := retryFrom(ann, AnnotationRetryHTTP)
	if err != nil {
		return Route{}, err
	}
	retrySrc := SourceRouteAnnotation
	if retry == nil {
		retry, retrySrc = svcRetry, SourceServiceAnnotation
	}
	route := Route{Group: r.Group, Kind: "HTTPRoute", Namespace: r.Namespace, Name: r.Name, Rules: []Rule{}}
	for _, h := range r.Spec.Hostnames {
		route.Hosts = append(route.Hosts, string(h))
	}
	for i, rule := range r.Spec.Rules {
		x := Rule{Retry: retry, AllowL5dRequestHeaders: b.o.AllowL5dRequestHeaders}
		for _, m := range rule.Matches {
			mm, err := httpMatchOf(m)
			if err != nil {
				return Route{}, fmt.Errorf("rules[%d]: %v", i, err)
			}
			x.Matches = append(x.Matches, mm)
		}
		for _, f := range rule.Filters {
			ff, err := httpFilterOf(r.Group, f)
			if err != nil {
				return Route{}, fmt.Errorf("rules[%d]: %v", i, err)
			}
			x.Filters = append(x.Filters, ff)
		}
		ruleReq := ""
		if rule.Timeouts != nil && rule.Timeouts.Request != nil {
			ruleReq = b.gatewayRequestTimeout(r.Group, string(*rule.Timeouts.Request))
		}
		var src *Sources
		x.Timeouts, src = b.ruleTimeouts(rt, ruleReq)
		if retry != nil {
			src.Retry = retrySrc
		}
		if *src != (Sources{}) {
			x.Sources = src
		}
		var refs []backendRef
		for _, br := range rule.BackendRefs {
			refs = append(refs, backendRef{br.BackendRef, len(br.Filters), filterTypes(br.Filters)})
		}
		x.Distribution, x.Backends = b.backends(r.Namespace, refs, def)
		route.Rules = append(route.Rules, x)
	}
	return route, nil
}

// gatewayRequestTimeout reads rules[].timeouts.request (§7.2 step 2): Go
// durations for policy.linkerd.io; the annotation grammar for Gateway
// routes, silently ignored when it does not parse or before 2.20. "0"
// means no timeout.
func (b *builder) gatewayRequestTimeout(group, v string) string {
	var d time.Duration
	var err error
	if group == GroupLinkerd {
		d, err = time.ParseDuration(v)
	} else {
		if b.o.IgnoreGatewayRuleTimeouts {
			return ""
		}
		d, err = ParseDuration(v)
	}
	if err != nil || d == 0 {
		return ""
	}
	return FormatDuration(d)
}

func filterTypes(fs []gatewayv1.HTTPRouteFilter) []string {
	var out []string
	for _, f := range fs {
		switch f.Type {
		case gatewayv1.HTTPRouteFilterRequestHeaderModifier, gatewayv1.HTTPRouteFilterResponseHeaderModifier, gatewayv1.HTTPRouteFilterRequestRedirect:
		default:
			out = append(out, string(f.Type))
		}
	}
	return out
}

type backendRef struct {
	gatewayv1.BackendRef
	filters     int
	unsupported []string // backend filter types the controller does not support
}

// backends applies §3.3.
func (b *builder) backends(routeNS string, refs []backendRef, def Backend) (string, []Backend) {
	if len(refs) == 0 {
		return "firstAvailable", []Backend{def}
	}
	var out []Backend
	for _, r := range refs {
		w := uint32(1)
		if r.Weight != nil {
			w = uint32(*r.Weight)
		}
		ns := routeNS
		if r.Namespace != nil && *r.Namespace != "" {
			ns = string(*r.Namespace)
		}
		group, kind := "", "Service"
		if r.Group != nil {
			group = string(*r.Group)
		}
		if r.Kind != nil {
			kind = string(*r.Kind)
		}
		name := string(r.Name)
		switch {
		case (group != "" && group != "core") || kind != "Service":
			out = append(out, Backend{Ref: Ref{Default: "invalid"}, Weight: w, Invalid: fmt.Sprintf("unsupported backend type %s %s", group, kind)})
		case r.Port == nil:
			out = append(out, Backend{Ref: Ref{Default: "invalid"}, Weight: w, Invalid: "missing port for backend Service " + name})
		case len(r.unsupported) > 0:
			out = append(out, Backend{Ref: Ref{Default: "invalid"}, Weight: w, Invalid: "unsupported backend filter: " + r.unsupported[0]})
		case !b.serviceExists(ns, name):
			out = append(out, Backend{Ref: Ref{Group: "core", Kind: "Service", Namespace: ns, Name: name, Port: uint32(*r.Port)}, Weight: w, Invalid: "Service not found " + name})
		default:
			be := b.serviceBackend(ns, name, uint32(*r.Port))
			be.Weight = w
			out = append(out, be)
		}
	}
	return "randomAvailable", out
}

func httpMatchOf(m gatewayv1.HTTPRouteMatch) (Match, error) {
	var x Match
	if m.Path != nil {
		typ, val := gatewayv1.PathMatchPathPrefix, "/"
		if m.Path.Type != nil {
			typ = *m.Path.Type
		}
		if m.Path.Value != nil {
			val = *m.Path.Value
		}
		switch typ {
		case gatewayv1.PathMatchExact, gatewayv1.PathMatchPathPrefix:
			if !strings.HasPrefix(val, "/") {
				return x, fmt.Errorf("path %q must start with /", val)
			}
			if typ == gatewayv1.PathMatchExact {
				x.Path = "exact:" + val
			} else {
				x.Path = "prefix:" + val
			}
		case gatewayv1.PathMatchRegularExpression:
			if err := rustregex.Check(val); err != nil {
				return x, fmt.Errorf("path regex %q: %v", val, err)
			}
			x.Path = "regex:" + val
		default:
			return x, fmt.Errorf("unknown path match type %q", typ)
		}
	}
	for _, h := range m.Headers {
		kind := "exact"
		if h.Type != nil && *h.Type == gatewayv1.HeaderMatchRegularExpression {
			kind = "regex"
		}
		vm, err := valueMatch(string(h.Name), kind, h.Value, true)
		if err != nil {
			return x, err
		}
		x.Headers = append(x.Headers, vm)
	}
	for _, q := range m.QueryParams {
		kind := "exact"
		if q.Type != nil && *q.Type == gatewayv1.QueryParamMatchRegularExpression {
			kind = "regex"
		}
		vm, err := valueMatch(string(q.Name), kind, q.Value, false)
		if err != nil {
			return x, err
		}
		x.QueryParams = append(x.QueryParams, vm)
	}
	if m.Method != nil {
		x.Method = string(*m.Method)
	}
	return x, nil
}

func valueMatch(name, kind, value string, header bool) (ValueMatch, error) {
	if header {
		if !validHeaderName(name) {
			return ValueMatch{}, fmt.Errorf("header name %q is not a valid HTTP header name", name)
		}
		name = strings.ToLower(name)
		if kind == "exact" && !validHeaderValue(value) {
			return ValueMatch{}, fmt.Errorf("header %s value %q is not a valid HTTP header value", name, value)
		}
	}
	if kind == "regex" {
		if err := rustregex.Check(value); err != nil {
			return ValueMatch{}, fmt.Errorf("regex %q for %s: %v", value, name, err)
		}
	}
	return ValueMatch{Name: name, Kind: kind, Value: value}, nil
}

// validHeaderName: an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// validHeaderValue: visible ASCII, space, tab and obs-text.
func validHeaderValue(s string) bool {
	for _, c := range []byte(s) {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func headerFilter(kind string, f *gatewayv1.HTTPHeaderFilter) Filter {
	x := Filter{Kind: kind}
	if f == nil {
		return x
	}
	for _, h := range f.Set {
		x.Set = append(x.Set, Header{Name: string(h.Name), Value: h.Value})
	}
	for _, h := range f.Add {
		x.Add = append(x.Add, Header{Name: string(h.Name), Value: h.Value})
	}
	x.Remove = f.Remove
	return x
}

func httpFilterOf(group string, f gatewayv1.HTTPRouteFilter) (Filter, error) {
	switch f.Type {
	case gatewayv1.HTTPRouteFilterRequestHeaderModifier:
		return headerFilter(FilterRequestHeaderModifier, f.RequestHeaderModifier), nil
	case gatewayv1.HTTPRouteFilterResponseHeaderModifier:
		if group == GroupLinkerd {
			// §6.3 (trap): encoded for the outbound proxy as a request modifier.
			return headerFilter(FilterRequestHeaderModifier, f.ResponseHeaderModifier), nil
		}
		return headerFilter(FilterResponseHeaderModifier, f.ResponseHeaderModifier), nil
	case gatewayv1.HTTPRouteFilterRequestRedirect:
		r := f.RequestRedirect
		if r == nil {
			return Filter{}, fmt.Errorf("RequestRedirect filter without requestRedirect")
		}
		x := Filter{Kind: FilterRedirect}
		if r.Scheme != nil {
			x.Scheme = strings.ToUpper(*r.Scheme)
		}
		if r.Hostname != nil {
			x.Host = string(*r.Hostname)
		}
		if r.Port != nil {
			x.Port = uint32(*r.Port)
		}
		if r.StatusCode != nil {
			x.Status = uint32(*r.StatusCode)
		}
		if p := r.Path; p != nil {
			switch {
			case p.ReplaceFullPath != nil:
				if !strings.HasPrefix(*p.ReplaceFullPath, "/") {
					return Filter{}, fmt.Errorf("redirect path %q is not absolute", *p.ReplaceFullPath)
				}
				x.RedirectPath = "full:" + *p.ReplaceFullPath
			case p.ReplacePrefixMatch != nil:
				if !strings.HasPrefix(*p.ReplacePrefixMatch, "/") {
					return Filter{}, fmt.Errorf("redirect prefix %q is not absolute", *p.ReplacePrefixMatch)
				}
				x.RedirectPath = "prefix:" + *p.ReplacePrefixMatch
			default:
				return Filter{}, fmt.Errorf("redirect path has neither replaceFullPath nor replacePrefixMatch")
			}
		}
		return x, nil
	}
	return Filter{}, fmt.Errorf("filter %s is not supported by Linkerd's outbound policy: the controller drops the whole route", f.Type)
}

func (b *builder) grpcRoute(r *GRPCRoute, svcRetry *Retry, def Backend) (Route, error) {
	ann := r.Annotations
	rt, err := timeoutsFrom(ann)
	if err != nil {
		return Route{}, err
	}
	retry, err := retryFrom(ann, AnnotationRetryGRPC)
	if err != nil {
		return Route{}, err
	}
	retrySrc := SourceRouteAnnotation
	if retry == nil {
		retry, retrySrc = svcRetry, SourceServiceAnnotation
	}
	route := Route{Group: GroupGateway, Kind: "GRPCRoute", Namespace: r.Namespace, Name: r.Name, Rules: []Rule{}}
	for _, h := range r.Spec.Hostnames {
		route.Hosts = append(route.Hosts, string(h))
	}
	for i, rule := range r.Spec.Rules {
		x := Rule{Retry: retry, AllowL5dRequestHeaders: b.o.AllowL5dRequestHeaders}
		for _, m := range rule.Matches {
			var mm Match
			if m.Method != nil {
				if m.Method.Type != nil && *m.Method.Type == gatewayv1.GRPCMethodMatchRegularExpression {
					return Route{}, fmt.Errorf("rules[%d]: RegularExpression method matches are not supported", i)
				}
				mm.RPC = &RPC{}
				if m.Method.Service != nil {
					mm.RPC.Service = *m.Method.Service
				}
				if m.Method.Method != nil {
					mm.RPC.Method = *m.Method.Method
				}
			}
			for _, h := range m.Headers {
				kind := "exact"
				if h.Type != nil && *h.Type == gatewayv1.GRPCHeaderMatchRegularExpression {
					kind = "regex"
				}
				vm, err := valueMatch(string(h.Name), kind, h.Value, true)
				if err != nil {
					return Route{}, fmt.Errorf("rules[%d]: %v", i, err)
				}
				mm.Headers = append(mm.Headers, vm)
			}
			x.Matches = append(x.Matches, mm)
		}
		for _, f := range rule.Filters {
			switch f.Type {
			case gatewayv1.GRPCRouteFilterRequestHeaderModifier:
				x.Filters = append(x.Filters, headerFilter(FilterRequestHeaderModifier, f.RequestHeaderModifier))
			case gatewayv1.GRPCRouteFilterResponseHeaderModifier:
				// §4 (trap): sent as a filter without kind; the proxy
				// rejects the whole policy.
				x.Filters = append(x.Filters, Filter{Kind: FilterUnknown})
			default:
				return Route{}, fmt.Errorf("rules[%d]: filter %s is not supported for GRPCRoute: the controller drops the whole route", i, f.Type)
			}
		}
		var src *Sources
		x.Timeouts, src = b.ruleTimeouts(rt, "")
		if retry != nil {
			src.Retry = retrySrc
		}
		if *src != (Sources{}) {
			x.Sources = src
		}
		var refs []backendRef
		for _, br := range rule.BackendRefs {
			var unsupported []string
			for _, f := range br.Filters {
				if f.Type != gatewayv1.GRPCRouteFilterRequestHeaderModifier {
					unsupported = append(unsupported, string(f.Type))
				}
			}
			refs = append(refs, backendRef{br.BackendRef, len(br.Filters), unsupported})
		}
		x.Distribution, x.Backends = b.backends(r.Namespace, refs, def)
		route.Rules = append(route.Rules, x)
	}
	return route, nil
}
