package kube

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/analyze"
)

func pod(name, owner string, phase corev1.PodPhase) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "linkerd"}, Status: corev1.PodStatus{Phase: phase}}
	if owner != "" {
		p.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: owner}}
	}
	return p
}

func replicaSet(name, deployment string) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "linkerd"}}
	if deployment != "" {
		rs.OwnerReferences = []metav1.OwnerReference{{Kind: "Deployment", Name: deployment}}
	}
	return rs
}

func TestFindDestinationPod(t *testing.T) {
	tests := []struct {
		name    string
		pods    []*corev1.Pod
		want    string
		wantErr string
	}{
		{"running destination", []*corev1.Pod{
			pod("linkerd-identity-1", "linkerd-identity-6f7d", corev1.PodRunning),
			pod("linkerd-destination-a", "linkerd-destination-5c8f9", corev1.PodPending),
			pod("linkerd-destination-b", "linkerd-destination-5c8f9", corev1.PodRunning),
		}, "linkerd-destination-b", ""},
		// A ReplicaSet of another Deployment whose name starts the same way.
		{"similar deployment name", []*corev1.Pod{pod("x", "linkerd-destination-canary-5c8f9", corev1.PodRunning)}, "", "no linkerd-destination pod"},
		{"none running", []*corev1.Pod{pod("d", "linkerd-destination-5c8f9", corev1.PodPending)}, "", "none running"},
		{"no linkerd", nil, "", "is Linkerd installed?"},
		{"orphan ReplicaSet with the right name", []*corev1.Pod{pod("o", "linkerd-destination-0rphan", corev1.PodRunning)}, "", "no linkerd-destination pod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewSimpleClientset(
				replicaSet("linkerd-destination-5c8f9", "linkerd-destination"),
				replicaSet("linkerd-identity-6f7d", "linkerd-identity"),
				replicaSet("linkerd-destination-0rphan", ""), // no Deployment owns it
			)
			for _, p := range tt.pods {
				_, _ = cs.CoreV1().Pods("linkerd").Create(context.Background(), p, metav1.CreateOptions{})
			}
			got, err := FindDestinationPod(context.Background(), cs, "linkerd")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Name != tt.want {
				t.Fatalf("got %v, %v", got, err)
			}
		})
	}
}

func TestFindDestinationPodForbidden(t *testing.T) {
	cs := fake.NewSimpleClientset()
	cs.PrependReactor("list", "pods", func(clienttesting.Action) (bool, k8sruntime.Object, error) {
		return true, nil, kerrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New(`User "alice" cannot list resource "pods"`))
	})
	_, err := FindDestinationPod(context.Background(), cs, "linkerd")
	if err == nil || !strings.HasPrefix(err.Error(), "forbidden: cannot list pods in namespace linkerd") || !strings.Contains(err.Error(), `User "alice"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestAttachedHTTPRoutes(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]interface{}{
		"metadata": map[string]interface{}{"name": "r", "namespace": "books"},
		"spec": map[string]interface{}{"parentRefs": []interface{}{
			map[string]interface{}{"kind": "Service", "group": "core", "name": "webapp", "port": int64(7000)},
			map[string]interface{}{"kind": "Service", "name": "webapp", "namespace": "other"},                 // another namespace's webapp
			map[string]interface{}{"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "webapp"}, // not a Service
			map[string]interface{}{"kind": "Service", "group": "", "name": "webapp"},                          // every port
		}},
	}}
	parents := ServiceParents(u, "policy.linkerd.io")
	got := parents[analyze.NamespacedName{Namespace: "books", Name: "webapp"}]
	if len(got) != 2 || got[0].Port != 7000 || got[1].Port != 0 || got[0].Name != "r" || got[0].Group != "policy.linkerd.io" {
		t.Fatalf("books/webapp parents = %+v", got)
	}
	if other := parents[analyze.NamespacedName{Namespace: "other", Name: "webapp"}]; len(other) != 1 {
		t.Errorf("other/webapp parents = %+v", other)
	}
	if len(parents) != 2 {
		t.Errorf("a Gateway parent was taken for a Service: %+v", parents)
	}
}

func TestCheckServiceProfileCRD(t *testing.T) {
	dc := &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{}}
	if err := CheckServiceProfileCRD(dc); !errors.Is(err, ErrNoServiceProfileCRD) {
		t.Fatalf("no linkerd.io group: err = %v", err)
	}
	dc.Resources = []*metav1.APIResourceList{{GroupVersion: "linkerd.io/v1alpha2", APIResources: []metav1.APIResource{{Name: "serviceprofiles"}}}}
	if err := CheckServiceProfileCRD(dc); err != nil {
		t.Fatalf("CRD present: err = %v", err)
	}
}

// Without permission to read ReplicaSets, the ReplicaSet's name is taken as
// evidence enough rather than failing.
func TestFindDestinationPodWithoutReplicaSetAccess(t *testing.T) {
	cs := fake.NewSimpleClientset(pod("d", "linkerd-destination-5c8f9", corev1.PodRunning))
	cs.PrependReactor("get", "replicasets", func(clienttesting.Action) (bool, k8sruntime.Object, error) {
		return true, nil, kerrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "replicasets"}, "", errors.New("no"))
	})
	p, err := FindDestinationPod(context.Background(), cs, "linkerd")
	if err != nil || p.Name != "d" {
		t.Fatalf("got %v, %v", p, err)
	}
}

// HTTPRoutes are listed without discovery: the newest version first, an
// older one only when the API server does not serve it; a group that is
// not installed at all is skipped.
func TestHTTPRoutesWithoutDiscovery(t *testing.T) {
	listKinds := map[schema.GroupVersionResource]string{}
	for _, g := range httpRouteVersions {
		for _, v := range g.versions {
			listKinds[schema.GroupVersionResource{Group: g.group, Version: v, Resource: "httproutes"}] = "HTTPRouteList"
		}
	}
	route := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "policy.linkerd.io/v1beta2", "kind": "HTTPRoute",
		"metadata": map[string]interface{}{"name": "r", "namespace": "books"},
		"spec": map[string]interface{}{"parentRefs": []interface{}{
			map[string]interface{}{"kind": "Service", "name": "webapp"}}},
	}}
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(k8sruntime.NewScheme(), listKinds, route)
	var asked []string
	var mu sync.Mutex
	dyn.PrependReactor("list", "httproutes", func(a clienttesting.Action) (bool, k8sruntime.Object, error) {
		gvr := a.GetResource()
		mu.Lock()
		asked = append(asked, gvr.Group+"/"+gvr.Version)
		mu.Unlock()
		if gvr.Group == "policy.linkerd.io" && gvr.Version == "v1beta2" {
			return false, nil, nil // served
		}
		return true, nil, kerrors.NewNotFound(gvr.GroupResource(), "")
	})
	got, unread := HTTPRoutes(context.Background(), nil, dyn, []string{"books"})
	if hs := got[analyze.NamespacedName{Namespace: "books", Name: "webapp"}]; len(hs) != 1 || hs[0].Name != "r" || len(unread) != 0 {
		t.Errorf("routes = %+v, unread %q (a group that is not installed is not unread)", got, unread)
	}
	sort.Strings(asked)
	want := "gateway.networking.k8s.io/v1 gateway.networking.k8s.io/v1beta1 policy.linkerd.io/v1beta2 policy.linkerd.io/v1beta3"
	if strings.Join(asked, " ") != want {
		t.Errorf("lists = %v, want %s", asked, want)
	}
}

// A group RBAC does not let the user list is said, one line per namespace,
// never taken for "no HTTPRoute".
func TestHTTPRoutesUnreadable(t *testing.T) {
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(k8sruntime.NewScheme(), map[schema.GroupVersionResource]string{
		{Group: "policy.linkerd.io", Version: "v1beta3", Resource: "httproutes"}:    "HTTPRouteList",
		{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}: "HTTPRouteList",
	})
	dyn.PrependReactor("list", "httproutes", func(a clienttesting.Action) (bool, k8sruntime.Object, error) {
		if a.GetResource().Group == "gateway.networking.k8s.io" {
			return true, nil, kerrors.NewForbidden(a.GetResource().GroupResource(), "", errors.New("no"))
		}
		return false, nil, nil
	})
	_, unread := HTTPRoutes(context.Background(), nil, dyn, []string{"books", "shop"})
	if len(unread) != 2 || !strings.HasPrefix(unread[0], "forbidden: cannot list httproutes.gateway.networking.k8s.io in namespace books") ||
		!strings.Contains(unread[1], "in namespace shop") {
		t.Errorf("unread = %q", unread)
	}
}
