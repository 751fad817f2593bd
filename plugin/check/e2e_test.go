package check_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/internal/testenv"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

// fixtures: each object exists for one analyzer; the comments say which.
const fixtures = `
apiVersion: v1
kind: Namespace
metadata: {name: books}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
# webapp: port 9000 is opaque by annotation; an HTTPRoute is attached.
apiVersion: v1
kind: Service
metadata:
  name: webapp
  namespace: books
  annotations: {config.linkerd.io/opaque-ports: "9000"}
spec:
  ports:
  - {name: http, port: 80}
  - {name: admin, port: 9000}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: books}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: books}
spec:
  type: ExternalName
  externalName: example.org
---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: webapp-routes, namespace: books}
spec:
  parentRefs:
  - {group: core, kind: Service, name: webapp, port: 80}
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: webapp.books.svc.cluster.local, namespace: books}
spec:
  routes:
  - name: GET /books/{id}
    condition: {method: GET, pathRegex: '/books/[^/]+'}
  - name: GET /books/new
    condition: {method: GET, pathRegex: /books/new}
  - name: POST /books
    condition: {method: POST, pathRegex: /books}
    isRetryable: true
    timeout: 10 s
    responseClasses:
    - condition: {status: {min: 500, max: 599}}
      isSuccess: true
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: api.books.svc.cluster.local, namespace: books}
spec:
  routes:
  - name: GET /
    condition: {method: GET, pathRegex: /}
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: apj.books.svc.cluster.local, namespace: books}
spec:
  routes: [{name: GET, condition: {method: GET}}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: ext.books.svc.cluster.local, namespace: books}
spec:
  routes: [{name: GET, condition: {method: GET}}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: webapp, namespace: books}
spec:
  routes: [{name: GET, condition: {method: GET}}]
---
# Kept by the CRD (nested conditions preserve unknown fields), so the
# control plane sees what the webhook would have rejected.
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: nested.books.svc.cluster.local, namespace: books}
spec:
  routes:
  - name: r
    condition:
      all: [{method: GET, regex: /x}]
  - name: not
    condition:
      not: [{method: GET}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: api.books.svc.cluster.local, namespace: shop}
spec:
  routes: [{name: shop view, condition: {pathRegex: /.*}}]
`

var applied bool

func setup(t *testing.T) {
	t.Helper()
	testenv.SkipIfShort(t)
	if applied {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := env.Apply(ctx, fixtures); err != nil {
		t.Fatalf("apply fixtures: %v", err)
	}
	applied = true
}

func runAs(t *testing.T, kubeconfig string, args ...string) (string, string, int) {
	t.Helper()
	return run(t, "", append([]string{"--kubeconfig", kubeconfig}, args...)...)
}

func TestClusterAllNamespaces(t *testing.T) {
	setup(t)
	out, errOut, code := runAs(t, env.Kubeconfig, "check", "-A")
	if code != cli.ExitFindings {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "cluster-all", out)
	for _, want := range []string{
		`Error [route-unreachable] (books/webapp.books.svc.cluster.local routes[1] "GET /books/new")`,
		`Warning [opaque-port] (books/webapp.books.svc.cluster.local) port 9000`,
		`Error [httproute-ignored] (books/webapp.books.svc.cluster.local) HTTPRoute books/webapp-routes`,
		`Warning [retry-non-idempotent] (books/webapp.books.svc.cluster.local routes[2] "POST /books")`,
		`Error [timeout-unparsable]`,
		`Warning [service-not-found] (books/apj.books.svc.cluster.local) Service books/apj does not exist`,
		`did you mean Service api`,
		`Error [service-rejected] (books/ext.books.svc.cluster.local)`,
		`Error [name-not-fqdn] (books/webapp)`,
		`Error [field-unknown] (books/nested.books.svc.cluster.local routes[0] "r")`,
		`Error [profile-undecodable] (books/nested.books.svc.cluster.local routes[1] "not")`,
		`Info [client-override] (shop/api.books.svc.cluster.local) this is a client-side override`,
		`instead of the Service's own profile (books/api.books.svc.cluster.local)`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
	// The API server pruned isSuccess on create: the cluster copy no longer
	// has it, so it cannot be reported from the cluster (only from files).
	if strings.Contains(out, "isSuccess") {
		t.Errorf("pruned field reported from the cluster:\n%s", out)
	}
	// The cluster's HTTPRoute (never accepted: no policy controller runs
	// here) is checked too.
	if !strings.Contains(errOut, "in 7 ServiceProfiles and 1 policy resource.") || !strings.Contains(out, "[route-not-accepted] (books/webapp-routes)") {
		t.Errorf("stderr %q", errOut)
	}
}

func TestClusterNamespace(t *testing.T) {
	setup(t)
	out, errOut, code := runAs(t, env.Kubeconfig, "check", "-n", "shop", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	o := decode(t, out)
	if o.Summary.Profiles != 1 || len(o.Findings) != 1 || o.Findings[0].Code != "client-override" || o.Findings[0].Origin.Namespace != "shop" ||
		o.Findings[0].Origin.File != "" || o.Findings[0].Origin.Line != 0 {
		t.Errorf("shop: %s", out)
	}
	// A namespace that does not exist is not an empty result
	// (TestClusterMissingNamespace has the existing empty one).
	_, errOut, code = runAs(t, env.Kubeconfig, "check", "-n", "empty-ns")
	if code != cli.ExitError || !strings.Contains(errOut, `namespace "empty-ns" does not exist`) {
		t.Errorf("missing namespace: exit %d %q", code, errOut)
	}
}

func TestFilesWithCluster(t *testing.T) {
	setup(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "sp.yaml")
	doc := `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: webapp.books.svc.cluster.local}
spec:
  routes:
  - name: GET
    condition: {method: GET}
    responseClasses:
    - condition: {status: {min: 500, max: 599}}
      isSuccess: true
`
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	// Without --cluster: only what the file shows.
	out, _, _ := runAs(t, env.Kubeconfig, "check", "-f", file, "-n", "books")
	if !strings.Contains(out, "[field-pruned]") || strings.Contains(out, "[opaque-port]") {
		t.Errorf("file mode:\n%s", out)
	}
	// With --cluster: the Service's opaque port and HTTPRoute too.
	out, errOut, code := runAs(t, env.Kubeconfig, "check", "-f", file, "--cluster", "-n", "books")
	if code != cli.ExitFindings { // field-pruned and httproute-ignored are errors
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"[field-pruned]", "[opaque-port]", "[httproute-ignored]", "sp.yaml:10"} {
		if !strings.Contains(out, want) {
			t.Errorf("--cluster: missing %s in\n%s", want, out)
		}
	}
}

func TestClusterForbidden(t *testing.T) {
	setup(t)
	kc, err := env.KubeconfigFor("alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "-n", "books"}, {"check", "-A"}, {"check", "-f", "../../testdata/profiles/good.yaml", "--cluster"}} {
		_, errOut, code := runAs(t, kc, args...)
		if code != cli.ExitError {
			t.Errorf("%v: exit %d, want %d (could not run, not findings): %s", args, code, cli.ExitError, errOut)
		}
		if !strings.HasPrefix(errOut, "error: forbidden: cannot list ") || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "krew/rbac.yaml") {
			t.Errorf("%v: stderr %q", args, errOut)
		}
	}
}

// A Service whose retry/timeout annotations do not parse, alone in its
// namespace (no ServiceProfile, no HTTPRoute): cluster mode lints it, with
// the Service as the origin (a typed Service has no apiVersion or kind of
// its own once listed).
func TestClusterLintsAnnotatedServiceAlone(t *testing.T) {
	setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.Apply(ctx, `
apiVersion: v1
kind: Namespace
metadata: {name: solo}
---
apiVersion: v1
kind: Service
metadata:
  name: solo
  namespace: solo
  annotations: {timeout.linkerd.io/request: 1m30, retry.linkerd.io/http: "5xx,abc"}
spec:
  ports: [{name: http, port: 80}]
`); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runAs(t, env.Kubeconfig, "check", "-n", "solo", "-o", "json")
	if code != cli.ExitFindings {
		t.Fatalf("exit %d, want %d (the annotations do not parse): %s\n%s", code, cli.ExitFindings, errOut, out)
	}
	o := decode(t, out)
	n := 0
	for _, f := range o.Findings {
		if f.Code == "service-annotation-invalid" {
			n++
			if f.Origin.Namespace != "solo" || f.Origin.Name != "solo" {
				t.Errorf("origin %+v, want the Service solo/solo", f.Origin)
			}
		}
	}
	if n == 0 {
		t.Errorf("no service-annotation-invalid:\n%s", out)
	}
}

// TestUnreadRoutesAreNoAllClear: a user who may read the ServiceProfiles
// and Services of a namespace but not its routes gets the check of what
// it could read, and a last line that says what it could not, never the
// ✔ all-clear that the same profiles give an admin.
func TestUnreadRoutesAreNoAllClear(t *testing.T) {
	setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := env.Apply(ctx, `
apiVersion: v1
kind: Namespace
metadata: {name: quiet}
---
apiVersion: v1
kind: Service
metadata: {name: clean, namespace: quiet}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: clean.quiet.svc.cluster.local, namespace: quiet}
spec:
  routes:
  - name: GET /x
    condition: {method: GET, pathRegex: /x}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: no-routes, namespace: quiet}
rules:
- {apiGroups: [""], resources: [services], verbs: [get, list]}
- {apiGroups: [linkerd.io], resources: [serviceprofiles], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: no-routes-dora, namespace: quiet}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: no-routes}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: dora}]
`); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runAs(t, env.Kubeconfig, "check", "-n", "quiet")
	if code != 0 || errOut != "✔ No problems found in 1 ServiceProfile.\n" {
		t.Fatalf("as admin: exit %d, stderr %q", code, errOut)
	}
	dora, err := env.KubeconfigFor("dora")
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) { // RBAC propagation
		_, errOut, code = runAs(t, dora, "check", "-n", "quiet")
		if !strings.Contains(errOut, "forbidden: cannot list serviceprofiles") || time.Now().After(deadline) {
			break
		}
	}
	if code != 0 || strings.Contains(errOut, "✔") ||
		!strings.Contains(errOut, "warning: policy path: forbidden: cannot list") ||
		!strings.Contains(errOut, "No problems found in 1 ServiceProfile, but not everything could be read (forbidden: cannot list") {
		t.Errorf("as dora: exit %d, stderr:\n%s", code, errOut)
	}
	t.Logf("as dora:\n%s", errOut)
	out, _, _ := runAs(t, dora, "check", "-n", "quiet", "-o", "json")
	if !strings.Contains(out, `"unread": [`) || !strings.Contains(out, "httproutes") {
		t.Errorf("as dora, JSON has no unread list:\n%s", out)
	}
}

// TestClusterRouteStatus: in cluster mode a route is judged by its real
// status: the route the policy controller accepted is not reported, the
// one without Linkerd's status is (route-not-accepted).
func TestClusterRouteStatus(t *testing.T) {
	setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := env.Apply(ctx, `
apiVersion: v1
kind: Namespace
metadata: {name: booksapp}
---
apiVersion: v1
kind: Service
metadata: {name: books, namespace: booksapp}
spec:
  ports: [{name: http, port: 7002}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: books-main, namespace: booksapp}
spec:
  parentRefs: [{group: core, kind: Service, name: books, port: 7002}]
  rules: [{}]
status:
  parents:
  - parentRef: {group: core, kind: Service, name: books, port: 7002}
    controllerName: linkerd.io/policy-controller
    conditions: [{type: Accepted, status: "True", reason: Accepted, message: "", lastTransitionTime: "2026-01-01T00:00:00Z"}]
`); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runAs(t, env.Kubeconfig, "check", "-n", "booksapp")
	if code != 0 || strings.Contains(out, "route-not-accepted") || errOut != "✔ No problems found in 0 ServiceProfiles and 1 policy resource.\n" {
		t.Fatalf("accepted route: exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
	// The near miss: a second route without Linkerd's status.
	if err := env.Apply(ctx, `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: books-new, namespace: booksapp}
spec:
  parentRefs: [{group: core, kind: Service, name: books, port: 7002}]
  rules: [{matches: [{path: {type: PathPrefix, value: /new}}]}]
`); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runAs(t, env.Kubeconfig, "check", "-n", "booksapp")
	if code != cli.ExitFindings || !strings.Contains(out, "Error [route-not-accepted] (booksapp/books-new) HTTPRoute booksapp/books-new") ||
		strings.Contains(out, "(booksapp/books-main)") {
		t.Errorf("unaccepted route: exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
}

// A namespace that does not exist is an error (exit 1), not a clean
// "No ServiceProfiles found"; an existing empty one stays clean.
func TestClusterMissingNamespace(t *testing.T) {
	setup(t)
	_, errOut, code := runAs(t, env.Kubeconfig, "check", "-n", "bokos")
	if code != cli.ExitError || !strings.Contains(errOut, `namespace "bokos" does not exist`) {
		t.Errorf("missing namespace: exit %d, stderr %q", code, errOut)
	}
	if err := env.Apply(context.Background(), "apiVersion: v1\nkind: Namespace\nmetadata: {name: vacant}\n"); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runAs(t, env.Kubeconfig, "check", "-n", "vacant")
	if code != 0 || !strings.Contains(errOut, "No ServiceProfiles found in namespace vacant") {
		t.Errorf("empty namespace: exit %d, stderr %q", code, errOut)
	}
}
