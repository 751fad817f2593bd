package unmatched_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/internal/clitest"
)

// The reasons requests no route can match are left out for (diag/template's
// Unroutable), as the summary and the "# " line say them.
const (
	pathReason   = "a path no request can have (it holds a control character or a space, or lacks the leading /)"
	methodReason = "a method no route can name (not an HTTP token, or not in the upper case the destination controller gives route methods)"
)

// A capture whose requests to webapp hold a path no request can have
// (QA's evil.ndjson: control characters; a space; no leading /) or a method
// no route can name ("get", "G ET"): they get no route (it would match no
// request, or other requests than them), and they are counted with the
// requests not classified, with the reason (no false all-clear). The
// proposed profile passes check (no route-unreachable), and neither a raw
// control character nor a header value is printed.
func TestUnroutableRequestsAreCountedNotProposed(t *testing.T) {
	const file = "testdata/capture-evil.json" // ../tapsession/testdata/capture.json, evil.ndjson, 4 more requests to webapp
	reasons := "8 not classified (" + pathReason + ": 4, " + methodReason + ": 2, no Service name in the request: 2)"
	for _, o := range []string{"table", "yaml"} {
		out, errOut, code := run(t, "unmatched", "--file", file, "--profile", spFile, "-n", "booksapp", "-o", o)
		if code != 0 {
			t.Fatalf("-o %s: exit %d\n%s%s", o, code, out, errOut)
		}
		if !strings.Contains(errOut, "3 matched a route, 5 unmatched, "+reasons) {
			t.Errorf("-o %s: summary:\n%s", o, errOut)
		}
		if !strings.Contains(out, "# 8 of 16 requests could not be classified: "+pathReason+": 4, "+methodReason+": 2, no Service name in the request: 2\n") {
			t.Errorf("-o %s: stdout does not say what was left out:\n%s", o, out)
		}
		all := out + errOut
		for _, bad := range []string{"SECRET", "pwned", "RED", "search", "\x1b", "\a", "\u202e", "\u009b", "get", "G ET", "/a b"} {
			if strings.Contains(all, bad) {
				t.Errorf("-o %s: output holds %q:\n%s", o, bad, all)
			}
		}
		if o != "yaml" {
			continue
		}
		if !strings.Contains(out, "# 3 route(s) covering 5 of 5 unmatched request(s)") {
			t.Errorf("yaml:\n%s", out)
		}
		t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing"))
		checkOut, checkErr, checkCode := clitest.Run(out, "check", "-f", "-", "--fail-on", "error")
		if checkCode != 0 || strings.Contains(checkOut+checkErr, "route-unreachable") {
			t.Errorf("check of the proposed profile: exit %d\n%s%s", checkCode, checkOut, checkErr)
		}
	}
}

// When every request no route can match is all there is, the run has no
// result (exit 1, as when nothing was classified), with the reason.
func TestOnlyUnroutableRequestsFail(t *testing.T) {
	// The capture's one request under /search has an ESC in its path.
	out, errOut, code := run(t, "unmatched", "--file", capture, "--profile", spFile, "-n", "booksapp", "--path", "/search", "-o", "yaml")
	if code != 1 || out != "# 1 of 1 requests could not be classified: "+pathReason+": 1\n" {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	if !strings.HasSuffix(errOut, "error: none of the 1 requests could be classified ("+pathReason+": 1), so nothing is known about unmatched ones: no route can match such a request: is this a capture of real traffic?\n") {
		t.Errorf("stderr:\n%s", errOut)
	}
	// QA's capture: its request to webapp has control characters in its
	// path, its other names no Service (an ESC in its authority).
	out, errOut, code = run(t, "unmatched", "--file", "testdata/evil.ndjson", "--profile", spFile, "-n", "booksapp", "-o", "yaml")
	if code != 1 || !strings.Contains(errOut, "error: none of the 2 requests could be classified ("+pathReason+": 1, no Service name in the request: 1)") {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, bad := range []string{"SECRET", "pwned", "\x1b", "pathRegex"} {
		if strings.Contains(out+errOut, bad) {
			t.Errorf("output holds %q:\n%s%s", bad, out, errOut)
		}
	}
}
