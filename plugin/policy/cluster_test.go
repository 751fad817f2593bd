package policy

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
)

func route(apiVersion, ns, name string, spec map[string]interface{}) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": apiVersion, "kind": "HTTPRoute",
		"metadata": map[string]interface{}{"namespace": ns, "name": name},
		"spec":     spec,
	}}
}

// Gateway routes without v1 and GRPCRoutes not installed are notes, not
// errors; an undecodable route is skipped with a note.
func TestReadClusterNotes(t *testing.T) {
	cs := fake.NewSimpleClientset(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}})
	cs.Discovery().(*fakediscovery.FakeDiscovery).Resources = []*metav1.APIResourceList{
		{GroupVersion: "policy.linkerd.io/v1beta3", APIResources: []metav1.APIResource{{Name: "httproutes", Namespaced: true, Kind: "HTTPRoute"}}},
		{GroupVersion: "gateway.networking.k8s.io/v1beta1", APIResources: []metav1.APIResource{{Name: "httproutes", Namespaced: true, Kind: "HTTPRoute"}}},
	}
	lk := schema.GroupVersionResource{Group: "policy.linkerd.io", Version: "v1beta3", Resource: "httproutes"}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{lk: "HTTPRouteList"},
		route("policy.linkerd.io/v1beta3", "shop", "good", map[string]interface{}{"parentRefs": []interface{}{map[string]interface{}{"name": "web", "kind": "Service"}}}),
		route("policy.linkerd.io/v1beta3", "shop", "bad", map[string]interface{}{"rules": "not a list"}),
	)
	c, notes, err := ReadCluster(context.Background(), cs, cs.Discovery(), dyn, []string{"shop"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Services) != 1 || len(c.HTTPRoutes) != 1 || c.HTTPRoutes[0].Name != "good" || c.HTTPRoutes[0].Group != "policy.linkerd.io" {
		t.Errorf("cluster %+v", c)
	}
	all := strings.Join(notes, "\n")
	for _, want := range []string{
		"grpcroutes.gateway.networking.k8s.io is not installed",
		"httproutes.gateway.networking.k8s.io is installed without v1 (only v1beta1)",
		"HTTPRoute shop/bad (policy.linkerd.io/v1beta3) does not decode",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
	if len(notes) != 3 {
		t.Errorf("notes %q", notes)
	}
}
