package tap_test

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/internal/clitest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/desttest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/policytest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/taptest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/testenv"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapcapture"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// The end-to-end tests tap through a real kube-apiserver's aggregation
// layer (RBAC included) to the test tap server, and look profiles up in the
// test destination service, as against a real cluster.

var env *testenv.Env

func TestMain(m *testing.M) {
	os.Exit(testenv.Run(m, testenv.Options{ExtraCRDs: policytest.CRDs()}, &env))
}

// policyCluster: authors (HTTPRoutes) and ratings (a GRPCRoute), both
// without ServiceProfile, so their clients' proxies route by client policy;
// the routes of testdata/policy/routes.yaml with the status the policy
// controller writes.
const policyCluster = `
apiVersion: v1
kind: Service
metadata: {name: authors, namespace: booksapp}
spec:
  ports: [{name: http, port: 7001}]
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: booksapp}
spec:
  ports: [{name: grpc, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: authors-routes, namespace: booksapp}
spec:
  parentRefs: [{name: authors, kind: Service, group: core, port: 7001}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /authors}}]
    backendRefs: [{name: authors, port: 7001}]
  - matches: [{path: {type: Exact, value: /authors.json}}]
  - matches:
    - path: {type: PathPrefix, value: /authors}
      headers: [{name: x-canary, value: "1"}]
    backendRefs: [{name: authors, port: 7001, weight: 3}, {name: authors-canary, weight: 1}]
  - matches: [{path: {type: RegularExpression, value: "/search|/search/.*"}}]
status:
  parents:
  - parentRef: {name: authors, kind: Service, group: core, port: 7001}
    controllerName: linkerd.io/policy-controller
    conditions: [{type: Accepted, status: "True", reason: Accepted, message: "", lastTransitionTime: "2026-01-01T00:00:00Z"}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: authors-admin, namespace: booksapp}
spec:
  parentRefs: [{name: authors, kind: Service, group: core, port: 7001}]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /authors/}
      headers: [{name: x-user, type: RegularExpression, value: "adm.*"}]
status:
  parents:
  - parentRef: {name: authors, kind: Service, group: core, port: 7001}
    controllerName: linkerd.io/policy-controller
    conditions: [{type: Accepted, status: "True", reason: Accepted, message: "", lastTransitionTime: "2026-01-01T00:00:00Z"}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: ratings, namespace: booksapp}
spec:
  parentRefs: [{name: ratings, kind: Service, group: core, port: 8080}]
  rules:
  - matches: [{method: {service: ratings.v1.Ratings, method: Get}}]
    backendRefs: [{name: ratings, port: 8080}]
status:
  parents:
  - parentRef: {name: ratings, kind: Service, group: core, port: 8080}
    controllerName: linkerd.io/policy-controller
    conditions: [{type: Accepted, status: "True", reason: Accepted, message: "", lastTransitionTime: "2026-01-01T00:00:00Z"}]
`

func eventsOf(t *testing.T, path string) []tapclient.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := tapcapture.NewReader(f)
	var out []tapclient.Event
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, *ev)
	}
}

// cluster: webapp has the profile of testdata/webapp-sp.yaml, books has a
// profile too (so outbound requests to it now get a route).
const cluster = `
apiVersion: v1
kind: Namespace
metadata: {name: booksapp}
---
apiVersion: v1
kind: Service
metadata: {name: webapp, namespace: booksapp}
spec:
  ports: [{name: http, port: 7000}]
---
apiVersion: v1
kind: Service
metadata: {name: books, namespace: booksapp}
spec:
  ports: [{name: http, port: 7002}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: webapp.booksapp.svc.cluster.local, namespace: booksapp}
spec:
  routes:
  - {name: GET /, condition: {method: GET, pathRegex: /}}
  - {name: 'GET /books/{id}', condition: {method: GET, pathRegex: '/books/\d+'}}
  - {name: POST /books, condition: {method: POST, pathRegex: /books}}
  - {name: 'GET /authors/{id}', condition: {method: GET, pathRegex: '/authors/\d+'}}
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: books.booksapp.svc.cluster.local, namespace: booksapp}
spec:
  routes:
  - {name: GET /books.json, condition: {method: GET, pathRegex: /books\.json}}
`

func captureEvents(t *testing.T) []tapclient.Event { return eventsOf(t, capture) }

func runAs(t *testing.T, kubeconfig string, args ...string) (string, string, int) {
	t.Helper()
	return clitest.Run("", append([]string{"--kubeconfig", kubeconfig}, args...)...)
}

func TestTapThroughKubeAPIServer(t *testing.T) {
	testenv.SkipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := env.Apply(ctx, cluster, policyCluster); err != nil {
		t.Fatal(err)
	}
	dest, err := desttest.Start(ctx, env.Clientset, env.Dynamic, "127.0.0.1:0", desttest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dest.Stop()
	pol, err := policytest.Start(env.Clientset, env.Dynamic, "127.0.0.1:0", policytest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pol.Stop()

	tlsCfg, err := env.ServerTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	srv := taptest.New(taptest.Options{TLSConfig: tlsCfg, Identify: testenv.RemoteUser})
	defer srv.Close()
	webapp := tapclient.Target{Namespace: "booksapp", Type: "deployment", Name: "webapp"}
	srv.Set(webapp, taptest.Tap{Events: captureEvents(t), End: true})
	srv.Set(tapclient.Target{Namespace: "booksapp", Type: "deployment", Name: "quiet"}, taptest.Tap{FlushHeaders: true})
	// silent sends no response headers at all, as the real tap server
	// until the first event.
	srv.Set(tapclient.Target{Namespace: "booksapp", Type: "deployment", Name: "silent"}, taptest.Tap{})
	srv.Set(tapclient.Target{Namespace: "booksapp", Type: "deployment", Name: "webapp-policy"}, taptest.Tap{Events: eventsOf(t, policyCapture), End: true})
	if err := env.RegisterAPIService(ctx, "tap.linkerd.io", "v1alpha1", srv.Port()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := env.UnregisterAPIService(context.Background(), "tap.linkerd.io", "v1alpha1"); err != nil {
			t.Error(err)
		}
	}()
	admin := env.Kubeconfig
	base := []string{"-n", "booksapp", "--destination-addr", dest.Addr(), "--policy-addr", pol.Addr(), "--timeout", "3s"}

	t.Run("policy mode against the test policy controller", func(t *testing.T) {
		out, errOut, code := runAs(t, admin, append([]string{"tap", "deploy/webapp-policy", "-o", "wide"}, base...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		golden(t, "policy/e2e-wide.golden", out)
		// The same routing as predicted from the files (the live routes
		// carry the status the controller writes; the files assume it).
		fromFiles, _, _ := run(t, "", "tap", "--file", policyCapture, "--route", policyRoutes, "--profile", spFile, "-n", "booksapp", "-o", "wide")
		if routing(out) != routing(fromFiles) {
			t.Errorf("live routing differs from the files':\n%s\nvs\n%s", routing(out), routing(fromFiles))
		}
		if strings.Contains(out, "s3cr3t") {
			t.Error("credentials in the output")
		}
	})

	t.Run("wide golden", func(t *testing.T) {
		out, errOut, code := runAs(t, admin, append([]string{"tap", "deploy/webapp", "-o", "wide"}, base...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		golden(t, "e2e-wide.golden", out)
		// books has a profile in the cluster: its GET /books.json matches now.
		if !strings.Contains(out, ":path=/books.json src_") || !strings.Contains(out, "rt_route=GET /books.json mode=serviceprofile\n") {
			t.Error("outbound request to books did not get its route")
		}
		// The probe to the pod IP names no Service: said at the end.
		if errOut != "1 of 12 requests could not be classified: no Service name in the request: 1 (rt_route=?)\n" {
			t.Errorf("stderr: %s", errOut)
		}
		// Headers are always asked for: the inbound proxy's profile is named by
		// l5d-dst-canonical.
		if seen := srv.Requests(); seen[len(seen)-1].User != testenv.AdminUser || !seen[len(seen)-1].Request.ExtractHeaders {
			t.Errorf("tap request as seen by the server: %+v", seen[len(seen)-1])
		}
	})

	t.Run("unmatched", func(t *testing.T) {
		out, errOut, code := runAs(t, admin, append([]string{"unmatched", "deploy/webapp"}, base...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		// The same groups as from the file with the same profile.
		want, err := os.ReadFile("../unmatched/testdata/table.golden")
		if err != nil {
			t.Fatal(err)
		}
		if out != string(want) {
			t.Errorf("got\n%s\nwant\n%s", out, want)
		}
		// The capture's /search/<ESC>... path is one no request can have:
		// not classified, no route proposed for it.
		if !strings.Contains(errOut, "sampled 10 requests") || !strings.Contains(errOut, "3 matched a route, 5 unmatched, 2 not classified (a path no request can have") {
			t.Errorf("stderr: %s", errOut)
		}
		if seen := srv.Requests(); !seen[len(seen)-1].Request.ExtractHeaders {
			t.Error("unmatched should ask for headers (l5d-dst-canonical)")
		}
	})

	t.Run("unmatched in policy mode against the test policy controller", func(t *testing.T) {
		out, errOut, code := runAs(t, admin, append([]string{"unmatched", "deploy/webapp-policy", "--to", "svc/authors", "-o", "yaml"}, base...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		// The same proposal as from the files.
		want, err := os.ReadFile("../unmatched/testdata/policy/authors.golden")
		if err != nil {
			t.Fatal(err)
		}
		if out != string(want) {
			t.Errorf("got\n%s\nwant\n%s", out, want)
		}
		_, errOut, code = runAs(t, admin, append([]string{"unmatched", "deploy/quiet", "--duration", "1s"}, base...)...)
		if code != 5 || !strings.Contains(errOut, "\nerror: no requests seen in 1s (") {
			t.Errorf("unmatched that saw nothing: exit %d: %s", code, errOut)
		}
	})

	t.Run("duration ending a tap that saw nothing is exit 5, said on stderr", func(t *testing.T) {
		start := time.Now()
		out, errOut, code := runAs(t, admin, append([]string{"tap", "deploy/quiet", "--duration", "1s"}, base...)...)
		if code != 5 || out != "" || !strings.HasPrefix(errOut, "error: no requests seen in 1s (") || strings.Count(errOut, "\n") != 1 || time.Since(start) > 10*time.Second {
			t.Fatalf("exit %d after %s: %q %q", code, time.Since(start), out, errOut)
		}
	})

	t.Run("a silent tap says so after --idle-timeout and keeps waiting", func(t *testing.T) {
		// silent sends no response headers: the hint still comes after
		// --idle-timeout from the request, not after the header wait too.
		for _, target := range []string{"deploy/quiet", "deploy/silent"} {
			_, errOut, code := runAs(t, admin, append([]string{"tap", target, "--duration", "2500ms", "--idle-timeout", "1s"}, base...)...)
			if code != 5 || !strings.Contains(errOut, "no requests seen for 1s") || strings.Count(errOut, "no requests seen for") != 1 {
				t.Fatalf("%s: exit %d: %q", target, code, errOut)
			}
		}
	})

	t.Run("tap server errors are one line, exit 1", func(t *testing.T) {
		_, errOut, code := runAs(t, admin, append([]string{"tap", "deploy/nope"}, base...)...)
		if code != 1 || !strings.Contains(errOut, `no pods to tap for type="deployment" name="nope"`) || strings.Count(errOut, "\n") != 1 {
			t.Fatalf("exit %d: %q", code, errOut)
		}
	})

	t.Run("RBAC refusal names the ClusterRole", func(t *testing.T) {
		bob, err := env.KubeconfigFor("bob")
		if err != nil {
			t.Fatal(err)
		}
		_, errOut, code := runAs(t, bob, append([]string{"tap", "deploy/webapp"}, base...)...)
		if code != 1 || !strings.Contains(errOut, `"deployments/tap" in namespace booksapp`) ||
			!strings.Contains(errOut, tapclient.DefaultTapAdminClusterRole) || strings.Count(errOut, "\n") != 1 {
			t.Fatalf("exit %d: %q", code, errOut)
		}
	})
}

func TestCompletionOfTapTargets(t *testing.T) {
	testenv.SkipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	deploy := `
apiVersion: apps/v1
kind: Deployment
metadata: {name: webapp, namespace: booksapp}
spec:
  selector: {matchLabels: {app: webapp}}
  template:
    metadata: {labels: {app: webapp}}
    spec: {containers: [{name: c, image: webapp}]}
`
	if err := env.Apply(ctx, cluster, deploy); err != nil {
		t.Fatal(err)
	}
	out, _, code := clitest.Run("", "__complete", "tap", "--kubeconfig", env.Kubeconfig, "-n", "booksapp", "deploy/")
	if code != 0 || !strings.Contains(out, "deploy/webapp") {
		t.Errorf("completion of `tap deploy/`: exit %d\n%s", code, out)
	}
	out, _, _ = clitest.Run("", "__complete", "unmatched", "--kubeconfig", env.Kubeconfig, "-n", "booksapp", "deploy/w", "--to", "svc/")
	if !strings.Contains(out, "svc/") {
		t.Errorf("completion of --to svc/: %s", out)
	}
}

// routing keeps, per request line, the path and what follows rt_route.
func routing(out string) string {
	var b strings.Builder
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "req ") {
			continue
		}
		i, j := strings.Index(line, ":path="), strings.Index(line, " rt_route=")
		if i < 0 || j < 0 {
			continue
		}
		p, _, _ := strings.Cut(line[i:], " ")
		b.WriteString(p + line[j:] + "\n")
	}
	return b.String()
}
