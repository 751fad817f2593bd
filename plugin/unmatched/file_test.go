package unmatched_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/internal/clitest"
)

const (
	capture = "../tapsession/testdata/capture.json" // linkerd viz tap -o json, booksapp
	spFile  = "../tapsession/testdata/webapp-sp.yaml"
)

// probe is what the capture's one request to a pod IP gives: the conclusion
// of every run over it says so (no false all-clear).
const probe = "1 of 10 requests could not be classified: no Service name in the request: 1"

// unroutable adds the capture's request to webapp whose path holds an ESC
// (no request can have it, so no route is proposed for it) to probe, when
// the run looks at webapp's requests.
const unroutable = "2 of 10 requests could not be classified: a path no request can have (it holds a control character or a space, or lacks the leading /): 1, no Service name in the request: 1"

func TestTableGolden(t *testing.T) {
	out, errOut, code := run(t, "unmatched", "--file", capture, "--profile", spFile, "-n", "booksapp")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "table.golden", out)
	want := "read 10 requests from ../tapsession/testdata/capture.json: 3 matched a route, 5 unmatched, 2 not classified (a path no request can have (it holds a control character or a space, or lacks the leading /): 1, no Service name in the request: 1), 2 ignored (other direction or Service)\n"
	if errOut != want {
		t.Errorf("stderr:\n got %q\nwant %q", errOut, want)
	}
}

func TestYAMLGolden(t *testing.T) {
	out, errOut, code := run(t, "unmatched", "--file", capture, "--profile", spFile, "-n", "booksapp", "-o", "yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "profile.golden", out)
	sp, err := profile.Decode([]byte(out))
	if err != nil {
		t.Fatalf("output is not a ServiceProfile: %v", err)
	}
	if sp.Name != "webapp.booksapp.svc.cluster.local" || sp.Namespace != "booksapp" || len(sp.Spec.Routes) != 7 {
		t.Fatalf("got %s/%s with %d routes", sp.Namespace, sp.Name, len(sp.Spec.Routes))
	}
	// The file's routes stay first, in order.
	for i, name := range []string{"GET /", "GET /books/{id}", "POST /books", "GET /authors/{id}"} {
		if sp.Spec.Routes[i].Name != name {
			t.Errorf("route %d = %q, want %q", i, sp.Spec.Routes[i].Name, name)
		}
	}

	// Applying the printed profile leaves nothing unmatched.
	path := filepath.Join(t.TempDir(), "merged.yaml")
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = run(t, "unmatched", "--file", capture, "--profile", path, "-n", "booksapp")
	if code != 0 || out != "# "+unroutable+"\n" || !strings.Contains(errOut, "8 matched a route, 0 unmatched") ||
		!strings.Contains(errOut, "no unmatched requests among the 8 classified; "+unroutable+"\n") {
		t.Fatalf("after applying: exit %d\n%s%s", code, out, errOut)
	}
}

// Outbound: --to svc/books selects the webapp's calls to books, which has
// no profile in the files, so every request is unmatched.
func TestOutboundNoProfile(t *testing.T) {
	out, errOut, code := run(t, "unmatched", "--file", capture, "--profile", spFile, "-n", "booksapp", "--to", "svc/books", "-o", "yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "books.golden", out)
	if !strings.Contains(errOut, "read 2 requests") || !strings.Contains(errOut, "0 matched a route, 2 unmatched") {
		t.Errorf("stderr: %s", errOut)
	}
}

func TestRequestsLimitAndService(t *testing.T) {
	// The first 2 inbound requests: one matched, one unmatched (its 303
	// response still counted).
	out, errOut, code := run(t, "unmatched", "--file", capture, "--profile", spFile, "-n", "booksapp", "--requests", "2")
	if code != 0 || !strings.Contains(errOut, "read 2 requests") || !strings.Contains(out, "303=1") || strings.Count(out, "\n") != 2 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	// A Service with no traffic.
	out, errOut, code = run(t, "unmatched", "--file", capture, "--profile", spFile, "-n", "booksapp", "--service", "authors")
	if code != 0 || out != "# "+probe+"\n" || !strings.Contains(errOut, "no unmatched requests among the 9 classified") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"unmatched"},
		{"unmatched", "--file", capture, "-o", "json"},
		{"unmatched", "deploy/web", "--requests", "-1"},
		{"unmatched", "deploy/web", "--service", "a/b"},
	} {
		if _, errOut, code := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, code, errOut)
		}
	}
}

// run executes the plugin with no kubeconfig: file mode needs no cluster.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing"))
	return clitest.Run("", args...)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	clitest.Golden(t, filepath.Join("testdata", name), got)
}
