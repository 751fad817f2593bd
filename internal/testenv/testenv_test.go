package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

var env *Env

func TestMain(m *testing.M) { os.Exit(Run(m, Options{}, &env)) }

var (
	spV1alpha1 = schema.GroupVersionResource{Group: "linkerd.io", Version: "v1alpha1", Resource: "serviceprofiles"}
	spV1alpha2 = schema.GroupVersionResource{Group: "linkerd.io", Version: "v1alpha2", Resource: "serviceprofiles"}
)

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestBinDirMissing(t *testing.T) {
	t.Setenv("KUBECTL_PROFILES_TESTBIN", t.TempDir())
	_, err := BinDir()
	if err == nil || !strings.Contains(err.Error(), ".ci/testbin.sh") {
		t.Fatalf("BinDir() error = %v, want one telling to run .ci/testbin.sh", err)
	}
}

func TestDecodeManifests(t *testing.T) {
	objs, err := decodeManifests([]string{"---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
		`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Secret","metadata":{"name":"b"}}]}`})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, describe(o))
	}
	if strings.Join(got, ",") != "ConfigMap a,Secret b" {
		t.Fatalf("decoded %q", got)
	}
	if _, err := decodeManifests([]string{"apiVersion: v1\nkind: ConfigMap\n"}); err == nil {
		t.Fatal("a document without metadata.name was accepted")
	}
}

func TestStarted(t *testing.T) {
	SkipIfShort(t)
	t.Logf("Start took %s", env.StartedIn)
	ctx := ctxFor(t)
	if _, err := env.Clientset.CoreV1().Namespaces().Get(ctx, "linkerd", metav1.GetOptions{}); err != nil {
		t.Fatalf("namespace linkerd: %v", err)
	}
	for _, want := range [][2]string{
		{"linkerd.io/v1alpha1", "serviceprofiles"},
		{"linkerd.io/v1alpha2", "serviceprofiles"},
		{"policy.linkerd.io/v1beta3", "httproutes"},
		{"policy.linkerd.io/v1beta3", "servers"},
		{"gateway.networking.k8s.io/v1", "httproutes"},
		{"workload.linkerd.io/v1alpha1", "externalworkloads"},
		{"workload.linkerd.io/v1beta1", "externalworkloads"},
		{"apiregistration.k8s.io/v1", "apiservices"},
		{"rbac.authorization.k8s.io/v1", "roles"},
		{"discovery.k8s.io/v1", "endpointslices"},
		{"coordination.k8s.io/v1", "leases"},
		{"authorization.k8s.io/v1", "selfsubjectaccessreviews"},
	} {
		gv, plural := want[0], want[1]
		list, err := env.Clientset.Discovery().ServerResourcesForGroupVersion(gv)
		if err != nil {
			t.Errorf("discovery %s: %v", gv, err)
			continue
		}
		if !hasResource(list, plural) {
			t.Errorf("%s does not serve %s", gv, plural)
		}
	}
	// The destination service needs at least one EndpointSlice in the cluster.
	slices, err := env.Clientset.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{})
	if err != nil || len(slices.Items) == 0 {
		t.Errorf("no EndpointSlice in default (err %v)", err)
	}
	// The admin kubeconfig works for a subprocess-style client.
	cfg, err := clientcmd.BuildConfigFromFlags("", env.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(cfg)
	if _, err := dyn.Resource(spV1alpha2).Namespace("default").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("listing serviceprofiles with %s: %v", env.Kubeconfig, err)
	}
}

const webapp = `apiVersion: v1
kind: Service
metadata:
  name: webapp
spec:
  ports:
  - port: 80
    name: http
`

func TestServiceProfileVersions(t *testing.T) {
	SkipIfShort(t)
	ctx := ctxFor(t)
	err := env.Apply(ctx, webapp, `apiVersion: linkerd.io/v1alpha1
kind: ServiceProfile
metadata:
  name: webapp.default.svc.cluster.local
spec:
  routes:
  - name: GET /books
    condition:
      method: GET
      pathRegex: /books
      any:
      - method: HEAD
        all: [{pathRegex: /x}]
    responseClasses:
    - condition:
        status: {min: 500, max: 599}
        not: {status: {min: 503}}
      isFailure: true
      isSuccess: true
    timeout: 300ms
  retryBudget:
    retryRatio: 0.2
    minRetriesPerSecond: 10
    ttl: 10s
  dstOverrides:
  - authority: webapp-v2.default.svc.cluster.local:80
    weight: 500m
`)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := env.Dynamic.Resource(spV1alpha2).Namespace("default").Get(ctx, "webapp.default.svc.cluster.local", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sp.GetAPIVersion() != "linkerd.io/v1alpha2" {
		t.Errorf("apiVersion = %s", sp.GetAPIVersion())
	}
	routes, _, _ := unstructured.NestedSlice(sp.Object, "spec", "routes")
	if len(routes) != 1 {
		t.Fatalf("routes = %v", routes)
	}
	route := routes[0].(map[string]interface{})
	if route["timeout"] != "300ms" {
		t.Errorf("timeout = %v", route["timeout"])
	}
	rc := route["responseClasses"].([]interface{})[0].(map[string]interface{})
	if _, kept := rc["isSuccess"]; kept {
		t.Errorf("unknown field isSuccess survived: %v", rc)
	}
	if rc["isFailure"] != true {
		t.Errorf("isFailure lost: %v", rc)
	}
	// Recursive match conditions keep what they are given.
	if m, _, _ := unstructured.NestedSlice(route, "condition", "any"); len(m) != 1 || m[0].(map[string]interface{})["all"] == nil {
		t.Errorf("nested condition pruned: %v", m)
	}
	if w, _, _ := unstructured.NestedSlice(sp.Object, "spec", "dstOverrides"); len(w) != 1 || w[0].(map[string]interface{})["weight"] != "500m" {
		t.Errorf("dstOverrides = %v", w)
	}

	crd, err := env.Dynamic.Resource(crdGVR).Get(ctx, ServiceProfileCRD, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if stored, _, _ := unstructured.NestedStringSlice(crd.Object, "status", "storedVersions"); strings.Join(stored, ",") != "v1alpha2" {
		t.Errorf("storedVersions = %v, want [v1alpha2]", stored)
	}

	// v1alpha1 requires routes, v1alpha2 does not.
	noRoutes := func(version string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]interface{}{
			"apiVersion": "linkerd.io/" + version, "kind": "ServiceProfile",
			"metadata": map[string]interface{}{"name": "empty-" + version},
			"spec":     map[string]interface{}{"opaquePorts": []interface{}{"8080"}},
		}}
	}
	_, err = env.Dynamic.Resource(spV1alpha1).Namespace("default").Create(ctx, noRoutes("v1alpha1"), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "routes") {
		t.Errorf("v1alpha1 without routes: err = %v, want Invalid about routes", err)
	}
	if _, err = env.Dynamic.Resource(spV1alpha2).Namespace("default").Create(ctx, noRoutes("v1alpha2"), metav1.CreateOptions{}); err != nil {
		t.Errorf("v1alpha2 without routes: %v", err)
	}

	// The request condition's "not" is an array in the CRD: an object is rejected.
	bad := `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: bad-not}
spec:
  routes:
  - name: r
    condition: {not: {method: GET}}
`
	if err := env.Apply(ctx, bad); err == nil {
		t.Error("request condition with object-valued not was accepted")
	}
	// retryBudget needs all three fields.
	if err := env.Apply(ctx, "apiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: rb}\nspec:\n  retryBudget: {retryRatio: 0.2}\n"); err == nil {
		t.Error("retryBudget without ttl and minRetriesPerSecond was accepted")
	}

	// Apply again updates in place; Delete removes.
	if err := env.Apply(ctx, strings.Replace(webapp, "port: 80", "port: 8080", 1)); err != nil {
		t.Fatal(err)
	}
	svc, err := env.Clientset.CoreV1().Services("default").Get(ctx, "webapp", metav1.GetOptions{})
	if err != nil || svc.Spec.Ports[0].Port != 8080 {
		t.Fatalf("service after re-apply: %v, %v", svc, err)
	}
	if err := env.Delete(ctx, webapp); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Clientset.CoreV1().Services("default").Get(ctx, "webapp", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("service after Delete: err = %v", err)
	}
}

func TestRBAC(t *testing.T) {
	SkipIfShort(t)
	ctx := ctxFor(t)
	if err := env.Apply(ctx, "apiVersion: v1\nkind: Namespace\nmetadata: {name: rbac-test}\n"); err != nil {
		t.Fatal(err)
	}
	list := func(user string) error {
		_, err := dynamic.NewForConfigOrDie(env.ConfigFor(user)).Resource(spV1alpha2).Namespace("rbac-test").List(ctx, metav1.ListOptions{})
		return err
	}
	for _, u := range []string{"alice", "bob", "dave"} { // dave: impersonated
		if err := list(u); !apierrors.IsForbidden(err) {
			t.Fatalf("%s before RoleBinding: err = %v, want Forbidden", u, err)
		}
	}
	if err := env.Apply(ctx, `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: sp-reader, namespace: rbac-test}
rules:
- apiGroups: [linkerd.io]
  resources: [serviceprofiles]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: sp-reader, namespace: rbac-test}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: sp-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: dave}
`); err != nil {
		t.Fatal(err)
	}
	// The RBAC authorizer reads from an informer: allow it to catch up.
	for _, u := range []string{"alice", "dave"} {
		if err := poll(ctx, func() error { return list(u) }); err != nil {
			t.Errorf("%s after RoleBinding: %v", u, err)
		}
	}
	if err := list("bob"); !apierrors.IsForbidden(err) {
		t.Errorf("bob (not bound): err = %v, want Forbidden", err)
	}

	// Kubeconfig files carry the same identities.
	path, err := env.KubeconfigFor("bob")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = dynamic.NewForConfigOrDie(cfg).Resource(spV1alpha2).Namespace("rbac-test").List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `"bob"`) {
		t.Errorf("bob via kubeconfig: err = %v, want Forbidden for user bob", err)
	}
}

// TestAggregation puts a tiny HTTPS server behind the apiserver, the way
// Linkerd's tap API is reached.
func TestAggregation(t *testing.T) {
	SkipIfShort(t)
	ctx := ctxFor(t)
	const group, version = "tap.testenv.io", "v1alpha1"
	tlsCfg, err := env.ServerTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /apis/"+group+"/"+version, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(metav1.APIResourceList{
			TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
			GroupVersion: group + "/" + version,
			APIResources: []metav1.APIResource{{Name: "deployments/tap", Namespaced: true, Kind: "Tap", Verbs: []string{"watch"}}},
		})
	})
	mux.HandleFunc("POST /apis/"+group+"/"+version+"/watch/namespaces/{ns}/deployments/{name}/tap", func(w http.ResponseWriter, r *http.Request) {
		user, groups, ok := RemoteUser(r)
		if !ok {
			http.Error(w, "not from the front proxy", http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "user=%s groups=%s target=%s/%s body=%s", user, strings.Join(groups, ","), r.PathValue("ns"), r.PathValue("name"), body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, TLSConfig: tlsCfg, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { srv.Close() })

	port := ln.Addr().(*net.TCPAddr).Port
	if err := env.RegisterAPIService(ctx, group, version, port); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.UnregisterAPIService(context.Background(), group, version); err != nil {
			t.Error(err)
		}
	})

	post := func(user string) (int, string) {
		t.Helper()
		hc, err := rest.HTTPClientFor(env.ConfigFor(user))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost,
			env.Host+"/apis/"+group+"/"+version+"/watch/namespaces/default/deployments/web/tap", strings.NewReader("ping"))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := post(AdminUser)
	if code != http.StatusOK || !strings.HasPrefix(body, "user=admin groups=system:masters,system:authenticated target=default/web body=ping") {
		t.Fatalf("admin: %d %q", code, body)
	}
	// The apiserver applies RBAC (verb watch, resource deployments/tap) before forwarding.
	if code, body := post("alice"); code != http.StatusForbidden {
		t.Fatalf("alice without RBAC: %d %q, want 403", code, body)
	}
	if err := env.Apply(ctx, `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: testenv-tap}
rules:
- apiGroups: [tap.testenv.io]
  resources: [deployments/tap]
  verbs: [watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: testenv-tap-alice}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: testenv-tap}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}]
`); err != nil {
		t.Fatal(err)
	}
	err = poll(ctx, func() error {
		if code, body := post("alice"); code != http.StatusOK || !strings.HasPrefix(body, "user=alice groups=system:authenticated ") {
			return fmt.Errorf("alice with RBAC: %d %q", code, body)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSecondEnv runs a second Env next to the shared one (as parallel test
// packages do), without the ServiceProfile CRD, and checks Stop cleans up.
func TestSecondEnv(t *testing.T) {
	SkipIfShort(t)
	ctx := ctxFor(t)
	e, err := Start(ctx, Options{SkipServiceProfileCRD: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	t.Logf("second Start took %s", e.StartedIn)
	if e.Host == env.Host {
		t.Fatalf("both envs on %s", e.Host)
	}
	if _, err := e.Clientset.Discovery().ServerResourcesForGroupVersion("linkerd.io/v1alpha2"); !apierrors.IsNotFound(err) {
		t.Fatalf("linkerd.io/v1alpha2 with SkipServiceProfileCRD: err = %v, want NotFound", err)
	}
	sp := "apiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: x}\nspec: {}\n"
	if err := e.Apply(ctx, sp); err == nil || !strings.Contains(err.Error(), "CRD") {
		t.Fatalf("Apply of a ServiceProfile without its CRD: err = %v", err)
	}
	crd, err := CRDManifest(ServiceProfileCRD)
	if err != nil {
		t.Fatal(err)
	}
	// CRD and object in one call: Apply waits for the CRD before the object.
	if err := e.Apply(ctx, sp, crd); err != nil {
		t.Fatal(err)
	}

	pids := []int{e.kas.cmd.Process.Pid, e.etcd.cmd.Process.Pid}
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("pid %d still exists after Stop (kill -0: %v)", pid, err)
		}
	}
	if _, err := os.Stat(filepath.Join(e.Dir, "tokens.csv")); !os.IsNotExist(err) {
		t.Errorf("%s not removed: %v", e.Dir, err)
	}
}

// TestPortClash gives kube-apiserver a port that is already taken, as a
// parallel test binary could, and expects Start to retry on new ports.
func TestPortClash(t *testing.T) {
	SkipIfShort(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port
	calls := 0
	pickPorts = func(n int) ([]int, error) {
		calls++
		ports, err := freePorts(n)
		if calls == 1 && err == nil {
			ports[n-1] = takenPort // the apiserver's
		}
		return ports, err
	}
	defer func() { pickPorts = freePorts }()
	e, err := Start(ctxFor(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	if calls < 2 || strings.HasSuffix(e.Host, fmt.Sprintf(":%d", takenPort)) {
		t.Fatalf("started on %s after %d port picks, want a retry away from %d", e.Host, calls, takenPort)
	}
	t.Logf("Start with one retry took %s", e.StartedIn)
}
