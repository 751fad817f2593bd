package migrate

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/gen"
	"github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
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
	d, changed := res.Compare(gen.Request{Method: "GET", Path: "/books/1"})
	if !changed || d.Old.Route != "any" || d.New.Route != "get" {
		t.Fatalf("diff = %+v %v", d, changed)
	}
	if d, changed := res.Compare(gen.Request{Method: "PUT", Path: "/books/1"}); changed {
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
	d, changed := res.Compare(gen.Request{Method: "GET", Path: "/other"})
	if !changed || !d.New.NotFound() {
		t.Fatalf("diff = %+v", d)
	}
	with, _ := Convert(Input{Profile: sp(route("get", "GET", "/books"))})
	if _, changed := with.Compare(gen.Request{Method: "GET", Path: "/other"}); changed {
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
		"/a|/b":              "^(?:/a|/b)$",
		"/books/[^/]+":       "/books/[^/]+",
		"/books/[^/]+/edit":  "/books/[^/]+/edit",
		`/static/.*`:         `/static/.*`,
		"/a*(ab)*b*":         "^(?:/a*(ab)*b*)$",
		"/books/[^/]+x":      "/books/[^/]+x",
		"/books/new":         "/books/new", // Exact
		`^/api/v1/[^/]+$`:    "^(?:/api/v1/[^/]+)$",
		`/files/[^/]+\.json`: `/files/[^/]+\.json`,
		"/a+":                "^(?:/a+)$",
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
		if d, changed := res.Compare(gen.Request{Method: "POST", Path: path}); changed || d.New.Route != want {
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
	raw := []policy.Route{{Name: "r", Rules: []policy.Rule{{Matches: []policy.Match{{Path: "regex:/a*(ab)*b*"}}}}}}
	if _, ok := gen.MatchPolicy(raw, gen.Request{Method: "GET", Path: "/aabab"}); ok {
		t.Fatal("the raw regex spans /aabab: the test no longer shows the difference")
	}
	res, err := Convert(Input{Profile: sp(route("odd", "", "/a*(ab)*b*")), NoCatchAll: true})
	if err != nil {
		t.Fatal(err)
	}
	if d, changed := res.Compare(gen.Request{Method: "GET", Path: "/aabab"}); changed || d.New.Route != "odd" {
		t.Fatalf("%+v", d)
	}
}

// Property behind segmentRegex: for regexes of literal text and [^/]+ /
// [^/]* parts (optionally ending in .*), the leftmost-first match spans the
// path exactly when the anchored regex matches it; pathMatch keeps exactly
// those unwrapped.
func TestSegmentRegexProperty(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	parts := []string{"[^/]+", "[^/]*", "a", "b", "-", `\.`, "ab", "/"}
	const alpha = "ab-./"
	for it := 0; it < 20000; it++ {
		re := "/"
		for k := 1 + rnd.Intn(4); k > 0; k-- {
			re += parts[rnd.Intn(len(parts))]
		}
		if rnd.Intn(4) == 0 {
			re += ".*"
		}
		if !segmentRegex(re) {
			t.Fatalf("segmentRegex(%q) = false", re)
		}
		path := "/"
		for k := 1 + rnd.Intn(7); k > 0; k-- {
			path += string(alpha[rnd.Intn(len(alpha))])
		}
		routes := []policy.Route{{Rules: []policy.Rule{{Matches: []policy.Match{{Path: "regex:" + re}}}}}}
		_, spans := gen.MatchPolicy(routes, gen.Request{Method: "GET", Path: path})
		if anchored := regexp.MustCompile("^(?:" + re + ")$").MatchString(path); spans != anchored {
			t.Fatalf("%s on %s: leftmost-first spans %v, anchored %v", re, path, spans, anchored)
		}
	}
	for _, re := range []string{"/a*(ab)*b*", "/a|/b", "/x?", "/(a)", "/a{2}", `/\d+`} {
		if segmentRegex(re) {
			t.Errorf("segmentRegex(%q) = true", re)
		}
	}
}
