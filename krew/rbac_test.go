// Package krew_test checks the files shipped for krew users against a real
// kube-apiserver: rbac.yaml grants what the plugin needs and nothing that
// writes, and a user holding only that role gets shell completion.
package krew_test

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-profiles/kubectl-profiles/internal/testenv"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/completion"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, testenv.Options{}, &env)) }

// applyRBAC applies rbac.yaml with its example bindings pointed at user
// (replacing the previous test's binding: the tests must not run in parallel).
func applyRBAC(t *testing.T, ctx context.Context, user string) {
	t.Helper()
	b, err := os.ReadFile("rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const example = "  kind: Group\n  name: mesh-debuggers\n"
	if strings.Count(string(b), example) != 2 {
		t.Fatalf("rbac.yaml: expected 2 example bindings to group mesh-debuggers")
	}
	manifest := strings.ReplaceAll(string(b), example, "  kind: User\n  name: "+user+"\n")
	if err := env.Apply(ctx, manifest); err != nil {
		t.Fatalf("applying rbac.yaml: %v", err)
	}
}

func TestRBACGrantsReadOnly(t *testing.T) {
	testenv.SkipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	applyRBAC(t, ctx, "alice")
	alice := kubernetes.NewForConfigOrDie(env.ConfigFor("alice"))

	type attr = authzv1.ResourceAttributes
	tests := []struct {
		attr  attr
		allow bool
	}{
		{attr{Verb: "list", Resource: "services", Namespace: "shop"}, true},
		{attr{Verb: "watch", Resource: "pods", Namespace: "shop"}, true},
		{attr{Verb: "get", Group: "apps", Resource: "deployments", Namespace: "shop"}, true},
		{attr{Verb: "list", Group: "apps", Resource: "statefulsets", Namespace: "shop"}, true},
		{attr{Verb: "list", Group: "apps", Resource: "daemonsets", Namespace: "shop"}, true},
		{attr{Verb: "list", Group: "apps", Resource: "replicasets", Namespace: "shop"}, true},
		{attr{Verb: "list", Group: "batch", Resource: "cronjobs", Namespace: "shop"}, true},
		{attr{Verb: "list", Group: "batch", Resource: "jobs", Namespace: "shop"}, true},
		{attr{Verb: "list", Group: "linkerd.io", Resource: "serviceprofiles"}, true},
		{attr{Verb: "watch", Group: "policy.linkerd.io", Resource: "httproutes", Namespace: "shop"}, true},
		{attr{Verb: "get", Group: "gateway.networking.k8s.io", Resource: "httproutes", Namespace: "shop"}, true},
		{attr{Verb: "list", Group: "gateway.networking.k8s.io", Resource: "grpcroutes", Namespace: "shop"}, true},
		{attr{Verb: "update", Group: "gateway.networking.k8s.io", Resource: "grpcroutes", Subresource: "status", Namespace: "shop"}, false},
		{attr{Verb: "patch", Group: "gateway.networking.k8s.io", Resource: "httproutes", Namespace: "shop"}, false},
		// get reads the control plane's release from linkerd-config only.
		{attr{Verb: "get", Resource: "configmaps", Name: "linkerd-config", Namespace: "linkerd"}, true},
		{attr{Verb: "get", Resource: "configmaps", Name: "other", Namespace: "linkerd"}, false},
		{attr{Verb: "list", Resource: "namespaces"}, true},
		// Port-forward to the destination service: a create, linkerd only.
		{attr{Verb: "create", Resource: "pods", Subresource: "portforward", Namespace: "linkerd"}, true},
		{attr{Verb: "create", Resource: "pods", Subresource: "portforward", Namespace: "shop"}, false},
		// routes: the proxies' /metrics through the pod proxy, read-only.
		{attr{Verb: "get", Resource: "pods", Subresource: "proxy", Namespace: "shop"}, true},
		{attr{Verb: "create", Resource: "pods", Subresource: "proxy", Namespace: "shop"}, false},
		{attr{Verb: "update", Resource: "pods", Subresource: "proxy", Namespace: "shop"}, false},
		{attr{Verb: "get", Resource: "services", Subresource: "proxy", Namespace: "shop"}, false},
		// get: the destination's metrics (:9996) through the pod proxy, and
		// get --watch: the ServiceProfiles, watched.
		{attr{Verb: "get", Resource: "pods", Subresource: "proxy", Name: "linkerd-destination-5f7d9c-abcde", Namespace: "linkerd"}, true},
		{attr{Verb: "list", Resource: "pods", Namespace: "linkerd"}, true},
		{attr{Verb: "watch", Group: "linkerd.io", Resource: "serviceprofiles", Namespace: "shop"}, true},
		// Tap, as kube-apiserver checks it for the aggregated tap API.
		{attr{Verb: "watch", Group: "tap.linkerd.io", Resource: "deployments", Subresource: "tap", Namespace: "shop"}, true},
		{attr{Verb: "watch", Group: "tap.linkerd.io", Resource: "namespaces", Subresource: "tap", Name: "shop"}, true},
		// Nothing that writes or reads secrets.
		{attr{Verb: "create", Resource: "services", Namespace: "shop"}, false},
		{attr{Verb: "delete", Resource: "pods", Namespace: "shop"}, false},
		{attr{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "linkerd"}, false},
		{attr{Verb: "update", Group: "apps", Resource: "deployments", Namespace: "shop"}, false},
		{attr{Verb: "patch", Group: "linkerd.io", Resource: "serviceprofiles", Namespace: "shop"}, false},
		{attr{Verb: "get", Resource: "secrets", Namespace: "linkerd"}, false},
		{attr{Verb: "create", Group: "tap.linkerd.io", Resource: "deployments", Subresource: "tap", Namespace: "shop"}, false},
	}
	for _, tt := range tests {
		a := tt.attr
		review, err := alice.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx,
			&authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &a}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("access review: %v", err)
		}
		if review.Status.Allowed != tt.allow {
			t.Errorf("%s %s/%s (group %q, ns %q): allowed=%v, want %v (%s)", a.Verb, a.Resource, a.Subresource, a.Group, a.Namespace, review.Status.Allowed, tt.allow, review.Status.Reason)
		}
	}
}

// TestCompletionWithTheRole: a user holding only rbac.yaml completes names
// from the cluster; a user without it gets nothing, and no error.
func TestCompletionWithTheRole(t *testing.T) {
	testenv.SkipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	applyRBAC(t, ctx, "bob")
	if err := env.Apply(ctx, `apiVersion: v1
kind: Namespace
metadata:
  name: shop
`); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"webapp", "books"} {
		_, err := env.Clientset.CoreV1().Services("shop").Create(ctx, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	labels := map[string]string{"app": "webapp"}
	_, err := env.Clientset.AppsV1().Deployments("shop").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "webapp"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.invalid/app"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	flagsFor := func(user string) *genericclioptions.ConfigFlags {
		path, err := env.KubeconfigFor(user)
		if err != nil {
			t.Fatal(err)
		}
		f := genericclioptions.NewConfigFlags(false)
		ns := "shop"
		f.KubeConfig, f.Namespace = &path, &ns
		return f
	}
	bob, carol := flagsFor("bob"), flagsFor("carol")
	check := func(f genericclioptions.RESTClientGetter, kinds []string, toComplete string, want []string) {
		t.Helper()
		got, _ := completion.CompleteResources(f, kinds...)(nil, nil, toComplete)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("complete %q %q: got %q, want %q", kinds, toComplete, got, want)
		}
	}
	check(bob, completion.Services, "", []string{"svc/books", "svc/webapp"})
	check(bob, completion.Workloads, "deploy/w", []string{"deploy/webapp"})
	if got, _ := completion.CompleteNamespaces(bob)(nil, nil, "sh"); !reflect.DeepEqual(got, []string{"shop"}) {
		t.Errorf("namespaces: got %q", got)
	}
	// carol has no RBAC: Forbidden must stay silent.
	check(carol, completion.Services, "", nil)
}
