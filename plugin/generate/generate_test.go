package generate_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/gen"
	"github.com/kubectl-profiles/kubectl-profiles/internal/clitest"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/generate"
)

// Every output of generate, against goldens (-update rewrites them).
func TestGenerateGoldens(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"petstore-profile", []string{"svc/petstore", "-n", "shop", "--open-api", "testdata/petstore-v2.yaml"}, 0},
		{"books-profile", []string{"svc/webapp", "-n", "booksapp", "--open-api", "testdata/books-v3.json"}, 0},
		{"books-httproute", []string{"svc/webapp", "-n", "booksapp", "--open-api", "testdata/books-v3.json", "--kind", "httproute", "--port", "7000"}, 0},
		{"petstore-httproute-rule-timeouts", []string{"svc/petstore", "-n", "shop", "--open-api", "testdata/petstore-v2.yaml", "--kind", "httproute", "--rule-timeouts"}, 0},
		{"voting-profile", []string{"svc/voting", "-n", "emojivoto", "--proto", "testdata/voting.proto"}, 0},
		{"voting-grpcroute", []string{"svc/voting", "-n", "emojivoto", "--proto", "testdata/voting.proto", "--kind", "grpcroute"}, 0},
		{"template", []string{"svc/webapp", "-n", "booksapp", "--template"}, 0},
		{"capture", []string{"svc/webapp", "-n", "booksapp", "--from-capture", "testdata/capture.json"}, 0},
		{"capture-evil", []string{"svc/webapp", "-n", "booksapp", "--from-capture", "testdata/capture-evil.json"}, 0},
		{"capture-evil-httproute", []string{"svc/webapp", "-n", "booksapp", "--from-capture", "testdata/capture-evil.json", "--kind", "httproute"}, 0},
		{"capture-evil-only", []string{"svc/webapp", "-n", "booksapp", "--from-capture", "testdata/evil.ndjson"}, 1},
		{"usage-two-sources", []string{"svc/webapp", "--template", "--proto", "x.proto"}, 2},
		{"usage-grpc-openapi", []string{"svc/webapp", "--open-api", "x.yaml", "--kind", "grpcroute"}, 2},
		{"missing-file", []string{"svc/webapp", "--open-api", "testdata/nope.yaml"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := clitest.Run("", append([]string{"generate"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			clitest.Golden(t, "testdata/"+tc.name+".golden", "== stdout\n"+out+"== stderr\n"+errOut)
		})
	}
}

// A spec whose timeout cannot be written for HTTPRoutes fails with one line
// and prints nothing.
func TestGenerateRefusesUnwritableTimeout(t *testing.T) {
	dir := t.TempDir()
	spec := `{"swagger":"2.0","paths":{"/a":{"get":{"x-linkerd-timeout":"1500us"}}}}`
	if err := os.WriteFile(dir+"/s.json", []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := clitest.Run("", "generate", "svc/a", "--open-api", dir+"/s.json", "--kind", "httproute")
	if code != 1 || out != "" || !strings.Contains(errOut, "sub-millisecond") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("code %d\nstdout %q\nstderr %q", code, out, errOut)
	}
}

// The ServiceProfile read from stdin round-trips through check.
func TestGeneratedProfilePassesCheck(t *testing.T) {
	out, _, code := clitest.Run("", "generate", "svc/webapp", "-n", "booksapp", "--open-api", "testdata/books-v3.json")
	if code != 0 {
		t.Fatal(code)
	}
	_, errOut, code := clitest.Run(out, "check", "-f", "-", "--fail-on", "warning")
	if code != 0 {
		t.Fatalf("check exit %d: %s", code, errOut)
	}
}

// The verification inside the command: routes in an order where one
// shadows another (what Order prevents) fail check (route-unreachable) and
// the proxy-matching round trip, for every output kind.
func TestGenerateVerificationCatchesShadowing(t *testing.T) {
	eps := []gen.Endpoint{{Method: "GET", Path: "/books/{id}"}, {Method: "GET", Path: "/books/new"}}
	tgt := gen.Target{Service: "webapp", Namespace: "booksapp"}
	for _, kind := range []string{generate.KindServiceProfile, generate.KindHTTPRoute} {
		res, err := generate.Generate(tgt, kind, eps, false, false)
		if err != nil {
			t.Fatal(err)
		}
		all := strings.Join(res.Problems, "\n")
		if !strings.Contains(all, "[route-unreachable]") {
			t.Errorf("%s: no check finding in %q", kind, all)
		}
		if kind == generate.KindServiceProfile && !strings.Contains(all, `GET /books/new gets route "GET /books/{id}"`) {
			t.Errorf("%s: no round-trip failure in %q", kind, all)
		}
	}
	ordered, _ := gen.Order(eps)
	res, err := generate.Generate(tgt, generate.KindHTTPRoute, ordered, false, false)
	if err != nil || len(res.Problems) > 0 {
		t.Fatalf("ordered: %v %q", err, res.Problems)
	}
}

// A capture whose requests to the Service hold a path no request can have
// (control characters: QA's evil.ndjson) or a method no route can name
// ("get", "G ET"): they are left out, counted in one note per reason, and
// the rest of the capture still gives its routes; never the internal-error
// path ("report this"), never a raw control character or a header value.
func TestGenerateCaptureSkipsUnroutableRequests(t *testing.T) {
	for _, tc := range []struct {
		file  string
		code  int
		notes []string
	}{
		{"testdata/capture-evil.json", 0, []string{
			"note: 2 request(s) to webapp.booksapp in the capture have a method no route can name (not an HTTP token, or not in the upper case the destination controller gives route methods): skipped, no route can match them\n",
			"note: 1 request(s) to webapp.booksapp in the capture have a path no request can have (it holds a control character or a space, or lacks the leading /): skipped, no route can match them\n",
		}},
		{"testdata/evil.ndjson", 1, []string{
			"error: testdata/evil.ndjson: no request to webapp.booksapp in the capture that a route can match (1 other request(s); 1 with a path no request can have (it holds a control character or a space, or lacks the leading /)): nothing to generate\n",
		}},
	} {
		for _, kind := range []string{generate.KindServiceProfile, generate.KindHTTPRoute} {
			out, errOut, code := clitest.Run("", "generate", "svc/webapp", "-n", "booksapp", "--from-capture", tc.file, "--kind", kind)
			if code != tc.code {
				t.Fatalf("%s %s: exit %d, want %d: %s", tc.file, kind, code, tc.code, errOut)
			}
			for _, n := range tc.notes {
				if !strings.Contains(errOut, n) {
					t.Errorf("%s %s: stderr lacks %q:\n%s", tc.file, kind, n, errOut)
				}
			}
			all := out + errOut
			for _, bad := range []string{"report this", "SECRET", "pwned", "RED", "\x1b", "\u202e", "\u009b", "\a", "get /", "G ET"} {
				if strings.Contains(all, bad) {
					t.Errorf("%s %s: output holds %q:\n%s", tc.file, kind, bad, all)
				}
			}
			if code == 0 && !strings.Contains(out, "GET /books/{id}") && !strings.Contains(out, "/books/[^/]+") {
				t.Errorf("%s %s: the rest of the capture gave no routes:\n%s", tc.file, kind, out)
			}
		}
	}
}

// A captured path over template.MaxPathLen ends its template in {rest}
// (anything, slashes included); as an endpoint parameter that would be one
// segment, so the route would not match the requests it was made for. Such
// requests are counted with those that got no template, as "/{rest}" ones.
func TestFromCaptureLeavesOutOverlongPaths(t *testing.T) {
	var b strings.Builder
	for i, p := range []string{"/books", "/a/b/" + strings.Repeat("z", 1100) + "/c", "/" + strings.Repeat("y", 1100)} {
		fmt.Fprintf(&b, `{"source":{"ip":"10.42.0.20","port":50000,"metadata":{"namespace":"booksapp"}},"destination":{"ip":"10.42.0.30","port":7000,"metadata":{"namespace":"booksapp","service":"webapp"}},"proxyDirection":"OUTBOUND","requestInitEvent":{"id":{"base":1,"stream":%d},"method":"GET","scheme":"HTTP","authority":"webapp.booksapp:7000","path":%q}}`+"\n", i, p)
	}
	spec, err := generate.FromCapture(strings.NewReader(b.String()), gen.Target{Service: "webapp", Namespace: "booksapp", ClusterDomain: "cluster.local"})
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Endpoints) != 1 || spec.Endpoints[0].Path != "/books" {
		t.Errorf("endpoints %v, want GET /books only", spec.Endpoints)
	}
	want := "2 request(s) got no template (too many distinct templates, or paths over 1024 bytes): no route for them"
	if strings.Join(spec.Notes, "\n") != want {
		t.Errorf("notes %q, want %q", spec.Notes, want)
	}
}

// An HTTPRoute can match only the nine methods of the Gateway API's enum (the
// API server rejects the route otherwise): a captured extension method
// fails --kind httproute with one line that names the way out, and a
// ServiceProfile takes it.
func TestGenerateHTTPRouteRefusesExtensionMethod(t *testing.T) {
	dir := t.TempDir()
	ev := `{"source":{"ip":"10.42.0.20","port":50000,"metadata":{"namespace":"booksapp"}},"destination":{"ip":"10.42.0.30","port":7000,"metadata":{"namespace":"booksapp","service":"webapp"}},"proxyDirection":"OUTBOUND","requestInitEvent":{"id":{"base":1,"stream":1},"method":"PROPFIND","scheme":"HTTP","authority":"webapp.booksapp:7000","path":"/dav"}}` + "\n"
	if err := os.WriteFile(dir+"/c.json", []byte(ev), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := clitest.Run("", "generate", "svc/webapp", "-n", "booksapp", "--from-capture", dir+"/c.json", "--kind", "httproute")
	if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 ||
		!strings.Contains(errOut, "error: PROPFIND /dav: an HTTPRoute cannot match method PROPFIND (the Gateway API allows GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE and PATCH): generate a ServiceProfile (--kind serviceprofile), which can") {
		t.Fatalf("code %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	out, errOut, code = clitest.Run("", "generate", "svc/webapp", "-n", "booksapp", "--from-capture", dir+"/c.json")
	if code != 0 || !strings.Contains(out, "method: PROPFIND") {
		t.Fatalf("serviceprofile: code %d\n%s%s", code, out, errOut)
	}
}
