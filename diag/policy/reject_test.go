package policy

import (
	"strings"
	"testing"
)

// Reference §4: the two controller outputs the proxy cannot convert.
func TestProxyRejects(t *testing.T) {
	headersOnly := strings.Replace(grpcRoute("shop", "g", "2026-01-01T00:00:00Z"), "- method: {service: shop.Cart, method: Add}", "- headers: [{name: x, value: v1}]", 1)
	respMod := strings.Replace(grpcRoute("shop", "g", "2026-01-01T00:00:00Z"), "\nstatus:", "\n    filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {set: [{name: a, value: b}]}}]\nstatus:", 1)
	reqMod := strings.Replace(respMod, "ResponseHeaderModifier, responseHeaderModifier", "RequestHeaderModifier, requestHeaderModifier", 1)
	cases := []struct {
		name, fixture, want string
	}{
		{"GRPCRoute match without method", headersOnly, "missing RPC match"},
		{"GRPCRoute ResponseHeaderModifier", respMod, "filter without kind"},
		{"near miss: GRPCRoute with method", grpcRoute("shop", "g", "2026-01-01T00:00:00Z"), ""},
		{"near miss: GRPCRoute RequestHeaderModifier", reqMod, ""},
		{"near miss: HTTPRoute match without path", webSvc + "---" + strings.Replace(httpRoute("shop", "r", "2026-01-01T00:00:00Z", ""), "- path: {type: PathPrefix, value: /r}", "- headers: [{name: x, value: v1}]", 1), ""},
	}
	for _, c := range cases {
		fixture := c.fixture
		if !strings.Contains(fixture, "kind: Service\nmetadata") {
			fixture = webSvc + "---" + fixture
		}
		got := ProxyRejects(expectFor(t, parse(t, fixture), "shop", 80).Policy)
		if c.want == "" && len(got) != 0 || c.want != "" && (len(got) != 1 || !strings.Contains(got[0], c.want)) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if ProxyRejects(nil) != nil {
		t.Error("nil policy")
	}
}
