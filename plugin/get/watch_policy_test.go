package get

import (
	"bytes"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/fake"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/report"
)

func polRoute(ns, name, timeout string) dpolicy.Route {
	return dpolicy.Route{Kind: "HTTPRoute", Group: dpolicy.GroupGateway, Namespace: ns, Name: name, Rules: []dpolicy.Rule{{Timeouts: dpolicy.Timeouts{Request: timeout}, Distribution: "firstAvailable"}}}
}

func TestDescribePolicyChanges(t *testing.T) {
	def := dpolicy.Route{Default: "http", Rules: []dpolicy.Rule{{Distribution: "firstAvailable"}}}
	pol := func(rs ...dpolicy.Route) *dpolicy.Policy {
		return &dpolicy.Policy{Protocol: dpolicy.Detect, Routes: rs}
	}
	cases := []struct {
		name      string
		prev, cur *dpolicy.Policy
		want      string
	}{
		{"route replaces the default", pol(def), pol(polRoute("b", "r", "1s")), "default route http removed; HTTPRoute b/r added"},
		{"rule timeout", pol(polRoute("b", "r", "1s")), pol(polRoute("b", "r", "2s")), "HTTPRoute b/r rule 0 timeouts.request 1s -> 2s"},
		{"route deleted", pol(polRoute("b", "r", "2s")), pol(def), "HTTPRoute b/r removed; default route http added"},
		{"order", pol(polRoute("b", "a", ""), polRoute("b", "z", "")), pol(polRoute("b", "z", ""), polRoute("b", "a", "")), "route order HTTPRoute b/a, HTTPRoute b/z -> HTTPRoute b/z, HTTPRoute b/a"},
		{"protocol", pol(def), &dpolicy.Policy{Protocol: dpolicy.Opaque, Routes: []dpolicy.Route{def}}, "protocol detect -> opaque"},
		{"same", pol(def), pol(def), "same content"},
		{"nothing before", nil, pol(def), "policy (none) -> detect, 1 route(s)"},
	}
	for _, c := range cases {
		if got := strings.Join(describePolicyChanges(c.prev, c.cur), "; "); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestNamesService(t *testing.T) {
	route := func(refs ...interface{}) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]interface{}{"spec": map[string]interface{}{"parentRefs": refs}}}
		u.SetNamespace("client")
		return u
	}
	ref := func(kv ...string) map[string]interface{} {
		m := map[string]interface{}{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		u    *unstructured.Unstructured
		want bool
	}{
		{route(ref("kind", "Service", "group", "core", "name", "web", "namespace", "shop")), true},
		{route(ref("kind", "Service", "name", "web", "namespace", "shop")), true},
		{route(ref("kind", "Service", "name", "web")), false}, // the route's namespace: client/web
		{route(ref("kind", "Gateway", "name", "web", "namespace", "shop")), false},
		{route(ref("kind", "Service", "name", "other", "namespace", "shop"), ref("kind", "Service", "name", "web", "namespace", "shop")), true},
		{route(), false},
	}
	for i, c := range cases {
		if got := namesService(c.u, "shop", "web"); got != c.want {
			t.Errorf("case %d: %v, want %v", i, got, c.want)
		}
	}
}

// A route kind that is not installed is one warning line, not an error;
// Gateway kinds are watched at v1, Linkerd's at the preferred version.
func TestRouteKindsMissingCRDs(t *testing.T) {
	cs := fake.NewSimpleClientset()
	cs.Resources = []*metav1.APIResourceList{
		{GroupVersion: "gateway.networking.k8s.io/v1", APIResources: []metav1.APIResource{{Name: "httproutes"}}},
	}
	var out bytes.Buffer
	w := &watcher{kube: cs, out: &out, now: time.Now, reports: []report.Report{{}}}
	w.reports[0].Service.Namespace, w.reports[0].Service.Name = "shop", "web"
	kinds := w.routeKinds()
	if len(kinds) != 1 || kinds[0].String() != "gateway.networking.k8s.io/v1, Resource=httproutes" {
		t.Errorf("kinds %v, want the Gateway HTTPRoutes only", kinds)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "warning: httproutes.policy.linkerd.io is not installed: such routes are not watched") ||
		!strings.Contains(lines[1], "warning: grpcroutes.gateway.networking.k8s.io is not installed") {
		t.Errorf("want one warning line per missing kind, got:\n%s", out.String())
	}
}
