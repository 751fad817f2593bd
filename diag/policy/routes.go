package policy

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Route API groups.
const (
	GroupGateway = "gateway.networking.k8s.io"
	GroupLinkerd = "policy.linkerd.io"
)

// HTTPRoute is an HTTPRoute of either group. Linkerd's policy.linkerd.io
// HTTPRoute (v1beta1..v1beta3) has the shape of Gateway API v1 HTTPRoute
// and is decoded into the same type; what differs is what the controller
// does with it:
//   - filters: only RequestHeaderModifier, ResponseHeaderModifier (which the
//     outbound side encodes as a request modifier, §6.3) and
//     RequestRedirect exist; anything else makes the route unusable;
//   - rules[].timeouts are Go time.ParseDuration values and always honoured
//     (Gateway's use the annotation grammar, honoured from 2.20, §7.2);
//   - no rules[].retry, sessionPersistence or rule names (ignored anyway).
type HTTPRoute struct {
	Group string // GroupGateway or GroupLinkerd
	*gatewayv1.HTTPRoute
}

// GRPCRoute is a gateway.networking.k8s.io GRPCRoute.
type GRPCRoute = gatewayv1.GRPCRoute

// DecodeHTTPRoute decodes an HTTPRoute object of either group (the group
// is read from its apiVersion).
func DecodeHTTPRoute(u *unstructured.Unstructured) (HTTPRoute, error) {
	group := u.GroupVersionKind().Group
	if group != GroupGateway && group != GroupLinkerd {
		return HTTPRoute{}, fmt.Errorf("%s is not an HTTPRoute group Linkerd reads", u.GetAPIVersion())
	}
	var r gatewayv1.HTTPRoute
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &r); err != nil {
		return HTTPRoute{}, fmt.Errorf("HTTPRoute %s/%s (%s) does not decode: %v", u.GetNamespace(), u.GetName(), u.GetAPIVersion(), err)
	}
	defaultHTTPRoute(&r)
	return HTTPRoute{Group: group, HTTPRoute: &r}, nil
}

// defaultHTTPRoute applies the CRD's defaults, as the API server does on
// create: a route without rules, a rule without matches and a match
// without a path match every request (PathPrefix "/"); header and query
// matches are Exact. Objects read from the cluster already have them;
// files do not.
func defaultHTTPRoute(r *gatewayv1.HTTPRoute) {
	everything := func() gatewayv1.HTTPRouteMatch {
		t, v := gatewayv1.PathMatchPathPrefix, "/"
		return gatewayv1.HTTPRouteMatch{Path: &gatewayv1.HTTPPathMatch{Type: &t, Value: &v}}
	}
	if r.Spec.Rules == nil {
		r.Spec.Rules = []gatewayv1.HTTPRouteRule{{}}
	}
	for i := range r.Spec.Rules {
		rule := &r.Spec.Rules[i]
		if rule.Matches == nil {
			rule.Matches = []gatewayv1.HTTPRouteMatch{everything()}
		}
		for j := range rule.Matches {
			m := &rule.Matches[j]
			if m.Path == nil {
				m.Path = everything().Path
			}
			if m.Path.Type == nil {
				t := gatewayv1.PathMatchPathPrefix
				m.Path.Type = &t
			}
			if m.Path.Value == nil {
				v := "/"
				m.Path.Value = &v
			}
			for k := range m.Headers {
				if m.Headers[k].Type == nil {
					t := gatewayv1.HeaderMatchExact
					m.Headers[k].Type = &t
				}
			}
			for k := range m.QueryParams {
				if m.QueryParams[k].Type == nil {
					t := gatewayv1.QueryParamMatchExact
					m.QueryParams[k].Type = &t
				}
			}
		}
	}
}

// DecodeGRPCRoute decodes a gateway.networking.k8s.io GRPCRoute.
func DecodeGRPCRoute(u *unstructured.Unstructured) (*GRPCRoute, error) {
	var r gatewayv1.GRPCRoute
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &r); err != nil {
		return nil, fmt.Errorf("GRPCRoute %s/%s (%s) does not decode: %v", u.GetNamespace(), u.GetName(), u.GetAPIVersion(), err)
	}
	return &r, nil
}
