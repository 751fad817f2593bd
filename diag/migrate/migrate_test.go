package migrate

import (
	"regexp"
	"strings"
	"testing"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/kubectl-profiles/kubectl-profiles/diag/gen"
	"github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/policymatch"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/proxy"
)

func sp(routes ...*profile.RouteSpec) *profile.ServiceProfile {
	p := &profile.ServiceProfile{Spec: profile.Spec{Routes: routes}}
	p.Name, p.Namespace = "web.ns.svc.cluster.local", "ns"
	return p
}

func route(name, method, re string) *profile.RouteSpec {
	return &profile.RouteSpec{Name: name, Condition: &profile.RequestMatch{Method: method, PathRegex: re}}
}

// First match becomes most-specific match: a later route with a method
// takes requests an earlier method-less route took; the replay says so.
func TestFirstMatchBecomesMostSpecific(t *testing.T) {
	res, err := Convert(Input{Profile: sp(route("any", "", "/books/[^/]+"), route("get", "GET", "/books/[^/]+"))})
	if err != nil {
		t.Fatal(err)
	}
	d, changed := res.Compare(policymatch.Request{Method: "GET", Path: "/books/1"})
	if !changed || d.Old.Route != "any" || d.New.Route != "get" {
		t.Fatalf("diff = %+v %v", d, changed)
	}
	if d, changed := res.Compare(policymatch.Request{Method: "PUT", Path: "/books/1"}); changed {
		t.Fatalf("PUT changed: %+v", d)
	}
	found := false
	for _, c := range res.Changes {
		found = found || strings.Contains(c, "first match becomes the most specific match")
	}
	if !found {
		t.Fatalf("changes = %q", res.Changes)
	}
}

// Without the catch-all, requests no route matches get a 404.
func TestNoCatchAll404(t *testing.T) {
	res, err := Convert(Input{Profile: sp(route("get", "GET", "/books")), NoCatchAll: true})
	if err != nil {
		t.Fatal(err)
	}
	d, changed := res.Compare(policymatch.Request{Method: "GET", Path: "/other"})
	if !changed || !d.New.NotFound() {
		t.Fatalf("diff = %+v", d)
	}
	with, _ := Convert(Input{Profile: sp(route("get", "GET", "/books"))})
	if _, changed := with.Compare(policymatch.Request{Method: "GET", Path: "/other"}); changed {
		t.Fatal("the catch-all rule should keep /other served like the default route")
	}
}

// A profile whose routes cover every request gets no catch-all.
func TestNoCatchAllWhenCovered(t *testing.T) {
	res, err := Convert(Input{Profile: sp(route("all", "", ".*"))})
	if err != nil {
		t.Fatal(err)
	}
	if res.CatchAll.Route != "" {
		t.Fatalf("catch-all added: %+v", res.CatchAll)
	}
}

func TestDNF(t *testing.T) {
	m := &profile.RequestMatch{All: []*profile.RequestMatch{{Method: "POST"}, {Any: []*profile.RequestMatch{{PathRegex: "/a"}, {PathRegex: "/b"}}}}}
	cs, why := dnf(m)
	if why != "" || len(cs) != 2 || cs[0] != (conj{"POST", "/a"}) || cs[1] != (conj{"POST", "/b"}) {
		t.Fatalf("dnf = %v %q", cs, why)
	}
	if _, why := dnf(&profile.RequestMatch{Not: &profile.RequestMatch{Method: "GET"}}); why == "" {
		t.Fatal("not accepted")
	}
	if _, why := dnf(&profile.RequestMatch{All: []*profile.RequestMatch{{PathRegex: "/a"}, {PathRegex: "/b.*"}}}); why == "" {
		t.Fatal("two regexes accepted")
	}
	if lit, ok := literal(`/static/app\.css`); !ok || lit != "/static/app.css" {
		t.Fatalf("literal = %q %v", lit, ok)
	}
	for re, want := range map[string]string{
		// The proxy anchors "/a|/b" as ^/a|/b$: paths starting with /a or
		// ending with /b. The whole-path regex keeps that language.
		"/a|/b":              "(?s:.*)(?:^/a|/b$)(?s:.*)",
		"/a|/ab":             "(?s:.*)(?:^/a|/ab$)(?s:.*)",
		`/a\$`:               `(?s:.*)(?:^/a\$)(?s:.*)`, // a literal '$': ^/a\$ matches every path starting with /a$
		"/books/[^/]+":       "/books/[^/]+",
		"/books/[^/]+/edit":  "/books/[^/]+/edit",
		`/static/.*`:         `/static/.*`,
		"/a*(ab)*b*":         "^(?:/a*(ab)*b*)$",
		"/books/[^/]+x":      "/books/[^/]+x",
		"/books/new":         "/books/new",    // Exact
		`^/api/v1/[^/]+$`:    `/api/v1/[^/]+`, // span-safe: its anchors are the proxy's
		`/files/[^/]+\.json`: `/files/[^/]+\.json`,
		"/a+":                "/a+", // span-safe: a greedy run at the end
		"/a+a":               "^(?:/a+a)$",
	} {
		if pm := pathMatch(re); *pm.Value != want {
			t.Errorf("pathMatch(%q) = %s, want %s", re, *pm.Value, want)
		}
	}
}

// GRPCRoute migration: exact methods, service-wide regexes as service-only
// matches (a full method match outranks them, as first match did), and
// non-POST routes reported and left to the catch-all.
func TestGRPCRoutes(t *testing.T) {
	p := sp(route("poop", "POST", `/emojivoto\.v1\.VotingService/VotePoop`), route("others", "POST", `/emojivoto\.v1\.VotingService/.*`), route("health", "GET", "/healthz"))
	res, err := Convert(Input{Profile: p, Kind: KindGRPCRoute})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.GRPCRoutes) != 1 || len(res.GRPCRoutes[0].Spec.Rules) != 3 {
		t.Fatalf("routes = %+v", res.GRPCRoutes)
	}
	for path, want := range map[string]string{"/emojivoto.v1.VotingService/VotePoop": "poop", "/emojivoto.v1.VotingService/VoteJoy": "others"} {
		if d, changed := res.Compare(policymatch.Request{Method: "POST", Path: path}); changed || d.New.Route != want {
			t.Errorf("%s: %+v changed=%v", path, d, changed)
		}
	}
	found := false
	for _, c := range res.Changes {
		found = found || strings.Contains(c, `route "health": not converted to a GRPCRoute rule`)
	}
	if !found {
		t.Fatalf("changes = %q", res.Changes)
	}
}

// A regex whose leftmost-first match can end early keeps its meaning: the
// raw regex would not span /aabab in the proxy, the wrapped one does, so the
// request keeps its route.
func TestRegexKeepsAnchoredMeaning(t *testing.T) {
	raw, err := policymatch.NewRoutes([]policy.Route{{Name: "r", Rules: []policy.Rule{{Matches: []policy.Match{{Path: "regex:/a*(ab)*b*"}}}}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if raw.Match(&policymatch.Request{Method: "GET", Path: "/aabab"}).Outcome != policymatch.NoRoute {
		t.Fatal("the raw regex spans /aabab: the test no longer shows the difference")
	}
	res, err := Convert(Input{Profile: sp(route("odd", "", "/a*(ab)*b*")), NoCatchAll: true})
	if err != nil {
		t.Fatal(err)
	}
	if d, changed := res.Compare(policymatch.Request{Method: "GET", Path: "/aabab"}); changed || d.New.Route != "odd" {
		t.Fatalf("%+v", d)
	}
}

// A regex Go reads differently from the proxy's Rust regex (a class set
// operation) is not guessed: the replayed request's new outcome is
// undecided, and said.
func TestReplayUndecided(t *testing.T) {
	res, err := Convert(Input{Profile: sp(route("set", "GET", "/v/[a-z&&[^x]]+")), NoCatchAll: true})
	if err != nil {
		t.Fatal(err)
	}
	d, changed := res.Compare(policymatch.Request{Method: "GET", Path: "/v/abc"})
	if !changed || !d.New.Undecided || !strings.Contains(d.Line(), "undecided") || !strings.Contains(d.Line(), "possibly route") {
		t.Fatalf("%+v changed=%v: %s", d, changed, d.Line())
	}
}

// The converted path match accepts exactly the paths the proxy's
// ServiceProfile regex accepts (search with the proxy's textual anchors),
// partly anchored and literal-dollar regexes included.
func TestPathMatchKeepsTheProxysLanguage(t *testing.T) {
	paths := []string{"/", "/a", "/ab", "/abc", "/x/ab", "/a$", "/a$/b", "/b", "/x/b", "/books/1", "/books/1/edit", "/api/v1/x", "/api/v1/x/y"}
	for _, re := range []string{"/a|/ab", "/a|/b", `/a\$`, "/a|/ab$", "^/a|/b", "/books/[^/]+", `^/api/v1/[^/]+$`, "/a+", "/a|x|/b"} {
		proxyRe := regexp.MustCompile(proxy.Anchor(re))
		pm := pathMatch(re)
		for _, p := range paths {
			want := proxyRe.MatchString(p)
			var got bool
			switch *pm.Type {
			case gatewayv1.PathMatchExact:
				got = p == *pm.Value
			default:
				full := regexp.MustCompile(`^(?:` + *pm.Value + `)$`)
				got = full.MatchString(p)
			}
			if got != want {
				t.Errorf("%q -> %s %q: path %q matched %v, the proxy's ServiceProfile regex %v", re, *pm.Type, *pm.Value, p, got, want)
			}
		}
	}
}

// A path regex the policy controller's Rust regex cannot compile would make
// it drop the whole HTTPRoute (the other rules with it): the rule is left
// out, the report says what happens to its requests on both sides, and
// every route written is served.
func TestUncompilableRegexLeftOut(t *testing.T) {
	bad := route("bad", "GET", "/x\x1b[2J") // an unclosed character class
	ok := route("ok", "GET", "/ok")
	ok.Timeout = "1s"
	res, err := Convert(Input{Profile: sp(bad, ok, route("any", "", "/any/.*"))})
	if err != nil {
		t.Fatal(err)
	}
	for _, hr := range res.HTTPRoutes {
		for _, rl := range hr.Spec.Rules {
			for _, m := range rl.Matches {
				if m.Path != nil && strings.Contains(*m.Path.Value, "\x1b") {
					t.Fatalf("route %s keeps the uncompilable regex %q", hr.Name, *m.Path.Value)
				}
			}
		}
	}
	if bad := gen.VerifyRoutes(res.New, nil, nil); len(bad) > 0 {
		t.Fatalf("routes not served: %q", bad)
	}
	if res.Rules[0].Route != "" || res.Rules[1].Route == "" || res.Rules[2].Route == "" {
		t.Fatalf("rules = %+v", res.Rules)
	}
	var line string
	for _, c := range res.Changes {
		if strings.HasPrefix(c, `route "bad":`) {
			line = c
		}
	}
	for _, want := range []string{"not converted", "does not compile", "policy controller", "today the proxy", "every GET request", "catch-all rule"} {
		if !strings.Contains(line, want) {
			t.Errorf("line for route bad lacks %q: %q (changes %q)", want, line, res.Changes)
		}
	}
	// Today the proxy ignores the path condition it cannot compile, so
	// route "bad" takes every GET; after migration /ok goes to "ok".
	d, changed := res.Compare(policymatch.Request{Method: "GET", Path: "/ok"})
	if !changed || d.Old.Route != "bad" || d.New.Route != "ok" || d.New.Timeout != "1s" {
		t.Fatalf("%+v changed=%v", d, changed)
	}
	found := false
	for _, c := range res.Changes {
		found = found || strings.HasPrefix(c, "GET /ok: ") && strings.HasSuffix(c, `(route "bad" is not converted)`)
	}
	if !found {
		t.Fatalf("no GET /ok line blaming route bad: %q", res.Changes)
	}
}

// An alternative of `any` whose regex does not compile is dropped by the
// proxy today (one alternative fewer) and left out of the rule's matches;
// the rule keeps its other matches.
func TestUncompilableAlternativeLeftOut(t *testing.T) {
	r := &profile.RouteSpec{Name: "two", Condition: &profile.RequestMatch{Any: []*profile.RequestMatch{{PathRegex: "/good"}, {PathRegex: "/bad["}}}}
	res, err := Convert(Input{Profile: sp(r), NoCatchAll: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.HTTPRoutes) != 1 || len(res.HTTPRoutes[0].Spec.Rules) != 1 || len(res.HTTPRoutes[0].Spec.Rules[0].Matches) != 1 || *res.HTTPRoutes[0].Spec.Rules[0].Matches[0].Path.Value != "/good" {
		t.Fatalf("routes = %+v", res.HTTPRoutes)
	}
	found := false
	for _, c := range res.Changes {
		found = found || strings.HasPrefix(c, `route "two": match`) && strings.Contains(c, "does not compile")
	}
	if !found {
		t.Fatalf("changes = %q", res.Changes)
	}
	if bad := gen.VerifyRoutes(res.New, nil, nil); len(bad) > 0 {
		t.Fatalf("routes not served: %q", bad)
	}
}

// Routes the controller would not serve are always reported, whatever
// made them so (the last check on the written routes).
func TestUnservedRoutesReported(t *testing.T) {
	res, err := Convert(Input{Profile: sp(route("ok", "GET", "/ok"))})
	if err != nil {
		t.Fatal(err)
	}
	hr := res.HTTPRoutes[0]
	hr.Spec.Rules[0].Matches[0].Path = &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchRegularExpression), Value: ptr("/x[")}
	res.Changes = nil
	res.New = gen.Simulate(res.Target, nil, res.HTTPRoutes, nil)
	res.unservedChanges()
	if len(res.Changes) != 1 || !strings.Contains(res.Changes[0], "HTTPRoute "+hr.Name) || !strings.Contains(res.Changes[0], "drops the whole route") {
		t.Fatalf("changes = %q", res.Changes)
	}
}

// The timeout count is the number of timeouts written: an invalid one is
// reported on its own line, and a route left out writes none.
func TestTimeoutCountIsWhatIsWritten(t *testing.T) {
	a := route("a", "GET", "/a")
	a.Timeout = "1s"
	b := route("b", "GET", "/b")
	b.Timeout = "2 seconds"
	c := &profile.RouteSpec{Name: "c", Condition: &profile.RequestMatch{Not: &profile.RequestMatch{Method: "GET"}}, Timeout: "3s"}
	for _, tc := range []struct {
		routes []*profile.RouteSpec
		rule   bool
		want   string
	}{
		{[]*profile.RouteSpec{a, b, c}, false, "timeout on 1 route(s) becomes the route annotation"},
		{[]*profile.RouteSpec{a, b, c}, true, "timeout on 1 route(s) becomes rules[].timeouts.request"},
		{[]*profile.RouteSpec{b, c}, false, ""},
	} {
		res, err := Convert(Input{Profile: sp(tc.routes...), RuleTimeouts: tc.rule})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		notConverted := false
		for _, ch := range res.Changes {
			if strings.HasPrefix(ch, "timeout on ") {
				got = ch
			}
			notConverted = notConverted || strings.HasPrefix(ch, `route "b": timeout not converted`)
		}
		if !strings.HasPrefix(got, tc.want) || (tc.want == "") != (got == "") || !notConverted {
			t.Errorf("%d routes, rule timeouts %v: timeout line %q, want %q; changes %q", len(tc.routes), tc.rule, got, tc.want, res.Changes)
		}
	}
}
