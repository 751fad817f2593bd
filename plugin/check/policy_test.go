package check_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

// policyFile has one object per policy finding check reports from files,
// each next to a near miss that must stay quiet.
const policyFile = `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  annotations: {retry.linkerd.io/limit: "3", timeout.linkerd.io/request: 1m30s}
spec: {ports: [{port: 80}, {port: 9090}]}
---
apiVersion: v1
kind: Service
metadata:
  name: fine
  namespace: shop
  annotations: {retry.linkerd.io/limit: "3", retry.linkerd.io/http: 5xx, timeout.linkerd.io/request: 90s}
spec: {ports: [{port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: mirror, namespace: shop}
spec:
  parentRefs: [{group: core, kind: Service, name: web, port: 9090}]
  rules:
  - filters: [{type: RequestMirror, requestMirror: {backendRef: {name: web, port: 80}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: stray, namespace: shop}
spec:
  parentRefs: [{group: core, kind: Service, name: web, port: 9999}]
  rules: [{}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: main, namespace: shop}
spec:
  parentRefs: [{group: core, kind: Service, name: web, port: 80}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
  - matches: [{path: {type: Exact, value: /api}}]
  - matches: [{path: {type: PathPrefix, value: /api/v2}}]
    backendRefs: [{group: example.com, kind: Bucket, name: b}]
---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: fine-routes, namespace: shop}
spec:
  parentRefs: [{group: core, kind: Service, name: fine, port: 80}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /a}}]
  - {}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: consumer, namespace: shop-clients}
spec:
  parentRefs: [{group: core, kind: Service, name: fine, namespace: shop, port: 80}]
  rules: [{matches: [{path: {type: PathPrefix, value: /only-here}}]}]
`

func TestPolicyFromFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(file, []byte(policyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, "", "check", "-f", file, "-o", "json")
	if code != 3 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	o := decode(t, out)
	type at struct{ code, name string }
	got := map[at]string{}
	lines := map[at]int{}
	for _, f := range o.Findings {
		got[at{f.Code, f.Origin.Name}] = f.Message
		lines[at{f.Code, f.Origin.Name}] = f.Origin.Line
	}
	for _, w := range []struct {
		code, name, says string
		line             int
	}{
		{"service-annotation-invalid", "web", "1m30s", 1},
		{"retry-without-conditions", "main", "retry.linkerd.io/http", 32},
		{"route-dropped-by-controller", "mirror", "RequestMirror", 17},
		{"rule-never-wins", "main", "HTTPRoute shop/main rule 1 can never win", 32},
		{"backend-invalid", "main", "unsupported backend type", 32},
		{"route-no-catch-all", "main", "HTTP 404", 32},
		{"consumer-route", "consumer", "only clients in namespace shop-clients", 52},
		{"port-not-on-service", "stray", "HTTPRoute shop/stray names port 9999, which is not a port of Service shop/web (ports: 80, 9090)", 25},
	} {
		msg, ok := got[at{w.code, w.name}]
		if !ok || !strings.Contains(msg, w.says) {
			t.Errorf("%s on %s: got %q, want it to say %q", w.code, w.name, msg, w.says)
		} else if lines[at{w.code, w.name}] != w.line {
			t.Errorf("%s on %s: line %d, want %d", w.code, w.name, lines[at{w.code, w.name}], w.line)
		}
	}
	// Near misses: a Service whose annotations parse and set conditions, a
	// route with a catch-all, a rule that is more specific; routes from
	// files are not "not accepted" (their status comes later).
	for _, f := range o.Findings {
		switch {
		case f.Origin.Name == "fine" || f.Origin.Name == "fine-routes":
			t.Errorf("near miss reported: %s %s: %s", f.Code, f.Origin.Name, f.Message)
		case f.Code == "route-not-accepted":
			t.Errorf("a route from a file judged by its status: %s", f.Message)
		case f.Code == "rule-never-wins" && strings.Contains(f.Message, "rule 2"):
			t.Errorf("the longer prefix is more specific: %s", f.Message)
		}
	}
	if !strings.Contains(errOut, "in 0 ServiceProfiles and 7 policy resources.") {
		t.Errorf("stderr %q", errOut)
	}
}

// TestPortlessRouteFromFiles: a route whose parentRef has no port (what
// migrate and generate write without --port) on a Service that is not in
// the files applies to every port: what does not depend on the port is
// still judged, never the ✔ all-clear for a route that was not analysed.
// The ESC of the regex is escaped in the output.
func TestPortlessRouteFromFiles(t *testing.T) {
	const hr = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: books-x, namespace: booksapp}
spec:
  parentRefs: [{group: core, kind: Service, name: books}]
  rules:
  - matches: [{path: {type: RegularExpression, value: "/x\e[2J"}}]
  - {}
`
	out, errOut, code := run(t, hr, "check", "-f", "-")
	if code != cli.ExitFindings || strings.Contains(errOut, "✔") {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
	if !strings.Contains(out, `Error [route-dropped-by-controller] (booksapp/books-x, <stdin>:1) HTTPRoute booksapp/books-x (gateway.networking.k8s.io) is dropped by the policy controller: rules[0]: path regex "/x\x1b[2J"`) ||
		strings.ContainsRune(out, '\x1b') {
		t.Errorf("stdout:\n%q", out)
	}
	// The near miss: the same route with a regex Rust compiles.
	_, errOut, code = run(t, strings.Replace(hr, `\e[2J`, `[2J]`, 1), "check", "-f", "-")
	if code != 0 || errOut != "✔ No problems found in 0 ServiceProfiles and 1 policy resource.\n" {
		t.Errorf("near miss: exit %d, stderr %q", code, errOut)
	}
}
