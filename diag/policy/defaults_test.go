package policy

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// A route from a file gets the CRD's defaults, as the API server would
// give it: no rules, or a rule without matches, matches every request.
func TestDecodeHTTPRouteAppliesCRDDefaults(t *testing.T) {
	for name, spec := range map[string]map[string]interface{}{
		"no rules":        {},
		"rule no matches": {"rules": []interface{}{map[string]interface{}{}}},
		"match no path":   {"rules": []interface{}{map[string]interface{}{"matches": []interface{}{map[string]interface{}{"method": "GET"}}}}},
	} {
		spec["parentRefs"] = []interface{}{map[string]interface{}{"group": "core", "kind": "Service", "name": "web"}}
		u := &unstructured.Unstructured{Object: map[string]interface{}{
			"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
			"metadata": map[string]interface{}{"name": "r", "namespace": "ns"}, "spec": spec,
		}}
		r, err := DecodeHTTPRoute(u)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rules := r.Spec.Rules
		if len(rules) != 1 || len(rules[0].Matches) != 1 {
			t.Fatalf("%s: rules %+v", name, rules)
		}
		p := rules[0].Matches[0].Path
		if p == nil || p.Type == nil || *p.Type != gatewayv1.PathMatchPathPrefix || p.Value == nil || *p.Value != "/" {
			t.Errorf("%s: path %+v, want PathPrefix /", name, p)
		}
	}
}
