package unmatched_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapcapture"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// A run in which no request could be classified has no result: exit 1,
// never "no unmatched requests"; stdout says what could not be classified.
func TestNothingClassifiedFails(t *testing.T) {
	// Only the probe to the pod IP: it names no Service.
	out, errOut, code := run(t, "unmatched", "--file", capture, "--profile", spFile, "-n", "booksapp", "--authority", "10.42.0.12:7000")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	if out != "# 1 of 1 requests could not be classified: no Service name in the request: 1\n" {
		t.Errorf("stdout %q", out)
	}
	if strings.Contains(errOut, "no unmatched requests") ||
		!strings.Contains(errOut, "error: none of the 1 requests could be classified (no Service name in the request: 1)") {
		t.Errorf("stderr:\n%s", errOut)
	}
	if n := strings.Count(errOut, "\n"); n != 2 { // the summary and the error
		t.Errorf("%d stderr lines:\n%s", n, errOut)
	}
}

// A run that saw no request is not a clean result either.
func TestNothingSeenFails(t *testing.T) {
	out, errOut, code := run(t, "unmatched", "--file", capture, "--profile", spFile, "-n", "booksapp", "--path", "/nowhere")
	if code != 1 || out != "" {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	if strings.Contains(errOut, "no unmatched requests") ||
		!strings.Contains(errOut, "error: no requests in ../tapsession/testdata/capture.json (after the filters): nothing was classified") {
		t.Errorf("stderr:\n%s", errOut)
	}
	// Requests that were all in the other direction: the error says how to
	// see them.
	_, errOut, code = run(t, "unmatched", "--file", capture, "--profile", spFile, "-n", "booksapp", "--authority", "books:7002")
	if code != 1 || !strings.Contains(errOut, "2 outbound requests were left out: without --to only the requests the workload serves count (add --to") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
}

// writeCapture writes n inbound requests to webapp (named by an FQDN
// authority, so each is classified), with paths from path(i).
func writeCapture(t *testing.T, n int, path func(i int) string) string {
	t.Helper()
	var b []byte
	for i := 0; i < n; i++ {
		ev := tapclient.Event{Direction: tapclient.DirectionInbound, Kind: tapclient.KindRequest,
			ID:          tapclient.StreamID{Base: 1, Stream: uint64(i)},
			Source:      tapclient.Endpoint{IP: netip.MustParseAddr("10.42.0.20"), Port: 51000, Labels: map[string]string{"namespace": "booksapp"}},
			Destination: tapclient.Endpoint{IP: netip.MustParseAddr("10.42.0.12"), Port: 7000, Labels: map[string]string{"namespace": "booksapp"}},
			Method:      "GET", Scheme: "http", Authority: "webapp.booksapp.svc.cluster.local:7000", Path: path(i)}
		var err error
		if b, err = tapcapture.AppendEvent(b, &ev, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), "capture.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// More distinct templates than groups: the header says how many of the
// unmatched requests the proposed routes cover, and how many fell into
// "* (other)" (issue 15.9: "1000 route(s) for 1000000 requests" while
// they covered 0.1%).
func TestYAMLSaysWhatTheRoutesCover(t *testing.T) {
	const n = 1300 // distinct literal first segments: one template each
	path := writeCapture(t, n, func(i int) string { return fmt.Sprintf("/word%sx/list", base26(i)) })
	out, errOut, code := run(t, "unmatched", "--file", path, "--profile", spFile, "-o", "yaml")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	head := strings.SplitN(out, "\n", 3)
	want := []string{
		"# 1000 route(s) covering 1000 of 1300 unmatched request(s) to webapp.booksapp.svc.cluster.local, from kubectl profiles unmatched.",
		`# 300 request(s) fell into "* (other)" (templates beyond the first 1000, or an overlong method): no route is proposed for them; narrow the run (--path, --method) and run again.`,
	}
	for i, w := range want {
		if head[i] != w {
			t.Errorf("line %d:\n got %q\nwant %q", i+1, head[i], w)
		}
	}
}

func base26(i int) string {
	s := ""
	for {
		s = string(rune('a'+i%26)) + s
		i /= 26
		if i == 0 {
			return s
		}
	}
}

// --profile reads every profile of a multi-document file (it used only the
// first, silently) and List objects, as check -f does.
func TestProfileFileWithSeveralProfiles(t *testing.T) {
	webapp, err := os.ReadFile(spFile)
	if err != nil {
		t.Fatal(err)
	}
	books := `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: books.booksapp.svc.cluster.local, namespace: booksapp}
spec:
  routes: [{name: GET /books.json, condition: {method: GET, pathRegex: /books\.json}}]
`
	dir := t.TempDir()
	multi := filepath.Join(dir, "multi.yaml")
	if err := os.WriteFile(multi, []byte(books+"---\n"+string(webapp)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, "unmatched", "--file", capture, "--profile", multi, "-n", "booksapp")
	if code != 0 || !strings.Contains(errOut, "3 matched a route, 5 unmatched") || strings.Contains(errOut, "no --profile file for webapp") {
		t.Errorf("multi-document: exit %d\n%s", code, errOut)
	}
	// books' profile, the first document, is used too.
	_, errOut, code = run(t, "unmatched", "--file", capture, "--profile", multi, "-n", "booksapp", "--to", "svc/books")
	if code != 0 || !strings.Contains(errOut, "1 matched a route, 1 unmatched") {
		t.Errorf("outbound to books: exit %d\n%s", code, errOut)
	}

	list := filepath.Join(dir, "list.yaml")
	items := "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(strings.TrimSpace(string(webapp)), "\n", "\n  ") + "\n"
	if err := os.WriteFile(list, []byte(items), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = run(t, "unmatched", "--file", capture, "--profile", list, "-n", "booksapp")
	if code != 0 || !strings.Contains(errOut, "3 matched a route, 5 unmatched") {
		t.Errorf("List: exit %d\n%s", code, errOut)
	}
}
