package unmatched_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	policyCapture = "../tap/testdata/policy/capture.json" // outbound from webapp to authors (HTTPRoutes) and ratings (GRPCRoute)
	policyRoutes  = "../tap/testdata/policy/routes.yaml"
	stealCapture  = "testdata/policy/steal-capture.json"
	stealRoutes   = "testdata/policy/steal-routes.yaml"
)

// In policy mode the requests no rule matches (the proxy's own 404s) are
// grouped, and -o yaml proposes an HTTPRoute for the parent Service port.
func TestPolicyModeHTTPRoute(t *testing.T) {
	out, errOut, code := run(t, "unmatched", "--file", policyCapture, "--route", policyRoutes, "-n", "booksapp", "--to", "svc/authors")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "policy/authors-table.golden", out)
	if !strings.Contains(errOut, "5 matched a route, 3 unmatched") {
		t.Errorf("stderr: %s", errOut)
	}
	out, errOut, code = run(t, "unmatched", "--file", policyCapture, "--route", policyRoutes, "-n", "booksapp", "--to", "svc/authors", "-o", "yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "policy/authors.golden", out)
	for _, want := range []string{
		"# HTTPRoute with 3 rule(s) covering 3 of 3 request(s) to Service booksapp/authors port 7001 that got the proxy's own 404",
		"the 5 request(s) already routed keep their rule",
		"kind: HTTPRoute\n", "port: 7001\n", "type: Exact\n        value: /static/app.css\n",
		"type: RegularExpression\n        value: /authors-admin/[^/]+\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "status:") || strings.Contains(out, "creationTimestamp") || strings.Contains(out, "backendRefs") {
		t.Error("the manifest carries status, creationTimestamp or backendRefs")
	}
	assertCovers(t, out, policyRoutes, "authors")
}

// assertCovers re-runs tap with the served routes plus the proposed one:
// every request that got a 404 is now routed by the new route, and every
// other request keeps its rule.
func assertCovers(t *testing.T, proposed, routes, svc string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "proposed.yaml")
	if err := os.WriteFile(file, []byte(proposed), 0o600); err != nil {
		t.Fatal(err)
	}
	before, _, code := run(t, "tap", "--file", policyCapture, "--route", routes, "-n", "booksapp", "--to", "svc/"+svc, "-o", "wide")
	if code != 0 {
		t.Fatal(code)
	}
	after, errOut, code := run(t, "tap", "--file", policyCapture, "--route", routes, "--route", file, "-n", "booksapp", "--to", "svc/"+svc, "-o", "wide")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	b, a := reqLines(before), reqLines(after)
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("%d vs %d request lines", len(b), len(a))
	}
	for i := range b {
		switch {
		case strings.Contains(b[i], "route=none proxy_response="):
			if !strings.Contains(a[i], "/"+svc+"-unmatched#rule") {
				t.Errorf("a 404 is not covered:\n%s", a[i])
			}
		case a[i] != b[i]:
			t.Errorf("a routed request moved:\n%s\n%s", b[i], a[i])
		}
	}
}

func reqLines(out string) []string {
	var l []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "req ") {
			l = append(l, line)
		}
	}
	return l
}

// A gRPC policy gets a GRPCRoute naming each service and method.
func TestPolicyModeGRPCRoute(t *testing.T) {
	out, errOut, code := run(t, "unmatched", "--file", policyCapture, "--route", policyRoutes, "-n", "booksapp", "--to", "svc/ratings", "-o", "yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "policy/ratings.golden", out)
	if !strings.Contains(out, "kind: GRPCRoute\n") || !strings.Contains(out, "method: Delete\n") || !strings.Contains(out, "service: ratings.v1.Ratings\n") ||
		strings.Contains(out, "method: Get\n") {
		t.Errorf("GRPCRoute:\n%s", out)
	}
	assertCovers(t, out, policyRoutes, "ratings")
}

// A rule that would take already-routed requests from their rule is left
// out (and said), so applying the proposal moves no routed request; the
// 404s it would have covered stay uncovered.
func TestPolicyModeLeavesOutStealingRules(t *testing.T) {
	out, errOut, code := run(t, "unmatched", "--file", stealCapture, "--route", stealRoutes, "-n", "booksapp", "--to", "svc/books", "-o", "yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "policy/steal.golden", out)
	for _, want := range []string{
		"# HTTPRoute with 1 rule(s) covering 1 of 3 request(s)",
		"# Left out: the rule for GET regex:/books/[^/]+ would take GET /books/77 from HTTPRoute/booksapp/books-v2#rule1.",
		"value: /health\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "value: /books/[^/]+") {
		t.Error("the stealing rule was proposed")
	}
}
