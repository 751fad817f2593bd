package tap_test

import (
	"encoding/json"
	"strings"
	"testing"
)

const (
	policyCapture = "testdata/policy/capture.json" // outbound from webapp: authors (HTTPRoutes), ratings (GRPCRoute), webapp (ServiceProfile)
	policyRoutes  = "testdata/policy/routes.yaml"
)

// Offline policy mode: --route files stand for the policy controller and
// --profile for the destination; each request gets the mode the proxy uses
// and, in policy mode, the rule it picks by Gateway API precedence, or the
// 404 the proxy answers itself.
func TestPolicyModeFromFiles(t *testing.T) {
	out, errOut, code := run(t, "", "tap", "--file", policyCapture, "--route", policyRoutes, "--profile", spFile, "-n", "booksapp", "-o", "wide")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "policy/wide.golden", out)
	for path, want := range map[string]string{
		"/authors/12":                " mode=policy route=HTTPRoute/booksapp/authors-routes#rule1\n",
		"/authors.json":              " mode=policy route=HTTPRoute/booksapp/authors-routes#rule2\n", // Exact /authors.json (13) beats PathPrefix /authors (8)
		"/authors/12/edit":           " route=HTTPRoute/booksapp/authors-routes#rule3 backend_failure=\"1/4 of requests: missing port for backend Service authors-canary\"\n",
		"/authors/77":                " route=HTTPRoute/booksapp/authors-admin#rule1\n", // PathPrefix /authors/ with a header beats /authors
		"/search":                    " route=HTTPRoute/booksapp/authors-routes#rule4\n",
		"/static/app.css":            " mode=policy route=none proxy_response=404\n",
		"/authors-admin/3":           " mode=policy route=none proxy_response=404\n", // near miss of PathPrefix /authors
		"/ratings.v1.Ratings/Get":    " route=GRPCRoute/booksapp/ratings#rule1\n",
		"/ratings.v1.Ratings/Delete": " route=none proxy_response=grpc-status-5\n",
		"/books/5 ":                  " rt_route=GET /books/{id} mode=serviceprofile\n",
	} {
		found := false
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "req ") && strings.Contains(line+" ", ":path="+strings.TrimSpace(path)+" ") {
				found = true
				if !strings.HasSuffix(line+"\n", want) {
					t.Errorf("%s: %s\nwant suffix %q", path, line, want)
				}
			}
		}
		if !found {
			t.Errorf("no request line for %s", path)
		}
	}
	// Policy-routed requests carry no rt_route: the proxy reports none.
	if strings.Contains(out, "rt_route=? ") {
		t.Error("policy-routed requests shown as unknown")
	}
	if strings.Contains(out, "s3cr3t") || strings.Contains(out, "session=abc") {
		t.Error("credentials in the output")
	}
}

func TestPolicyModeJSON(t *testing.T) {
	out, errOut, code := run(t, "", "tap", "--file", policyCapture, "--route", policyRoutes, "-n", "booksapp", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "policy/json.golden", out)
	type info struct {
		Status, Mode, Route, ProxyResponse, BackendFailure string
	}
	var got []info
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var obj struct {
			Req  *struct{ Path string } `json:"requestInitEvent"`
			Info info                   `json:"rtRouteInfo"`
		}
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatal(err)
		}
		if obj.Req != nil {
			got = append(got, obj.Info)
		}
	}
	if len(got) != 11 {
		t.Fatalf("%d requests", len(got))
	}
	if g := got[3]; g.Status != "policy-404" || g.Mode != "policy" || g.ProxyResponse != "404" || g.Route != "" {
		t.Errorf("404: %+v", g)
	}
	if g := got[2]; g.Status != "policy-matched" || g.Route != "HTTPRoute/booksapp/authors-routes#rule3" || !strings.Contains(g.BackendFailure, "authors-canary") {
		t.Errorf("invalid backend: %+v", g)
	}
	// Without --profile, webapp has no ServiceProfile: policy mode, the
	// default route (no HTTPRoute names it).
	if g := got[10]; g.Status != "policy-matched" || g.Route != "default/http" {
		t.Errorf("default route: %+v", g)
	}
	if !strings.Contains(errOut, "no --route file names Service booksapp/webapp") {
		t.Errorf("stderr: %s", errOut)
	}
}

// Credential headers are redacted in every output unless asked for.
func TestCredentialsRedacted(t *testing.T) {
	for _, o := range []string{"json", "wide"} {
		out, _, code := run(t, "", "tap", "--file", policyCapture, "--route", policyRoutes, "-n", "booksapp", "-o", o)
		if code != 0 || strings.Contains(out, "s3cr3t") || strings.Contains(out, "session=abc") || strings.Contains(out, "id=42") {
			t.Errorf("-o %s: exit %d, credentials shown", o, code)
		}
	}
	out, _, _ := run(t, "", "tap", "--file", policyCapture, "--route", policyRoutes, "-n", "booksapp", "-o", "json")
	if strings.Count(out, `"valueStr":"\u003credacted\u003e"`) != 3 { // authorization, cookie, set-cookie
		t.Errorf("want 3 redacted values:\n%s", out)
	}
	// Near miss: other headers are kept.
	if !strings.Contains(out, `{"name":"x-canary","valueStr":"1"}`) {
		t.Error("x-canary was redacted")
	}
	out, _, _ = run(t, "", "tap", "--file", policyCapture, "--route", policyRoutes, "-n", "booksapp", "-o", "json", "--show-credentials")
	if !strings.Contains(out, "Bearer s3cr3t") || !strings.Contains(out, "id=42") {
		t.Error("--show-credentials did not keep the values")
	}
}

func TestRouteFileErrors(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{spFile, "--route " + spFile + ": no HTTPRoute or GRPCRoute in it"},
		{"testdata/policy/missing.yaml", "--route"},
	} {
		_, errOut, code := run(t, "", "tap", "--file", policyCapture, "--route", c.file)
		if code != 1 || !strings.HasPrefix(errOut, "error: "+c.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: exit %d: %s", c.file, code, errOut)
		}
	}
}
