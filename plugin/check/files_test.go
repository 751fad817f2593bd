package check_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/check"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

const corpus = "../../testdata/profiles"

type jsonOutput struct {
	Findings []struct {
		Code, Level, Message string
		Origin               struct {
			File, Namespace, Name, Route, Field string
			Line                                int
			RouteIndex                          *int
		}
	}
	Summary struct {
		Profiles, Errors, Warnings, Infos int
		FailOn                            string
		Failed                            bool
	}
}

func decode(t *testing.T, out string) jsonOutput {
	t.Helper()
	var o jsonOutput
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	return o
}

func TestFilesText(t *testing.T) {
	out, errOut, code := run(t, "", "check", "-f", corpus, "-n", "books")
	if code != cli.ExitFindings {
		t.Fatalf("exit %d, want %d: %s", code, cli.ExitFindings, errOut)
	}
	golden(t, "corpus-text", out)
	// The summary, then the one error line that explains exit status 3.
	want := "57 errors, 8 warnings, 16 info in 41 ServiceProfiles.\nerror: findings at or above --fail-on error (57 errors, 8 warnings, 16 info)\n"
	if errOut != want {
		t.Errorf("stderr = %q, want %q", errOut, want)
	}
}

func TestFilesJSONContract(t *testing.T) {
	out, _, code := run(t, "", "check", "-f", filepath.Join(corpus, "unreachable.yaml"), "-o", "json")
	if code != cli.ExitFindings {
		t.Fatalf("exit %d", code)
	}
	o := decode(t, out)
	if o.Summary.Profiles != 3 || o.Summary.Errors != 7 || o.Summary.FailOn != "error" || !o.Summary.Failed {
		t.Errorf("summary = %+v", o.Summary)
	}
	var found bool
	for _, f := range o.Findings {
		if f.Code == "route-unreachable" && f.Origin.Name == "shadowed.books.svc.cluster.local" && f.Origin.RouteIndex != nil && *f.Origin.RouteIndex == 1 {
			found = true
			if f.Level != "error" || f.Origin.Line != 11 || f.Origin.Route != "GET /books/new" || f.Origin.Field != "spec.routes[1].condition" ||
				f.Origin.Namespace != "books" || !strings.HasSuffix(f.Origin.File, "unreachable.yaml") {
				t.Errorf("finding = %+v", f)
			}
		}
		if f.Code == "route-name-duplicate" && f.Level != "warning" {
			t.Errorf("level %s", f.Level)
		}
	}
	if !found {
		t.Errorf("route-unreachable on routes[1] missing: %s", out)
	}
	// YAML is the same document.
	y, _, _ := run(t, "", "check", "-f", filepath.Join(corpus, "unreachable.yaml"), "-o", "yaml")
	if !strings.Contains(y, "routeIndex: 1") || !strings.Contains(y, "failOn: error") || !strings.Contains(y, "code: route-unreachable") {
		t.Errorf("yaml output:\n%s", y)
	}
}

func TestFailOn(t *testing.T) {
	onlyWarnings := filepath.Join(corpus, "warnings.yaml")
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"--fail-on", "error"}, cli.ExitOK},
		{nil, cli.ExitOK},
		{[]string{"--fail-on", "warning"}, cli.ExitFindings},
		{[]string{"--fail-on", "info"}, cli.ExitFindings},
	}
	for _, c := range cases {
		_, errOut, code := run(t, "", append([]string{"check", "-f", onlyWarnings}, c.args...)...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d (%s)", c.args, code, c.code, errOut)
		}
	}
	_, errOut, code := run(t, "", "check", "-f", filepath.Join(corpus, "good.yaml"), "--fail-on", "info")
	if code != 0 || errOut != "✔ No problems found in 1 ServiceProfile.\n" {
		t.Errorf("good.yaml: exit %d, stderr %q", code, errOut)
	}
}

func TestStdinAndMultipleFiles(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(corpus, "warnings.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out, _, code := run(t, string(doc), "check", "-f", "-", "-f", filepath.Join(corpus, "good.yaml"), "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d (warnings.yaml has only warnings and infos)", code)
	}
	o := decode(t, out)
	if o.Summary.Profiles != 2 || o.Summary.Warnings == 0 || o.Summary.Errors != 0 {
		t.Errorf("summary %+v", o.Summary)
	}
	text, _, _ := run(t, string(doc), "check", "-f", "-")
	if !strings.Contains(text, "(books/orders.books.svc.cluster.local routes[0] \"POST /orders\", <stdin>:11)") {
		t.Errorf("stdin origin missing:\n%s", text)
	}
}

func TestNoProfilesInFiles(t *testing.T) {
	_, errOut, code := run(t, "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n", "check", "-f", "-")
	if code != 0 || errOut != "No ServiceProfiles found in the given files.\n" {
		t.Errorf("exit %d stderr %q", code, errOut)
	}
}

func TestCouldNotRun(t *testing.T) {
	_, errOut, code := run(t, "", "check", "-f", "does-not-exist.yaml")
	if code != cli.ExitError || !strings.HasPrefix(errOut, "error: cannot read does-not-exist.yaml") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d stderr %q", code, errOut)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"check", "--fail-on", "fatal"},
		{"check", "-o", "wide"},
		{"check", "-o", "markdown"},
		{"check", "-A", "-f", "x.yaml"},
		{"check", "--cluster"},
		{"check", "extra-arg"},
		{"check", "--timeout", "0s"},
	} {
		_, errOut, code := run(t, "", args...)
		if code != cli.ExitUsage || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d stderr %q", args, code, errOut)
		}
	}
}

func TestListCodes(t *testing.T) {
	out, _, code := run(t, "", "check", "--list-codes")
	if code != 0 || !strings.HasPrefix(out, "CODE") || !strings.Contains(out, "route-unreachable") || !strings.Contains(out, "field-pruned") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	md, _, _ := run(t, "", "check", "--list-codes", "-o", "markdown")
	if md != check.CodesMarkdown() {
		t.Error("markdown output differs from CodesMarkdown")
	}
	golden(t, "codes.md", md)
	js, _, _ := run(t, "", "check", "--list-codes", "-o", "json")
	var codes []struct{ Code, Level, Description string }
	if err := json.Unmarshal([]byte(js), &codes); err != nil || len(codes) < 30 {
		t.Fatalf("json codes: %v (%d)", err, len(codes))
	}
	for _, c := range codes {
		if c.Code == "" || c.Description == "" || (c.Level != "error" && c.Level != "warning" && c.Level != "info") {
			t.Errorf("bad code entry %+v", c)
		}
	}
}

// TestREADMECodes keeps the README's table of codes in step with the code:
// the table between the markers must be CodesMarkdown's output.
func TestREADMECodes(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- check-codes:begin -->\n", "<!-- check-codes:end -->"
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("README.md lacks the check-codes:begin/check-codes:end markers")
	}
	if got := s[i+len(begin) : j]; got != check.CodesMarkdown() {
		t.Errorf("README.md's code table is stale: regenerate it with `kubectl profiles check --list-codes -o markdown`")
	}
}

// An empty input is not a clean result: exit 1, one line.
func TestEmptyInputFails(t *testing.T) {
	_, errOut, code := run(t, "", "check", "-f", "-")
	if code != 1 || !strings.Contains(errOut, "no objects in -: nothing was checked") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("empty stdin: exit %d, stderr %q", code, errOut)
	}
	dir := t.TempDir()
	if _, errOut, code := run(t, "", "check", "-f", dir); code != 1 || !strings.Contains(errOut, "nothing was checked") {
		t.Errorf("empty directory: exit %d, stderr %q", code, errOut)
	}
}

// -o completes markdown only where it is accepted: with --list-codes.
func TestOutputCompletion(t *testing.T) {
	for _, c := range []struct {
		args     []string
		markdown bool
	}{
		{[]string{"__complete", "check", "-o", ""}, false},
		{[]string{"__complete", "check", "--list-codes", "-o", ""}, true},
	} {
		out, _, code := run(t, "", c.args...)
		if code != 0 || !strings.Contains(out, "json\n") || strings.Contains(out, "markdown") != c.markdown {
			t.Errorf("%v: exit %d, completions %q", c.args, code, out)
		}
	}
}

// --list-codes checks nothing: files given with it are a usage error, not
// silently ignored.
func TestListCodesWithFiles(t *testing.T) {
	_, errOut, code := run(t, "", "check", "--list-codes", "-f", "../../testdata/profiles/good.yaml")
	if code != cli.ExitUsage || !strings.Contains(errOut, "--list-codes prints the codes and checks nothing") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if out, _, code := run(t, "", "check", "--list-codes"); code != 0 || !strings.Contains(out, "route-unreachable") {
		t.Errorf("--list-codes alone: exit %d", code)
	}
}
