package template

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Parent is the Service port a proposed route attaches to.
type Parent struct {
	Service, Namespace string
	Port               uint32
}

// parentRef names p the way Linkerd reads a Service parent: group core,
// kind Service (a parentRef without kind means Gateway and is skipped) and
// the port, so the route applies to that port only.
func (p Parent) parentRef() gatewayv1.ParentReference {
	group, kind := gatewayv1.Group("core"), gatewayv1.Kind("Service")
	port := gatewayv1.PortNumber(p.Port)
	return gatewayv1.ParentReference{Group: &group, Kind: &kind, Name: gatewayv1.ObjectName(p.Service), Port: &port}
}

// HTTPPathMatch is the path match of a template: Exact for a template
// without placeholders, else a RegularExpression (PathRegex, which the
// proxy's Rust regex reads as Go does; it must match the whole path).
func HTTPPathMatch(template string) gatewayv1.HTTPPathMatch {
	if !strings.Contains(template, "{") && exactOK(template) {
		t, v := gatewayv1.PathMatchExact, template
		return gatewayv1.HTTPPathMatch{Type: &t, Value: &v}
	}
	t, v := gatewayv1.PathMatchRegularExpression, PathRegex(template)
	return gatewayv1.HTTPPathMatch{Type: &t, Value: &v}
}

// exactOK tells a path the Gateway API CRD accepts as an Exact value
// (its pattern: unreserved and sub-delims characters, ':', '@', '/' and
// %XX escapes); other paths are matched by a quoted RegularExpression.
func exactOK(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-/._~!$&'()*+,;=:@", c) >= 0:
		case c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// gatewayMethods are the methods the Gateway API's HTTPMethod enum allows.
var gatewayMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true,
	"CONNECT": true, "OPTIONS": true, "TRACE": true, "PATCH": true}

// GatewayMethod reports whether an HTTPRoute can match method m: the Gateway
// API's HTTPMethod enum allows it (the API server rejects any other).
func GatewayMethod(m string) bool { return gatewayMethods[m] }

// HTTPRouteFor returns a gateway.networking.k8s.io/v1 HTTPRoute named name
// attached to p with one rule per proposed group (in Routes' order), each
// matching the group's method (when the Gateway API can name it; else any
// method) and HTTPPathMatch(template), with no backendRefs (the parent
// Service, as for its other requests). Groups whose template is not a path
// ("*") get no rule.
func HTTPRouteFor(p Parent, name string, groups []Group) *gatewayv1.HTTPRoute {
	r := &gatewayv1.HTTPRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "HTTPRoute"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: p.Namespace},
	}
	r.Spec.ParentRefs = []gatewayv1.ParentReference{p.parentRef()}
	for _, e := range ordered(groups) {
		if !strings.HasPrefix(e.template, "/") {
			continue
		}
		m := gatewayv1.HTTPRouteMatch{}
		pm := HTTPPathMatch(e.template)
		m.Path = &pm
		if gatewayMethods[e.method] {
			method := gatewayv1.HTTPMethod(e.method)
			m.Method = &method
		}
		r.Spec.Rules = append(r.Spec.Rules, gatewayv1.HTTPRouteRule{Matches: []gatewayv1.HTTPRouteMatch{m}})
	}
	return r
}

// GRPCMethod reads a gRPC path template "/<service>/<method>" without
// placeholders; ok is false for anything else.
func GRPCMethod(template string) (service, method string, ok bool) {
	if strings.Contains(template, "{") || !strings.HasPrefix(template, "/") {
		return "", "", false
	}
	service, method, ok = strings.Cut(template[1:], "/")
	if !ok || service == "" || method == "" || strings.Contains(method, "/") {
		return "", "", false
	}
	return service, method, true
}

// GRPCRouteFor returns a gateway.networking.k8s.io/v1 GRPCRoute named name
// attached to p with one rule per POST group whose template is a gRPC
// method (GRPCMethod), matching that service and method exactly. The
// groups it cannot express are returned.
func GRPCRouteFor(p Parent, name string, groups []Group) (*gatewayv1.GRPCRoute, []Group) {
	r := &gatewayv1.GRPCRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "GRPCRoute"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: p.Namespace},
	}
	r.Spec.ParentRefs = []gatewayv1.ParentReference{p.parentRef()}
	var left []Group
	seen := map[string]bool{}
	for _, g := range groups {
		svc, method, ok := GRPCMethod(g.Template)
		if !proposed(g) || g.Method != "POST" || !ok {
			left = append(left, g)
			continue
		}
		if seen[g.Template] {
			continue
		}
		seen[g.Template] = true
		t := gatewayv1.GRPCMethodMatchExact
		r.Spec.Rules = append(r.Spec.Rules, gatewayv1.GRPCRouteRule{Matches: []gatewayv1.GRPCRouteMatch{{
			Method: &gatewayv1.GRPCMethodMatch{Type: &t, Service: &svc, Method: &method}}}})
	}
	return r, left
}
