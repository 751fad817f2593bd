package policymatch

import (
	"fmt"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/policy"
)

func hr(name string, hosts []string, rules ...policy.Rule) policy.Route {
	return policy.Route{Group: policy.GroupGateway, Kind: "HTTPRoute", Namespace: "ns", Name: name, Hosts: hosts, Rules: rules}
}

func rl(ms ...policy.Match) policy.Rule { return policy.Rule{Matches: ms} }

func path(p string) policy.Match { return policy.Match{Path: p} }

func get(p string) *Request {
	return &Request{Method: "GET", Authority: "web.ns.svc.cluster.local:80", Path: p}
}

func id(t *testing.T, m *Matcher, req *Request) string {
	t.Helper()
	res := m.Match(req)
	switch res.Outcome {
	case NoRoute:
		return "404"
	case Undecided:
		return "?" + RouteID(m.Routes()[res.Route], res.Rule)
	}
	return RouteID(m.Routes()[res.Route], res.Rule)
}

func mustNew(t *testing.T, grpc bool, routes ...policy.Route) *Matcher {
	t.Helper()
	m, err := NewRoutes(routes, grpc)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPathPrecedence(t *testing.T) {
	m := mustNew(t, false,
		hr("a", nil,
			rl(path("prefix:/")),
			rl(path("prefix:/books/")),
			rl(path("exact:/books/list")),
		),
		hr("b", nil,
			rl(path("regex:/books/[0-9]+")),
			rl(path("exact:/books")), // ties with a#rule2 on /books: a is earlier
		),
	)
	for _, c := range []struct{ path, want string }{
		{"/", "HTTPRoute/ns/a#rule1"},
		{"/other", "HTTPRoute/ns/a#rule1"},
		{"/books", "HTTPRoute/ns/a#rule2"},      // prefix /books (len 6) ties exact /books: earlier route
		{"/books/", "HTTPRoute/ns/a#rule2"},     // trailing slash trimmed
		{"/booksx", "HTTPRoute/ns/a#rule1"},     // near miss: not a segment boundary
		{"/books/list", "HTTPRoute/ns/a#rule3"}, // exact, longer than the prefix
		{"/books/list/", "HTTPRoute/ns/a#rule2"},
		{"/books/12", "HTTPRoute/ns/b#rule1"},  // regex counts the whole path (9) > prefix (6)
		{"/books/12a", "HTTPRoute/ns/a#rule2"}, // near miss: regex must span the path
	} {
		if got := id(t, m, get(c.path)); got != c.want {
			t.Errorf("%s: got %s, want %s", c.path, got, c.want)
		}
	}
}

func TestNoRoute404(t *testing.T) {
	m := mustNew(t, false, hr("a", nil, rl(path("prefix:/api"))))
	if got := id(t, m, get("/api/x")); got != "HTTPRoute/ns/a#rule1" {
		t.Errorf("triggering: %s", got)
	}
	if got := id(t, m, get("/apix")); got != "404" {
		t.Errorf("near miss: got %s, want 404", got)
	}
	// A rule with no matches matches everything.
	m = mustNew(t, false, hr("a", nil, rl()))
	if got := id(t, m, get("/anything")); got != "HTTPRoute/ns/a#rule1" {
		t.Errorf("empty matches: %s", got)
	}
}

func TestRegexLeftmostFirst(t *testing.T) {
	m := mustNew(t, false, hr("a", nil, rl(path("regex:/a|/ab"))))
	if got := id(t, m, get("/a")); got != "HTTPRoute/ns/a#rule1" {
		t.Errorf("/a: %s", got)
	}
	// The leftmost-first match of /a|/ab in /ab is /a: it does not span.
	if got := id(t, m, get("/ab")); got != "404" {
		t.Errorf("/ab: got %s, want 404", got)
	}
}

func TestHeadersMethodQuery(t *testing.T) {
	m := mustNew(t, false, hr("a", nil,
		rl(path("prefix:/")),
		rl(policy.Match{Path: "prefix:/", Method: "POST"}),
		rl(policy.Match{Path: "prefix:/", Headers: []policy.ValueMatch{{Name: "X-Canary", Kind: "exact", Value: "1"}}}),
		rl(policy.Match{Path: "prefix:/", Headers: []policy.ValueMatch{{Name: "x-user", Kind: "regex", Value: "adm.*"}}}),
		rl(policy.Match{Path: "prefix:/", QueryParams: []policy.ValueMatch{{Name: "v", Kind: "exact", Value: "2"}}}),
	))
	r := get("/")
	if got := id(t, m, r); got != "?HTTPRoute/ns/a#rule5" {
		t.Errorf("query unknown: got %s, want undecided rule5", got)
	}
	r.QueryKnown = true
	if got := id(t, m, r); got != "HTTPRoute/ns/a#rule1" {
		t.Errorf("plain: %s", got)
	}
	r.Query = "v=2"
	if got := id(t, m, r); got != "HTTPRoute/ns/a#rule5" {
		t.Errorf("query: %s", got)
	}
	r.Query = "v=3&w=2"
	if got := id(t, m, r); got != "HTTPRoute/ns/a#rule1" {
		t.Errorf("query near miss: %s", got)
	}
	r.Query = "x=1&%76=%32"
	if got := id(t, m, r); got != "HTTPRoute/ns/a#rule5" {
		t.Errorf("query encoded: %s", got)
	}
	r.Query = ""
	r.Method = "POST"
	if got := id(t, m, r); got != "HTTPRoute/ns/a#rule2" {
		t.Errorf("method: %s", got)
	}
	r.Method = "post" // near miss: methods are exact
	if got := id(t, m, r); got != "HTTPRoute/ns/a#rule1" {
		t.Errorf("method case: %s", got)
	}
	r.Method = "POST"
	r.Headers = []Header{{Name: "x-canary", Value: "0"}, {Name: "x-canary", Value: "1"}}
	// A header match (count 1) beats a method match (counted after).
	if got := id(t, m, r); got != "HTTPRoute/ns/a#rule3" {
		t.Errorf("header beats method: %s", got)
	}
	r.Headers = []Header{{Name: "x-canary", Value: "2"}, {Name: "X-User", Value: "admin"}}
	if got := id(t, m, r); got != "HTTPRoute/ns/a#rule4" {
		t.Errorf("header regex: %s", got)
	}
	r.Headers = []Header{{Name: "X-User", Value: "xadmin"}}
	if got := id(t, m, r); got != "HTTPRoute/ns/a#rule2" {
		t.Errorf("header regex near miss: %s", got)
	}
	r.Headers = []Header{{Name: "X-User", Value: "admin", Bin: true}}
	if got := id(t, m, r); got != "HTTPRoute/ns/a#rule2" {
		t.Errorf("header regex skips binary values: %s", got)
	}
}

func TestHosts(t *testing.T) {
	m := mustNew(t, false,
		hr("any", nil, rl(path("exact:/x"))),
		hr("suffix", []string{"*.example.com"}, rl(path("prefix:/"))),
		hr("longer", []string{"*.a.example.com"}, rl(path("prefix:/"))),
		hr("exact", []string{"Web.Example.com"}, rl(path("prefix:/"))),
	)
	req := func(a string) *Request { return &Request{Method: "GET", Authority: a, Path: "/x"} }
	for _, c := range []struct{ auth, want string }{
		{"web.example.com:8080", "HTTPRoute/ns/exact#rule1"}, // exact host beats a longer path elsewhere
		{"WEB.example.com.", "HTTPRoute/ns/exact#rule1"},
		{"b.a.example.com", "HTTPRoute/ns/longer#rule1"},
		{"z.example.com", "HTTPRoute/ns/suffix#rule1"},
		{"example.com", "HTTPRoute/ns/any#rule1"}, // near miss: a suffix needs one more label
		{"other", "HTTPRoute/ns/any#rule1"},
		{"", "HTTPRoute/ns/any#rule1"},
	} {
		if got := id(t, m, req(c.auth)); got != c.want {
			t.Errorf("%q: got %s, want %s", c.auth, got, c.want)
		}
	}
	// A route whose hosts do not match is skipped entirely: 404.
	m = mustNew(t, false, hr("h", []string{"a.example.com"}, rl()))
	if got := id(t, m, req("b.example.com")); got != "404" {
		t.Errorf("host miss: %s", got)
	}
}

func TestGRPC(t *testing.T) {
	g := func(name string, rules ...policy.Rule) policy.Route {
		r := hr(name, nil, rules...)
		r.Kind = "GRPCRoute"
		return r
	}
	rpc := func(s, m string) policy.Match { return policy.Match{RPC: &policy.RPC{Service: s, Method: m}} }
	m := mustNew(t, true,
		g("a", rl(rpc("", "Get")), rl(rpc("pkg.Books", ""))),
		g("b", rl(rpc("pkg.Books", "Get"))),
	)
	post := func(p string) *Request { return &Request{Method: "POST", Path: p} }
	for _, c := range []struct {
		req  *Request
		want string
	}{
		{post("/pkg.Books/Get"), "GRPCRoute/ns/b#rule1"},
		{post("/pkg.Books/List"), "GRPCRoute/ns/a#rule2"}, // service beats method-only
		{post("/pkg.Authors/Get"), "GRPCRoute/ns/a#rule1"},
		{post("/pkg.Authors/List"), "404"},
		{post("/pkg.Books"), "404"}, // no method segment
		{&Request{Method: "GET", Path: "/pkg.Books/Get"}, "404"},
	} {
		if got := id(t, m, c.req); got != c.want {
			t.Errorf("%s %s: got %s, want %s", c.req.Method, c.req.Path, got, c.want)
		}
	}
}

// gRPC rules the way linkerd2-proxy's grpc/match.rs and find rank them
// (diag/gen's former matcher got these wrong): a rule without matches has
// the default summary (0 service, 0 method, 0 headers), so it ties with an
// empty RPC match and loses to any service; a match without an RPC part
// (headers only) is still a gRPC match: POST and /service/method only.
func TestGRPCDefaults(t *testing.T) {
	g := func(name string, rules ...policy.Rule) policy.Route {
		r := hr(name, nil, rules...)
		r.Kind = "GRPCRoute"
		return r
	}
	rpc := func(s, m string) policy.Match { return policy.Match{RPC: &policy.RPC{Service: s, Method: m}} }
	hdr := policy.Match{Headers: []policy.ValueMatch{{Name: "x-a", Kind: "exact", Value: "1"}}}
	xa := []Header{{Name: "x-a", Value: "1"}}
	for _, c := range []struct {
		routes []policy.Route
		req    *Request
		want   string
	}{
		// Tie at (0, 0, 0): the earlier route, not the rule without matches.
		{[]policy.Route{g("a", rl(rpc("", ""))), g("b", rl())}, &Request{Method: "POST", Path: "/s/m"}, "GRPCRoute/ns/a#rule1"},
		// A one-character service outranks the default summary.
		{[]policy.Route{g("a", rl()), g("b", rl(rpc("x", "")))}, &Request{Method: "POST", Path: "/x/m"}, "GRPCRoute/ns/b#rule1"},
		// A rule without matches matches any method.
		{[]policy.Route{g("a", rl())}, &Request{Method: "GET", Path: "/x"}, "GRPCRoute/ns/a#rule1"},
		// Headers only: POST and a method segment are still required.
		{[]policy.Route{g("a", rl(hdr))}, &Request{Method: "POST", Path: "/s/m", Headers: xa}, "GRPCRoute/ns/a#rule1"},
		{[]policy.Route{g("a", rl(hdr))}, &Request{Method: "GET", Path: "/s/m", Headers: xa}, "404"},
		{[]policy.Route{g("a", rl(hdr))}, &Request{Method: "POST", Path: "/s", Headers: xa}, "404"},
		// A headers-only match counts its headers above a bare rule.
		{[]policy.Route{g("a", rl()), g("b", rl(hdr))}, &Request{Method: "POST", Path: "/s/m", Headers: xa}, "GRPCRoute/ns/b#rule1"},
	} {
		m := mustNew(t, true, c.routes...)
		if got := id(t, m, c.req); got != c.want {
			t.Errorf("%s %s: got %s, want %s", c.req.Method, c.req.Path, got, c.want)
		}
	}
}

func TestGoDiffersIsUndecided(t *testing.T) {
	// \pN is fine; a Rust-only construct such as a class set operation
	// makes the match undecided rather than guessed.
	m, err := NewRoutes([]policy.Route{hr("a", nil, rl(path("prefix:/")), rl(path("regex:/[a-z&&[^x]]+")))}, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := id(t, m, get("/abc")); got != "?HTTPRoute/ns/a#rule2" {
		t.Errorf("got %s", got)
	}
	if _, err := NewRoutes([]policy.Route{hr("a", nil, rl(path("regex:/(")))}, false); err == nil {
		t.Error("a regex the proxy cannot compile is an error")
	}
}

func TestBackendFailure(t *testing.T) {
	r := &policy.Rule{Distribution: "randomAvailable", Backends: []policy.Backend{{Weight: 3}, {Weight: 1, Invalid: "Service not found gone"}}}
	if f, n, msg := BackendFailure(r); f != 1 || n != 4 || msg != "Service not found gone" {
		t.Errorf("got %d/%d %q", f, n, msg)
	}
	r.Backends[1].Invalid = ""
	if f, _, _ := BackendFailure(r); f != 0 {
		t.Errorf("near miss: %d", f)
	}
}

// fiftyRules is a policy of 5 routes with 10 rules each.
func fiftyRules() []policy.Route {
	var routes []policy.Route
	for i := 0; i < 5; i++ {
		var rules []policy.Rule
		for j := 0; j < 10; j++ {
			switch j % 4 {
			case 0:
				rules = append(rules, rl(path(fmt.Sprintf("prefix:/api/v%d/r%d", i, j))))
			case 1:
				rules = append(rules, rl(path(fmt.Sprintf("exact:/api/v%d/items/%d", i, j))))
			case 2:
				rules = append(rules, rl(policy.Match{Path: fmt.Sprintf("prefix:/svc%d", j), Method: "POST",
					Headers: []policy.ValueMatch{{Name: "x-tenant", Kind: "exact", Value: "t1"}}}))
			case 3:
				rules = append(rules, rl(path(fmt.Sprintf("regex:/users/%d/[0-9]+", j))))
			}
		}
		routes = append(routes, hr(fmt.Sprintf("r%d", i), nil, rules...))
	}
	return routes
}

func BenchmarkMatch50Rules(b *testing.B) {
	m, err := NewRoutes(fiftyRules(), false)
	if err != nil {
		b.Fatal(err)
	}
	reqs := []*Request{
		{Method: "GET", Authority: "web.ns.svc.cluster.local:80", Path: "/api/v3/r4/books/12", Headers: []Header{{Name: "user-agent", Value: "curl"}}},
		{Method: "POST", Authority: "web.ns.svc.cluster.local:80", Path: "/svc6/x", Headers: []Header{{Name: "x-tenant", Value: "t1"}}},
		{Method: "GET", Authority: "web.ns.svc.cluster.local:80", Path: "/nothing/here"},
		{Method: "GET", Authority: "web.ns.svc.cluster.local:80", Path: "/api/v1/items/5"},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if m.Match(reqs[i&3]).Outcome == Undecided {
			b.Fatal("undecided")
		}
	}
}

// A request whose winning rule is a path regex pays one allocation to
// confirm the leftmost-first match spans the path (see regexMatch).
func BenchmarkMatch50RulesRegexHit(b *testing.B) {
	m, err := NewRoutes(fiftyRules(), false)
	if err != nil {
		b.Fatal(err)
	}
	req := &Request{Method: "GET", Authority: "web.ns.svc.cluster.local:80", Path: "/users/3/1234"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if m.Match(req).Outcome != Matched {
			b.Fatal("no match")
		}
	}
}
