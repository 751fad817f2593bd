package proxy

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/linkerd/linkerd2-proxy-api/go/destination"
	"github.com/linkerd/linkerd2-proxy-api/go/http_types"
	"google.golang.org/protobuf/types/known/durationpb"
)

type req struct {
	method, path string
	want         int // expected original route index, -1 = default route
}

func TestMatchRules(t *testing.T) {
	cases := []struct {
		name   string
		routes []*destination.Route
		reqs   []req
	}{
		{"anchoring: /a does not match /ab or /x/a", []*destination.Route{route("a", path("/a"))},
			[]req{{"GET", "/a", 0}, {"GET", "/ab", -1}, {"GET", "/x/a", -1}}},
		{"explicit anchors are not doubled", []*destination.Route{route("a", path("^/a.*"))},
			[]req{{"GET", "/a/b", 0}, {"GET", "/b/a", -1}}},
		{"trailing $ already present", []*destination.Route{route("a", path("/a$"))},
			[]req{{"GET", "/a", 0}, {"GET", "/ab", -1}}},
		{"whitespace is trimmed before anchoring", []*destination.Route{route("a", path("  /a\t"))},
			[]req{{"GET", "/a", 0}}},
		// Anchoring is textual, so alternation escapes it: ^/a|/b$.
		{"alternation is not grouped", []*destination.Route{route("a", path("/a|/b"))},
			[]req{{"GET", "/a/anything", 0}, {"GET", "/x/b", 0}, {"GET", "/x", -1}}},
		// An escaped dollar at the end counts as "ends with $": no anchor added.
		{"escaped dollar at the end", []*destination.Route{route("a", path(`/a\$`))},
			[]req{{"GET", "/a$", 0}, {"GET", "/a$/more", 0}}},
		{"query string and fragment are ignored", []*destination.Route{route("a", path("/books/[0-9]+"))},
			[]req{{"GET", "/books/12?x=1", 0}, {"GET", "/books/12#top", 0}, {"GET", "/books/?id=12", -1}}},
		{"param segment", []*destination.Route{route("u", path("/api/v1/users/[^/]+"))},
			[]req{{"GET", "/api/v1/users/42", 0}, {"GET", "/api/v1/users/42/x", -1}, {"GET", "/api/v1/users/", -1}}},
		{"first match wins", []*destination.Route{route("specific", path("/books/1")), route("general", path("/books/.*"))},
			[]req{{"GET", "/books/1", 0}, {"GET", "/books/2", 1}}},
		{"method registered and unregistered", []*destination.Route{
			route("get", all(method(http_types.HttpMethod_GET), path("/b"))),
			route("purge", all(methodStr("PURGE"), path("/b")))},
			[]req{{"GET", "/b", 0}, {"PURGE", "/b", 1}, {"POST", "/b", -1}, {"get", "/b", -1}}},
		{"empty all matches everything", []*destination.Route{route("all", all())},
			[]req{{"DELETE", "/anything", 0}}},
		{"empty any matches nothing", []*destination.Route{route("none", anyOf()), route("next", path(".*"))},
			[]req{{"GET", "/x", 1}}},
		{"any of paths", []*destination.Route{route("ab", anyOf(path("/a"), path("/b")))},
			[]req{{"GET", "/a", 0}, {"GET", "/b", 0}, {"GET", "/c", -1}}},
		{"not", []*destination.Route{route("notget", all(path("/x"), not(method(http_types.HttpMethod_GET))))},
			[]req{{"POST", "/x", 0}, {"GET", "/x", -1}}},
		// A child of 'all' that fails conversion disappears: the route
		// then matches on the remaining condition only.
		{"all drops a bad child", []*destination.Route{route("r", all(method(http_types.HttpMethod_POST), path("/a(?=b)")))},
			[]req{{"POST", "/anything", 0}, {"GET", "/anything", -1}}},
		{"any drops a bad child", []*destination.Route{route("r", anyOf(path("(?<=x)/a"), path("/b")))},
			[]req{{"GET", "/b", 0}, {"GET", "/a", -1}}},
		{"any with only bad children matches nothing", []*destination.Route{route("r", anyOf(path(`\1`))), route("next", all())},
			[]req{{"GET", "/x", 1}}},
		// 'not' of a bad child fails, so the route is dropped entirely.
		{"not with bad child drops the route", []*destination.Route{route("r", not(path("(?!x)"))), route("next", path("/x"))},
			[]req{{"GET", "/x", 1}, {"GET", "/y", -1}}},
		{"bad regex drops the route", []*destination.Route{route("bad", path(`/books/\d+\Z`)), route("good", path(`/books/\d+`))},
			[]req{{"GET", "/books/1", 1}}},
		{"route without condition is dropped", []*destination.Route{{MetricsLabels: map[string]string{"route": "x"}}, route("y", path("/"))},
			[]req{{"GET", "/", 1}}},
		{"request match without field is dropped", []*destination.Route{route("x", &destination.RequestMatch{}), route("y", path("/"))},
			[]req{{"GET", "/", 1}}},
		{"invalid unregistered method drops the route", []*destination.Route{route("x", methodStr("BAD METHOD")), route("y", methodStr(""))},
			[]req{{"BAD METHOD", "/", -1}}},
		{"unknown registered enum drops the route", []*destination.Route{route("x", method(http_types.HttpMethod_Registered(42)))},
			[]req{{"GET", "/", -1}}},
		{"rust-only syntax is kept by the proxy", []*destination.Route{route("r", path(`/a{ 2 }`))},
			[]req{{"GET", "/aa", -1}}}, // Go reads it differently: recorded as Unmatchable and skipped
		{"unmatchable route inside not is skipped, not inverted", []*destination.Route{route("r", not(path(`/a{ 2 }`))), route("next", all())},
			[]req{{"GET", "/x", 1}}},
	}
	for _, c := range cases {
		p, _ := Convert(profile(c.routes...))
		for _, r := range c.reqs {
			idx, name, ok := p.Match(r.method, r.path)
			if idx != r.want || ok != (r.want >= 0) {
				t.Errorf("%s: Match(%s %s) = %d %q %v, want %d", c.name, r.method, r.path, idx, name, ok, r.want)
			}
			if ok && name != c.routes[idx].MetricsLabels["route"] {
				t.Errorf("%s: name %q for route %d", c.name, name, idx)
			}
		}
	}
}

func TestDropsAreReported(t *testing.T) {
	dp := profile(
		route("bad regex", path("/a(?=b)")),
		route("kept", all(path("/ok"), path(`\Q`))),
		route("bad not", not(path("("))),
	)
	p, drops := Convert(dp)
	if len(p.Routes) != 1 || p.Routes[0].Index != 1 {
		t.Fatalf("kept routes = %+v", p.Routes)
	}
	var lines []string
	for _, d := range drops {
		lines = append(lines, d.String())
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{
		`route 0 "bad regex" condition.path: regex "/a(?=b)" does not compile in the proxy: look-around`,
		"at offset 2",
		`route 0 "bad regex" condition: condition cannot be converted; the proxy drops the route`,
		`route 1 "kept" condition.all[1].path: regex "\Q"`,
		`route 1 "kept" condition.all[1]: cannot be converted; dropped from 'all'`,
		`route 2 "bad not" condition.not: cannot be converted, so the enclosing 'not' fails too`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("drops missing %q:\n%s", want, all)
		}
	}
	for _, l := range lines {
		if strings.Contains(l, "\n") {
			t.Errorf("multi-line drop: %q", l)
		}
	}
}

func TestClassify(t *testing.T) {
	dp := profile(
		route("r", path("/"),
			class(true, status(500, 504)),
			class(false, status(500, 599)),                      // shadowed for 500..504
			class(true, status(429, 0)),                         // one-sided: dropped
			class(true, rspNot(status(100, 499))),               // >= 500 or < 100
			class(true, rspAny(status(0, 0), status(404, 404))), // any keeps the good child
			class(true, rspAny(status(0, 300))),                 // any with no usable child: dropped
			class(true, nil),                                    // no condition: dropped
		),
		route("noclasses", path("/n")),
	)
	p, drops := Convert(dp)
	if got := len(p.Routes[0].ResponseClasses); got != 4 {
		t.Fatalf("kept %d response classes, want 4; drops: %v", got, drops)
	}
	cases := []struct {
		route, status int
		failure       bool
		class         int
	}{
		{0, 503, true, 0},
		{0, 505, false, 1},
		{0, 429, false, -1}, // the one-sided class was dropped: fallback (not 5xx) = success
		{0, 404, true, 4},
		{0, 200, false, -1},
		{1, 503, true, -1}, // no classes: proxy falls back to 5xx = failure
		{1, 404, false, -1},
		{-1, 500, true, -1}, // default route
	}
	for _, c := range cases {
		failure, idx, _ := p.ClassifyDetail(c.route, c.status)
		if failure != c.failure || idx != c.class {
			t.Errorf("Classify(route %d, %d) = %v class %d, want %v class %d", c.route, c.status, failure, idx, c.failure, c.class)
		}
		if p.Classify(c.route, c.status) != c.failure {
			t.Errorf("Classify and ClassifyDetail disagree for %d/%d", c.route, c.status)
		}
	}
}

func TestStatusTruncation(t *testing.T) {
	// The proxy converts with `as u16`: 65536+200 truncates to 200.
	p, _ := Convert(profile(route("r", path("/"), class(true, status(65536+200, 65536+299)))))
	if len(p.Routes[0].ResponseClasses) != 1 || !p.Classify(0, 250) {
		t.Errorf("truncated range not modelled: %+v", p.Routes[0].ResponseClasses)
	}
	p, _ = Convert(profile(route("r", path("/"), class(true, status(99, 200)), class(true, status(200, 1000)))))
	if len(p.Routes[0].ResponseClasses) != 0 {
		t.Error("status outside 100..999 kept")
	}
}

func TestRetryBudget(t *testing.T) {
	cases := []struct {
		name string
		rb   *destination.RetryBudget
		ok   bool
	}{
		{"default", &destination.RetryBudget{RetryRatio: 0.2, MinRetriesPerSecond: 10, Ttl: dur(10 * time.Second)}, true},
		{"ratio 0", &destination.RetryBudget{RetryRatio: 0, Ttl: dur(time.Second)}, true},
		{"ratio 1000", &destination.RetryBudget{RetryRatio: 1000, Ttl: dur(60 * time.Second)}, true},
		{"ratio negative", &destination.RetryBudget{RetryRatio: -0.1, Ttl: dur(10 * time.Second)}, false},
		{"ratio too big", &destination.RetryBudget{RetryRatio: 1000.5, Ttl: dur(10 * time.Second)}, false},
		{"ratio NaN", &destination.RetryBudget{RetryRatio: float32(math.NaN()), Ttl: dur(10 * time.Second)}, false},
		{"ttl missing", &destination.RetryBudget{RetryRatio: 0.2}, false},
		{"ttl too short", &destination.RetryBudget{RetryRatio: 0.2, Ttl: dur(999 * time.Millisecond)}, false},
		{"ttl too long", &destination.RetryBudget{RetryRatio: 0.2, Ttl: dur(60*time.Second + 1)}, false},
		{"ttl negative", &destination.RetryBudget{RetryRatio: 0.2, Ttl: &durationpb.Duration{Seconds: -5}}, false},
		{"ttl nanos over 1s", &destination.RetryBudget{RetryRatio: 0.2, Ttl: &durationpb.Duration{Seconds: 1, Nanos: 1_000_000_001}}, false},
		{"ttl nanos exactly 1s", &destination.RetryBudget{RetryRatio: 0.2, Ttl: &durationpb.Duration{Nanos: 1_000_000_000}}, true},
		{"min retries max i32", &destination.RetryBudget{RetryRatio: 0.2, MinRetriesPerSecond: math.MaxInt32, Ttl: dur(time.Second)}, true},
		{"min retries above i32", &destination.RetryBudget{RetryRatio: 0.2, MinRetriesPerSecond: math.MaxInt32 + 1, Ttl: dur(time.Second)}, false},
	}
	for _, c := range cases {
		dp := profile(route("r", path("/")))
		dp.Routes[0].IsRetryable = true
		dp.RetryBudget = c.rb
		p, drops := Convert(dp)
		if (p.RetryBudget != nil) != c.ok {
			t.Errorf("%s: budget kept = %v, want %v (drops %v)", c.name, p.RetryBudget != nil, c.ok, drops)
		}
		if p.Routes[0].Retries != c.ok {
			t.Errorf("%s: route retries = %v", c.name, p.Routes[0].Retries)
		}
		if !c.ok && len(drops) == 0 {
			t.Errorf("%s: no drop reported", c.name)
		}
	}
}

func TestTimeouts(t *testing.T) {
	dp := profile(route("a", path("/a")), route("b", path("/b")), route("c", path("/c")))
	dp.Routes[0].Timeout = dur(1500 * time.Millisecond)
	dp.Routes[1].Timeout = &durationpb.Duration{Seconds: -1}
	p, drops := Convert(dp)
	if !p.Routes[0].HasTimeout || p.Routes[0].Timeout != 1500*time.Millisecond {
		t.Errorf("timeout a = %v", p.Routes[0].Timeout)
	}
	if p.Routes[1].HasTimeout || len(p.Routes) != 3 {
		t.Errorf("negative timeout kept or route dropped: %+v", p.Routes[1])
	}
	if p.Routes[2].HasTimeout {
		t.Error("timeout invented")
	}
	if len(drops) != 1 || drops[0].Field != "timeout" || drops[0].Route != 1 {
		t.Errorf("drops = %v", drops)
	}
}

func TestDstOverridesAndUsesProfileRoutes(t *testing.T) {
	dp := &destination.DestinationProfile{
		FullyQualifiedName: "books.default.svc.cluster.local",
		DstOverrides: []*destination.WeightedDst{
			{Authority: "books-v2.default.svc.cluster.local:80", Weight: 10000},
			{Authority: "books-v3.default.svc.cluster.local:80", Weight: 0},
			{Authority: "10.0.0.1:80", Weight: 1},
			{Authority: "books-v2.default.svc.cluster.local", Weight: 1},
			{Authority: "books:+0080", Weight: 1},
			{Authority: "-bad.default:80", Weight: 1},
			{Authority: "books:65536", Weight: 1},
			{Authority: ":80", Weight: 1},
		},
	}
	p, drops := Convert(dp)
	var kept []string
	for _, tg := range p.Targets {
		kept = append(kept, tg.Authority)
	}
	if strings.Join(kept, ",") != "books-v2.default.svc.cluster.local:80,books:+0080" {
		t.Errorf("kept targets %v", kept)
	}
	if len(drops) != 6 {
		t.Errorf("drops %v", drops)
	}
	if !p.UsesProfileRoutes() {
		t.Error("profile with targets should override policy")
	}

	for _, c := range []struct {
		fqn  string
		dp   *destination.DestinationProfile
		uses bool
	}{
		{"default profile (no routes)", &destination.DestinationProfile{FullyQualifiedName: "a.b.svc.cluster.local"}, false},
		{"routes and name", profile(route("r", path("/"))), true},
		{"routes, no name", &destination.DestinationProfile{Routes: []*destination.Route{route("r", path("/"))}}, false},
		{"routes, IP name", &destination.DestinationProfile{FullyQualifiedName: "10.0.0.1", Routes: []*destination.Route{route("r", path("/"))}}, false},
		{"all routes dropped", profile(route("r", path("(?=x)"))), false},
		{"trailing dot is a valid name", &destination.DestinationProfile{FullyQualifiedName: "a.b.", Routes: []*destination.Route{route("r", path("/"))}}, true},
	} {
		p, _ := Convert(c.dp)
		if p.UsesProfileRoutes() != c.uses {
			t.Errorf("%s: UsesProfileRoutes = %v", c.fqn, !c.uses)
		}
	}
}

func TestDNSNames(t *testing.T) {
	for name, ok := range map[string]bool{
		"a": true, "a.b.c": true, "a_b.c": true, "a-b.c": true, "a.": true, "A.B": true,
		"": false, ".a": false, "a..b": false, "-a": false, "a-": false, "a-.b": false, "1.2.3.4": false,
		"a.1": false, "a.1b": true, "a b": false, "ü.b": false, strings.Repeat("a", 64): false, strings.Repeat("a", 63): true,
		strings.Repeat("a.", 126) + "a": true, strings.Repeat("a.", 127): false,
	} {
		if validDNSName(name) != ok {
			t.Errorf("validDNSName(%q) = %v", name, !ok)
		}
	}
}

func TestGoDifferencesRecorded(t *testing.T) {
	p, _ := Convert(profile(route("d", path(`/books/\d+`)), route("x", path(`/a{ 2 }`)), route("l", path("/plain"))))
	if len(p.Routes[0].GoDifferences) == 0 || p.Routes[0].Unmatchable {
		t.Errorf("\\d route: %+v", p.Routes[0])
	}
	if !p.Routes[1].Unmatchable {
		t.Error("Go cannot compile `a{ 2 }` yet the route is not marked unmatchable")
	}
	if len(p.Routes[2].GoDifferences) != 0 || p.Routes[2].cond.kind != mPath || !p.Routes[2].cond.isLiteral {
		t.Errorf("plain route should be an exact literal: %+v", p.Routes[2].cond)
	}
}

func TestNilProfile(t *testing.T) {
	p, drops := Convert(nil)
	if p == nil || len(drops) != 0 || p.UsesProfileRoutes() {
		t.Fatal("nil profile")
	}
	if i, _, ok := p.Match("GET", "/"); ok || i != -1 {
		t.Error("nil profile matched")
	}
}
