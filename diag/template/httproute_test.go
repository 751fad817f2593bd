package template

import "testing"

func TestHTTPPathMatch(t *testing.T) {
	for tmpl, want := range map[string]string{
		"/static/app.css":     "Exact /static/app.css",
		"/books/{id}":         "RegularExpression /books/[^/]+",
		"/books/{id}/edit":    "RegularExpression /books/[^/]+/edit",
		"/a b":                `RegularExpression /a\x{20}b`, // a space: the CRD refuses it as Exact
		"/q%41":               "Exact /q%41",
		"/q%4":                "RegularExpression /q%4", // near miss: not an escape
		"/files/{id}.json":    `RegularExpression /files/[^/]+\.json`,
		"/users/{id}/{rest}":  "RegularExpression /users/[^/]+/.*",
		"/~user/(x)":          "Exact /~user/(x)",
		"/caf\u00e9":          "RegularExpression /caf\u00e9",
		"/semi;colon=1@x:y/z": "Exact /semi;colon=1@x:y/z",
	} {
		m := HTTPPathMatch(tmpl)
		if got := string(*m.Type) + " " + *m.Value; got != want {
			t.Errorf("%q: got %q, want %q", tmpl, got, want)
		}
	}
}

func TestHTTPRouteFor(t *testing.T) {
	groups := []Group{
		{Method: "GET", Template: "/b/{id}", Count: 2},
		{Method: "GET", Template: "/b/new", Count: 1},
		{Method: "PROPFIND", Template: "/dav", Count: 1}, // not a Gateway method: any method
		{Method: "OPTIONS", Template: "*", Count: 1},     // not a path: no rule
		{Method: OtherMethod, Template: OtherTemplate, Count: 9},
	}
	r := HTTPRouteFor(Parent{Service: "web", Namespace: "ns", Port: 80}, "web-unmatched", groups)
	if r.Kind != "HTTPRoute" || r.APIVersion != "gateway.networking.k8s.io/v1" || r.Namespace != "ns" {
		t.Fatalf("%+v", r.TypeMeta)
	}
	ref := r.Spec.ParentRefs[0]
	if *ref.Kind != "Service" || *ref.Group != "core" || ref.Name != "web" || *ref.Port != 80 {
		t.Errorf("parentRef %+v", ref)
	}
	var got []string
	for _, rule := range r.Spec.Rules {
		m := rule.Matches[0]
		method := "*"
		if m.Method != nil {
			method = string(*m.Method)
		}
		got = append(got, method+" "+*m.Path.Value)
		if len(rule.BackendRefs) != 0 {
			t.Error("backendRefs set")
		}
	}
	want := []string{"GET /b/new", "GET /b/[^/]+", "* /dav"}
	if len(got) != len(want) {
		t.Fatalf("rules %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("rule %d: %s, want %s", i, got[i], want[i])
		}
	}
}

func TestGRPCRouteFor(t *testing.T) {
	groups := []Group{
		{Method: "POST", Template: "/pkg.Svc/Get", Count: 2},
		{Method: "POST", Template: "/pkg.Svc/{id}", Count: 1}, // a placeholder: not a method name
		{Method: "GET", Template: "/pkg.Svc/List", Count: 1},  // gRPC is POST only
		{Method: "POST", Template: "/pkg.Svc", Count: 1},      // no method segment
	}
	r, left := GRPCRouteFor(Parent{Service: "rpc", Namespace: "ns", Port: 9090}, "rpc-unmatched", groups)
	if len(r.Spec.Rules) != 1 || *r.Spec.Rules[0].Matches[0].Method.Service != "pkg.Svc" || *r.Spec.Rules[0].Matches[0].Method.Method != "Get" {
		t.Errorf("rules %+v", r.Spec.Rules)
	}
	if len(left) != 3 {
		t.Errorf("left %d groups, want 3", len(left))
	}
}
