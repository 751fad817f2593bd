package check_test

import (
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

// An input over the run's bound is one error line and exit 1, not a broken
// document nor a process that grows until it is killed (40 MiB on one line
// used to be read whole, then reported as a finding).
func TestInputOverBound(t *testing.T) {
	out, errOut, code := run(t, strings.Repeat("x", 40<<20), "check", "-f", "-")
	if code != cli.ExitError || out != "" || errOut != "error: stdin: input larger than 32 MiB (the limit keeps memory bounded): check fewer or smaller files at once\n" {
		t.Errorf("exit %d stdout %.200q stderr %.300q", code, out, errOut)
	}
}

// DEL, C1 and bidi characters in a profile: the control plane decodes it
// (no false profile-undecodable hiding the real findings), and -o yaml and
// -o json carry the strings, escaped (they used to fail the whole output).
func TestControlCharactersInProfile(t *testing.T) {
	const sp = `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: webapp.books.svc.cluster.local, namespace: books}
spec:
  routes:
  - name: "GET \x7f\u009b[31m\u202e"
    condition: {method: GET, pathRegex: /books}
    timeout: 10 s
`
	out, errOut, code := run(t, sp, "check", "-f", "-", "-o", "json")
	if code == cli.ExitError {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	o := decode(t, out)
	codes := map[string]bool{}
	for _, f := range o.Findings {
		codes[f.Code] = true
	}
	if codes["profile-undecodable"] || !codes["timeout-unparsable"] {
		t.Errorf("codes = %v, want timeout-unparsable and no profile-undecodable", codes)
	}
	if !strings.Contains(out, `GET \u007f\u009b[31m\u202e`) {
		t.Errorf("JSON does not carry the route name escaped:\n%s", out)
	}
	y, errOut, code := run(t, sp, "check", "-f", "-", "-o", "yaml")
	if code == cli.ExitError || !strings.Contains(y, `route: "GET \x7F\x9B[31m\u202e"`) {
		t.Errorf("-o yaml: exit %d stderr %q\n%s", code, errOut, y)
	}
}

// A ServiceProfile without apiVersion was skipped as if absent ("No
// ServiceProfiles found"); the API server rejects it, so check says so.
func TestProfileWithoutAPIVersion(t *testing.T) {
	const sp = "kind: ServiceProfile\nmetadata: {name: webapp.books.svc.cluster.local, namespace: books}\nspec:\n  routes:\n  - name: a\n    condition: {method: GET}\n"
	out, errOut, code := run(t, sp, "check", "-f", "-", "-o", "json")
	o := decode(t, out)
	if code != cli.ExitFindings || o.Summary.Profiles != 1 || len(o.Findings) == 0 || o.Findings[0].Code != "schema-invalid" || !strings.Contains(o.Findings[0].Message, "apiVersion") {
		t.Errorf("exit %d stderr %q findings %+v", code, errOut, o.Findings)
	}
}
