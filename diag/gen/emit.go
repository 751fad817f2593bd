package gen

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/template"
)

// Target names what the routes are for.
type Target struct {
	Service, Namespace, ClusterDomain string
	// Port is the Service port the Gateway routes attach to (0: all ports).
	Port int32
}

// Profile returns a ServiceProfile whose routes are eps, in that order
// (callers pass Order's result).
func Profile(t Target, eps []Endpoint) *profile.ServiceProfile {
	domain := t.ClusterDomain
	if domain == "" {
		domain = profile.DefaultClusterDomain
	}
	sp := &profile.ServiceProfile{
		TypeMeta:   metav1.TypeMeta{APIVersion: profile.Group + "/" + profile.StorageVersion, Kind: profile.Kind},
		ObjectMeta: metav1.ObjectMeta{Name: profile.FQDN(t.Service, t.Namespace, domain), Namespace: t.Namespace},
	}
	for _, ep := range eps {
		sp.Spec.Routes = append(sp.Spec.Routes, &profile.RouteSpec{
			Name:        ep.Name(),
			Condition:   &profile.RequestMatch{Method: ep.Method, PathRegex: Regex(ep.Path)},
			IsRetryable: ep.Retryable,
			Timeout:     ep.Timeout,
		})
	}
	return sp
}

// Annotations of retrying routes: the retry conditions a ServiceProfile
// route retries by default (its failure classes default to 5xx) and the
// per-request limit that replaces the retry budget.
var (
	HTTPRetryAnnotations = map[string]string{policy.AnnotationRetryHTTP: "5xx", policy.AnnotationRetryLimit: "1"}
	GRPCRetryAnnotations = map[string]string{policy.AnnotationRetryGRPC: "cancelled,deadline-exceeded,internal,resource-exhausted,unavailable", policy.AnnotationRetryLimit: "1"}
)

// RetrySuffix names the route that holds the retrying rules.
const RetrySuffix = "-retryable"

// Placed says where each endpoint went: route name and rule index.
type Placed struct {
	Route string
	Rule  int
}

// HTTPRoutes returns Gateway API HTTPRoutes for eps (in Order's order):
// literal paths as Exact matches, templates as RegularExpression matches,
// x-linkerd-timeout as the route annotation timeout.linkerd.io/request
// (Linkerd 2.16+) or, with ruleTimeouts, as rules[].timeouts.request
// (honoured since Linkerd 2.20), and retryable endpoints in routes carrying
// the retry annotations (retries are per route in Linkerd).
//
// Where two rules tie in the proxy's precedence (an Exact match and a
// RegularExpression on the same path, or two regexes), the earlier rule of
// a route wins, and across routes the route created first, then by name.
// So rules keep the order of eps: when all share their annotations they
// form one route named after the Service; otherwise each run of consecutive
// rules with the same annotations is a route <svc>-NN[-retryable], NN
// counting runs, so that the controller's name order is the order of eps.
//
// With catchAll, a last rule (PathPrefix /, no retry, no timeout) keeps the
// requests the spec does not list routed as the default route routes them;
// without it the proxy answers them 404 itself. Placed has one entry per
// endpoint (the catch-all's is not returned).
func HTTPRoutes(t Target, eps []Endpoint, ruleTimeouts, catchAll bool) ([]*gatewayv1.HTTPRoute, []Placed, error) {
	rules := make([]gatewayv1.HTTPRouteRule, len(eps))
	classes := make([]Class, len(eps))
	for i, ep := range eps {
		m := gatewayv1.HTTPRouteMatch{}
		if ep.Literal() && ExactPathOK(ep.Path) {
			m.Path = &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchExact), Value: ptr(ep.Path)}
		} else {
			m.Path = &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchRegularExpression), Value: ptr(Regex(ep.Path))}
		}
		if ep.Method != "" {
			if !template.GatewayMethod(ep.Method) {
				return nil, nil, fmt.Errorf("%s: an HTTPRoute cannot match method %s (the Gateway API allows GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE and PATCH): generate a ServiceProfile (--kind serviceprofile), which can", ep.Name(), ep.Method)
			}
			m.Method = ptr(gatewayv1.HTTPMethod(ep.Method))
		}
		rules[i] = gatewayv1.HTTPRouteRule{Matches: []gatewayv1.HTTPRouteMatch{m}}
		if ep.Timeout != "" {
			d, err := GatewayDuration(ep.Timeout)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %v", ep.Name(), err)
			}
			if ruleTimeouts {
				rules[i].Timeouts = &gatewayv1.HTTPRouteTimeouts{Request: ptr(gatewayv1.Duration(d))}
			} else {
				classes[i].Timeout = d
			}
		}
		if ep.Retryable {
			classes[i].Retry = HTTPRetryAnnotations[policy.AnnotationRetryHTTP]
		}
	}
	if catchAll {
		rules = append(rules, gatewayv1.HTTPRouteRule{Matches: []gatewayv1.HTTPRouteMatch{{
			Path: &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchPathPrefix), Value: ptr("/")}}}})
		classes = append(classes, Class{})
	}
	rs, placed := RunRoutes(t, rules, classes)
	return rs, placed[:len(eps)], nil
}

// Class is what a route's annotations carry for all its rules.
type Class struct {
	// Retry is the retry.linkerd.io/http value ("" for no retries).
	Retry string
	// Timeout is the timeout.linkerd.io/request value ("" for none).
	Timeout string
}

// Annotations are the route annotations of the class.
func (c Class) Annotations() map[string]string {
	ann := map[string]string{}
	if c.Retry != "" {
		ann[policy.AnnotationRetryHTTP] = c.Retry
		ann[policy.AnnotationRetryLimit] = HTTPRetryAnnotations[policy.AnnotationRetryLimit]
	}
	if c.Timeout != "" {
		ann[policy.AnnotationTimeoutRequest] = c.Timeout
	}
	if len(ann) == 0 {
		return nil
	}
	return ann
}

// RunRoutes splits rules (in precedence order) into HTTPRoutes by their
// class (see HTTPRoutes): one route named after the Service when all share a
// class, else one route per run of consecutive rules of the same class,
// named <svc>-NN (plus -retryable for retrying classes).
func RunRoutes(t Target, rules []gatewayv1.HTTPRouteRule, class []Class) ([]*gatewayv1.HTTPRoute, []Placed) {
	// A new route starts where the class changes, or where the Gateway API
	// schema's limits would be passed (16 rules, 128 matches per route).
	starts := map[int]bool{}
	n, matches := 0, 0
	for i, r := range rules {
		if i == 0 || class[i] != class[i-1] || n == MaxRules || matches+len(r.Matches) > MaxMatches {
			starts[i] = true
			n, matches = 0, 0
		}
		n++
		matches += len(r.Matches)
	}
	width := len(fmt.Sprint(len(starts)))
	if width < 2 {
		width = 2
	}
	var out []*gatewayv1.HTTPRoute
	placed := make([]Placed, len(rules))
	var cur *gatewayv1.HTTPRoute
	for i, rule := range rules {
		if starts[i] {
			name := t.Service
			if len(starts) > 1 {
				name = fmt.Sprintf("%s-%0*d", t.Service, width, len(out)+1)
				if class[i].Retry != "" {
					name += RetrySuffix
				}
			}
			cur = newHTTPRoute(t, name, class[i].Annotations())
			out = append(out, cur)
		}
		cur.Spec.Rules = append(cur.Spec.Rules, rule)
		placed[i] = Placed{cur.Name, len(cur.Spec.Rules) - 1}
	}
	return out, placed
}

// Limits of the Gateway API schema (v1) for one route.
const (
	MaxRules   = 16
	MaxMatches = 128
)

var exactPathChars = regexp.MustCompile(`^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$`)

// ExactPathOK tells whether the Gateway API schema accepts p as the value of
// an Exact or PathPrefix path match (otherwise a literal path must be written
// as a RegularExpression, which the proxy ranks the same: by the whole path).
func ExactPathOK(p string) bool {
	if !strings.HasPrefix(p, "/") || len(p) > 1024 || !exactPathChars.MatchString(p) {
		return false
	}
	for _, bad := range []string{"//", "/./", "/../", "%2f", "%2F", "#"} {
		if strings.Contains(p, bad) {
			return false
		}
	}
	return !strings.HasSuffix(p, "/..") && !strings.HasSuffix(p, "/.")
}

func newHTTPRoute(t Target, name string, ann map[string]string) *gatewayv1.HTTPRoute {
	return &gatewayv1.HTTPRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "HTTPRoute"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: t.Namespace, Annotations: copyMap(ann)},
		Spec:       gatewayv1.HTTPRouteSpec{CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{parentRef(t)}}},
	}
}

// GRPCRoutes returns GRPCRoutes for gRPC endpoints: one rule per method
// (Exact service and method). Timeouts and retries are route annotations
// for GRPCRoutes, so endpoints are grouped by them (see GRPCClassRoutes).
func GRPCRoutes(t Target, eps []Endpoint) ([]*gatewayv1.GRPCRoute, []Placed, error) {
	rules := make([]gatewayv1.GRPCRouteRule, len(eps))
	classes := make([]Class, len(eps))
	for i, ep := range eps {
		if ep.Service == "" || ep.RPC == "" {
			return nil, nil, fmt.Errorf("%s is not a gRPC method: GRPCRoutes need --proto", ep.Name())
		}
		if ep.Retryable {
			classes[i].Retry = GRPCRetryAnnotations[policy.AnnotationRetryGRPC]
		}
		if ep.Timeout != "" {
			d, err := GatewayDuration(ep.Timeout)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %v", ep.Name(), err)
			}
			classes[i].Timeout = d
		}
		rules[i] = gatewayv1.GRPCRouteRule{Matches: []gatewayv1.GRPCRouteMatch{{
			Method: &gatewayv1.GRPCMethodMatch{Type: ptr(gatewayv1.GRPCMethodMatchExact), Service: ptr(ep.Service), Method: ptr(ep.RPC)},
		}}}
	}
	rs, placed := GRPCClassRoutes(t, rules, classes)
	return rs, placed, nil
}

// GRPCClassRoutes groups GRPCRoute rules into routes by class (Retry holds
// the retry.linkerd.io/grpc value), at most MaxRules rules and MaxMatches
// matches per route. Exact service and method matches of different rules
// never tie in the proxy's precedence, so the grouping changes no match.
// Routes are named after the Service when one suffices, else
// <svc>-NN[-retryable].
func GRPCClassRoutes(t Target, rules []gatewayv1.GRPCRouteRule, classes []Class) ([]*gatewayv1.GRPCRoute, []Placed) {
	type open struct {
		r            *gatewayv1.GRPCRoute
		idx, matches int
	}
	cur := map[Class]*open{}
	var out []*gatewayv1.GRPCRoute
	var outClass []Class
	type at struct{ route, rule int }
	where := make([]at, len(rules))
	for i, rule := range rules {
		c := classes[i]
		o := cur[c]
		if o == nil || len(o.r.Spec.Rules) == MaxRules || o.matches+len(rule.Matches) > MaxMatches {
			o = &open{r: &gatewayv1.GRPCRoute{
				TypeMeta: metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "GRPCRoute"},
				Spec:     gatewayv1.GRPCRouteSpec{CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{parentRef(t)}}},
			}, idx: len(out)}
			cur[c] = o
			out = append(out, o.r)
			outClass = append(outClass, c)
		}
		o.r.Spec.Rules = append(o.r.Spec.Rules, rule)
		o.matches += len(rule.Matches)
		where[i] = at{o.idx, len(o.r.Spec.Rules) - 1}
	}
	width := len(fmt.Sprint(len(out)))
	if width < 2 {
		width = 2
	}
	for k, r := range out {
		c := outClass[k]
		r.Name, r.Namespace = t.Service, t.Namespace
		if len(out) > 1 {
			r.Name = fmt.Sprintf("%s-%0*d", t.Service, width, k+1)
			if c.Retry != "" {
				r.Name += RetrySuffix
			}
		}
		ann := map[string]string{}
		if c.Retry != "" {
			ann[policy.AnnotationRetryGRPC] = c.Retry
			ann[policy.AnnotationRetryLimit] = GRPCRetryAnnotations[policy.AnnotationRetryLimit]
		}
		if c.Timeout != "" {
			ann[policy.AnnotationTimeoutRequest] = c.Timeout
		}
		if len(ann) > 0 {
			r.Annotations = ann
		}
	}
	placed := make([]Placed, len(rules))
	for i, w := range where {
		placed[i] = Placed{out[w.route].Name, w.rule}
	}
	return out, placed
}

// parentRef attaches a route to the Service the way Linkerd's controller
// requires: kind Service, group core (§6.1).
func parentRef(t Target) gatewayv1.ParentReference {
	ref := gatewayv1.ParentReference{
		Group: ptr(gatewayv1.Group("core")),
		Kind:  ptr(gatewayv1.Kind("Service")),
		Name:  gatewayv1.ObjectName(t.Service),
	}
	if t.Port != 0 {
		ref.Port = ptr(gatewayv1.PortNumber(t.Port))
	}
	return ref
}

// GatewayDuration writes a Go duration in the only form Linkerd's
// controller parses for annotations and Gateway rule timeouts: one integer
// and one unit (ms, s, m, h), at most 5 digits as the Gateway API schema
// requires. Sub-millisecond parts cannot be written.
func GatewayDuration(goDuration string) (string, error) {
	d, err := time.ParseDuration(goDuration)
	if err != nil || d < 0 {
		return "", fmt.Errorf("timeout %q is not a non-negative Go duration", goDuration)
	}
	if d%time.Millisecond != 0 {
		return "", fmt.Errorf("timeout %q has a sub-millisecond part, which Linkerd's route timeouts cannot express", goDuration)
	}
	s, unit := "0", "s"
	for _, u := range []struct {
		d    time.Duration
		unit string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if d != 0 && d%u.d == 0 {
			s, unit = fmt.Sprint(int64(d/u.d)), u.unit
			break
		}
	}
	if len(s) > 5 {
		return "", fmt.Errorf("timeout %q needs %s%s, more than the 5 digits the Gateway API schema allows", goDuration, s, unit)
	}
	s += unit
	if _, err := policy.ParseDuration(s); err != nil {
		return "", fmt.Errorf("timeout %q: %v", goDuration, err)
	}
	return s, nil
}

// Object turns a typed object into the JSON object kubectl would send:
// without status and without a null creationTimestamp.
func Object(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		if md["creationTimestamp"] == nil {
			delete(md, "creationTimestamp")
		}
	}
	return m, nil
}

func ptr[T any](v T) *T { return &v }

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
