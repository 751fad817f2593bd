package tap_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/internal/clitest"
)

const (
	capture = "../tapsession/testdata/capture.json" // linkerd viz tap -o json, booksapp
	spFile  = "../tapsession/testdata/webapp-sp.yaml"
)

func TestFileWideGolden(t *testing.T) {
	out, errOut, code := run(t, "", "tap", "--file", capture, "--profile", spFile, "-n", "booksapp", "-o", "wide")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "wide.golden", out)
	// The one service without a --profile is reported once.
	if n := strings.Count(errOut, "no --profile file for books.booksapp.svc.cluster.local"); n != 1 {
		t.Errorf("stderr reported books %d times:\n%s", n, errOut)
	}
	for _, want := range []string{
		// drift: the proxy reported another route
		"rt_route=GET /authors/{id} proxy_rt_route=GET /authors\n",
		// a probe to the pod IP names no Service
		":path=/ping src_",
		// the hostile path is escaped, never raw
		`:path=/search/\x1b]0;pwned\x07/x`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.ContainsRune(out, 0x1b) || strings.ContainsRune(out, 0x07) {
		t.Error("control characters reached the output")
	}
}

func TestFileDefaultFormat(t *testing.T) {
	out, errOut, code := run(t, "", "tap", "--file", capture, "--profile", spFile, "-n", "booksapp")
	if code != 0 {
		t.Fatal(code)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 35 {
		t.Fatalf("%d lines, want one per event (34) and the conclusion", len(lines))
	}
	// The probe to the pod IP is not classified: the conclusion says so,
	// on stdout and on stderr (no false all-clear).
	const concl = "1 of 12 requests could not be classified: no Service name in the request: 1 (rt_route=?)"
	if lines[34] != "# "+concl || !strings.Contains(errOut, concl+"\n") {
		t.Errorf("conclusion: stdout %q, stderr %q", lines[34], errOut)
	}
	lines = lines[:34]
	want := []string{
		"req id=3:0 proxy=in  src=10.42.0.20:51000 dst=10.42.0.12:7000 tls=true :method=GET :authority=webapp:7000 :path=/books/1234 rt_route=GET /books/{id}",
		"rsp id=3:0 proxy=in  src=10.42.0.20:51000 dst=10.42.0.12:7000 tls=true :status=200 latency=2735µs rt_route=GET /books/{id}",
		"end id=3:0 proxy=in  src=10.42.0.20:51000 dst=10.42.0.12:7000 tls=true duration=41µs response-length=1540B rt_route=GET /books/{id}",
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d:\n got %q\nwant %q", i, lines[i], w)
		}
	}
	for _, l := range lines {
		switch {
		case strings.Contains(l, ":path=/ping"), strings.Contains(l, "id=3:5 "):
			if !strings.HasSuffix(l, " rt_route=?") {
				t.Errorf("probe line should have an unknown route: %q", l)
			}
		case strings.Contains(l, "id=7:1") && strings.HasPrefix(l, "end"):
			if !strings.Contains(l, " reset-error=2 duration=0µs response-length=0B rt_route=") {
				t.Errorf("reset line: %q", l)
			}
		}
	}
}

// The plugin's own NDJSON replays to the same output, through --file and
// through stdin.
func TestJSONRoundTrip(t *testing.T) {
	first, errOut, code := run(t, "", "tap", "--file", capture, "--profile", spFile, "-n", "booksapp", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := strings.Count(first, "\n"); n != 34 {
		t.Fatalf("%d NDJSON lines, want 34", n)
	}
	path := filepath.Join(t.TempDir(), "capture.ndjson")
	if err := os.WriteFile(path, []byte(first), 0o644); err != nil {
		t.Fatal(err)
	}
	second, _, code := run(t, "", "tap", "--file", path, "--profile", spFile, "-n", "booksapp", "-o", "json")
	if code != 0 || second != first {
		t.Fatalf("replayed NDJSON differs (exit %d)\n--- first\n%s\n--- second\n%s", code, first, second)
	}
	third, _, code := run(t, first, "tap", "--file", "-", "--profile", spFile, "-n", "booksapp", "-o", "json")
	if code != 0 || third != first {
		t.Fatalf("NDJSON from stdin differs (exit %d)", code)
	}
	for _, want := range []string{
		`"rtRoute":"GET /authors/{id}","rtRouteInfo":{"status":"matched","profile":"webapp.booksapp.svc.cluster.local:7000","clientNamespace":"booksapp","proxyRoute":"GET /authors","drift":true}`,
		`"rtRoute":"","rtRouteInfo":{"status":"no-routes","profile":"books.booksapp.svc.cluster.local:7002","clientNamespace":"booksapp"}`,
		`"rtRoute":"","rtRouteInfo":{"status":"unknown","reason":"no Service name in the request"}`,
	} {
		if !strings.Contains(first, want) {
			t.Errorf("NDJSON lacks %s", want)
		}
	}
}

func TestFileFilters(t *testing.T) {
	out, _, code := run(t, "", "tap", "--file", capture, "--profile", spFile, "-n", "booksapp", "--method", "post", "--path", "/books/")
	if code != 0 {
		t.Fatal(code)
	}
	// Three POSTs under /books/, each with rsp and end.
	if n := strings.Count(out, "\n"); n != 9 {
		t.Fatalf("%d lines, want 9:\n%s", n, out)
	}
	out, _, _ = run(t, "", "tap", "--file", capture, "--profile", spFile, "-n", "booksapp", "--to", "svc/books")
	if n := strings.Count(out, "\n"); n != 5 || strings.Contains(out, "proxy=in") {
		t.Fatalf("--to svc/books gave:\n%s", out)
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no target", []string{"tap"}, 2, "name what to tap"},
		{"bad type", []string{"tap", "svc/books"}, 2, `unsupported resource type "svc"`},
		{"bad output", []string{"tap", "--file", capture, "-o", "yaml"}, 2, "unknown output format"},
		{"missing file", []string{"tap", "--file", "nope.json", "--profile", spFile}, 1, "--file: cannot read nope.json"},
		{"bad profile", []string{"tap", "--file", capture, "--profile", capture}, 1, "--profile"},
		{"no cluster", []string{"tap", "--file", capture}, 1, "(or match against a file with --profile)"},
		{"not a capture", []string{"tap", "--file", spFile, "--profile", spFile}, 1, "line 1: expected a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := run(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Fatalf("exit %d, stderr %q; want exit %d mentioning %q on one line", code, errOut, tt.code, tt.msg)
			}
		})
	}
}

// run executes the plugin with no kubeconfig: file mode needs no cluster.
func run(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing"))
	return clitest.Run(stdin, args...)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	clitest.Golden(t, filepath.Join("testdata", name), got)
}
