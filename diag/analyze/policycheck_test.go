package analyze

import (
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// checkPolicyString runs CheckPolicy on the documents of a YAML stream, as
// check -f does (routes as written, no cluster).
func checkPolicyString(t *testing.T, yaml string) []Issue {
	t.Helper()
	docs, err := source.Load("t.yaml", strings.NewReader(yaml))
	if err != nil {
		t.Fatal(err)
	}
	var ds []*source.Document
	for i := range docs {
		ds = append(ds, &docs[i])
	}
	var out []Issue
	for _, r := range CheckPolicy(ds, PolicyOptions{DefaultNamespace: "booksapp", AsWritten: true}) {
		out = append(out, r.Issues...)
	}
	return out
}

func portlessRoute(name, kind, parent, rules string) string {
	return "apiVersion: gateway.networking.k8s.io/v1\nkind: " + kind + "\nmetadata: {name: " + name + ", namespace: booksapp}\nspec:\n  parentRefs: [{group: core, kind: Service, name: " + parent + "}]\n" + rules
}

// TestCheckPolicyPortlessParent: a parentRef without port applies to every
// port of the Service (reference §6.1). When neither the files nor the
// cluster hold the Service, its ports are unknown, but what does not depend
// on the port is still judged: a regex the controller rejects drops the
// route on every port. Messages never name a port that was made up.
func TestCheckPolicyPortlessParent(t *testing.T) {
	bad := portlessRoute("books-x", "HTTPRoute", "books", "  rules:\n  - matches: [{path: {type: RegularExpression, value: \"/x\\e[2J\"}}]\n")
	is := checkPolicyString(t, bad)
	if got := issuesOf(Result{Issues: is}, CodeRouteDroppedByController); len(got) != 1 || !strings.Contains(got[0].Message, "unclosed character class") {
		t.Errorf("port-less route with a regex the controller rejects: %+v", is)
	}
	// The same route with a port, and next to its Service, says the same.
	withPort := strings.Replace(bad, "name: books}", "name: books, port: 7001}", 1)
	svc := "apiVersion: v1\nkind: Service\nmetadata: {name: books, namespace: booksapp}\nspec: {ports: [{port: 7001}, {port: 7002}]}\n"
	for _, doc := range []string{withPort, svc + "---\n" + bad} {
		if got := issuesOf(Result{Issues: checkPolicyString(t, doc)}, CodeRouteDroppedByController); len(got) != 1 {
			t.Errorf("route-dropped-by-controller %d times in\n%s", len(got), doc)
		}
	}

	// An ExternalName or headless parent in the files: the controller
	// accepts no route for a Service without a ClusterIP (NoMatchingParent),
	// so the route is not accepted, and no port-not-on-service about a
	// made-up port.
	ext := "apiVersion: v1\nkind: Service\nmetadata: {name: books, namespace: booksapp}\nspec: {type: ExternalName, externalName: example.org}\n"
	headless := "apiVersion: v1\nkind: Service\nmetadata: {name: books, namespace: booksapp}\nspec: {clusterIP: None, ports: [{port: 7001}]}\n"
	for _, parent := range []string{ext, headless} {
		is = checkPolicyString(t, parent+"---\n"+bad)
		na := issuesOf(Result{Issues: is}, CodeRouteNotAccepted)
		if len(na) == 0 || !strings.Contains(na[0].Message, "parent service must have a ClusterIP") || len(issuesOf(Result{Issues: is}, CodePortNotOnService)) != 0 {
			t.Errorf("route on a Service without a ClusterIP: %+v", is)
		}
	}
	if na := issuesOf(Result{Issues: checkPolicyString(t, svc+"---\n"+bad)}, CodeRouteNotAccepted); len(na) != 0 {
		t.Errorf("near miss: a Service with a ClusterIP accepts the route: %+v", na)
	}

	// No catch-all: true on every port the route applies to.
	is = checkPolicyString(t, portlessRoute("only-a", "HTTPRoute", "books", "  rules: [{matches: [{path: {type: PathPrefix, value: /a}}]}]\n"))
	got := issuesOf(Result{Issues: is}, CodeNoCatchAll)
	if len(got) != 1 || !strings.Contains(got[0].Message, "on every port") || strings.Contains(got[0].Message, "port 0") {
		t.Errorf("no catch-all on a port-less route: %+v", is)
	}
	// A port-less GRPCRoute hides the port-less HTTPRoute everywhere.
	is = checkPolicyString(t, portlessRoute("h", "HTTPRoute", "books", "  rules: [{}]\n")+"\n---\n"+
		portlessRoute("g", "GRPCRoute", "books", "  rules: [{}]\n"))
	got = issuesOf(Result{Issues: is}, CodeGRPCRouteHides)
	if len(got) != 1 || !strings.Contains(got[0].Message, "hidden on every port") {
		t.Errorf("GRPCRoute hiding a port-less HTTPRoute: %+v", is)
	}
	// Near miss: a clean port-less route gives nothing.
	if is := checkPolicyString(t, portlessRoute("fine", "HTTPRoute", "books", "  rules: [{}]\n")); len(is) != 0 {
		t.Errorf("clean port-less route: %+v", is)
	}
	// Other routes name ports of the unknown Service: the port-less route is
	// judged on those ports (no made-up one).
	other := strings.Replace(portlessRoute("p", "HTTPRoute", "books", "  rules: [{}]\n"), "name: books}", "name: books, port: 7002}", 1)
	is = checkPolicyString(t, bad+"---\n"+other)
	if got := issuesOf(Result{Issues: is}, CodeRouteDroppedByController); len(got) != 1 {
		t.Errorf("with another route: %+v", is)
	}
	for _, i := range is {
		if strings.Contains(i.Message, "port 0") {
			t.Errorf("made-up port: %s", i.Message)
		}
	}
}
