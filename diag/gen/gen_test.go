package gen

import (
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/policy"
)

var target = Target{Service: "webapp", Namespace: "booksapp"}

func readSpec(t *testing.T, name string) *Spec {
	t.Helper()
	data, err := os.ReadFile("../../plugin/generate/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var spec *Spec
	if strings.HasSuffix(name, ".proto") {
		spec, err = ParseProto(data)
	} else {
		spec, err = ParseOpenAPI(data)
	}
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// The round-trip property on the fixtures: every path of the spec (each
// literal path, and a sample of each template) matches exactly the route
// generated for it, with the proxy's matching (diag/proxy) for the
// ServiceProfile and the proxy's precedence over the policy controller's
// routes (diag/policy) for HTTPRoutes; and check finds no error.
func TestRoundTripFixtures(t *testing.T) {
	for _, name := range []string{"petstore-v2.yaml", "books-v3.json", "voting.proto"} {
		t.Run(name, func(t *testing.T) {
			spec := readSpec(t, name)
			eps, _ := Order(spec.Endpoints)
			if len(eps) != len(spec.Endpoints) {
				t.Fatalf("Order kept %d of %d endpoints", len(eps), len(spec.Endpoints))
			}
			roundTrip(t, eps)
		})
	}
}

func roundTrip(t *testing.T, eps []Endpoint) {
	t.Helper()
	sp := Profile(target, eps)
	bad, err := VerifyProfile(sp, target, eps)
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("ServiceProfile: %s", strings.Join(bad, "; "))
	}
	issues, err := CheckProfile(sp, "", finding.Error)
	if err != nil {
		t.Fatal(err)
	}
	for _, is := range issues {
		t.Errorf("check: %s %s", is.Code, is.Message)
	}
	for _, ruleTimeouts := range []bool{false, true} {
		rs, placed, err := HTTPRoutes(target, eps, ruleTimeouts, ruleTimeouts) // both with and without the catch-all
		if err != nil {
			t.Fatal(err)
		}
		if bad := VerifyRoutes(Simulate(target, nil, rs, nil), eps, placed); len(bad) > 0 {
			t.Errorf("HTTPRoutes (rule timeouts %v): %s", ruleTimeouts, strings.Join(bad, "; "))
		}
	}
}

// In the spec's own order (what `linkerd profile --open-api` writes) the
// parameter route comes before the literal one and takes its requests:
// the verification sees it, so it would catch an ordering regression.
func TestSpecOrderShadows(t *testing.T) {
	eps := []Endpoint{{Method: "GET", Path: "/books/{id}"}, {Method: "GET", Path: "/books/new"}}
	bad, err := VerifyProfile(Profile(target, eps), target, eps)
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) != 1 || !strings.Contains(bad[0], `GET /books/new gets route "GET /books/{id}"`) {
		t.Fatalf("bad = %q", bad)
	}
	ordered, _ := Order(eps)
	if ordered[0].Path != "/books/new" {
		t.Fatalf("Order = %v", ordered)
	}
	if sh, _ := Shadowed(eps); sh[1] != 0 {
		t.Fatalf("Shadowed(spec order) = %v, want route 1 shadowed by 0", sh)
	}
	if sh, _ := Shadowed(ordered); len(sh) != 0 {
		t.Fatalf("Shadowed(ordered) = %v", sh)
	}
}

// A spec whose literal paths look like the sample of a template ("/f/p1"
// next to "/f/{id}", whose Sample is "/f/p1"), or whose template takes it
// ("/f/p{x}"): each endpoint's route still gets a request only it describes,
// so the verification passes (it sent "/f/p1" to "/f/{id}" and failed:
// "report this" for a valid spec).
func TestRoundTripSampleLookalikes(t *testing.T) {
	for _, paths := range [][]string{
		{"/f/p1", "/f/{id}"},
		{"/f/p{x}", "/f/{id}"},
		{"/f/{id}", "/f/{x}{y}", "/f/p1"},
		{"/g/{a}p1", "/g/{b}", "/g/p1/{c}", "/g/p1/p2", "/g/{d}/p2"},
	} {
		for _, method := range []string{"GET", ""} {
			var eps []Endpoint
			for _, p := range paths {
				eps = append(eps, Endpoint{Method: method, Path: p})
			}
			ordered, _ := Order(eps)
			t.Run(fmt.Sprintf("%q %v", method, paths), func(t *testing.T) { roundTrip(t, ordered) })
		}
	}
}

// Order moves a route before a single earlier one covering it even when the
// segment order alone would not (a literal inside a segment).
func TestOrderByCover(t *testing.T) {
	eps := []Endpoint{{Method: "GET", Path: "/files/{name}"}, {Method: "GET", Path: "/files/{name}.json"}, {Method: "GET", Path: "/files/v{n}"}}
	ordered, _ := Order(eps)
	roundTrip(t, ordered)
	if sh, und := Shadowed(ordered); len(sh)+len(und) != 0 {
		t.Fatalf("shadowed %v undecided %v in %v", sh, und, ordered)
	}
}

// Property: random specs (literal and parameter segments, shared
// prefixes, several methods) always round-trip after Order.
func TestRoundTripRandomSpecs(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	segs := []string{"books", "new", "{id}", "authors", "{authorId}", "edit", "latest", "{id}.json", "v{n}", "p1", "p{x}"}
	methods := []string{"GET", "POST", "DELETE", ""}
	for iter := 0; iter < 60; iter++ {
		seen := map[string]bool{}
		var eps []Endpoint
		for n := 1 + rnd.Intn(10); len(eps) < n; {
			var b strings.Builder
			for d := 1 + rnd.Intn(3); d > 0; d-- {
				b.WriteString("/" + segs[rnd.Intn(len(segs))])
			}
			ep := Endpoint{Method: methods[rnd.Intn(len(methods))], Path: b.String(), Retryable: rnd.Intn(3) == 0}
			if rnd.Intn(3) == 0 {
				ep.Timeout = []string{"1s", "500ms", "1m30s"}[rnd.Intn(3)]
			}
			k := ep.Method + " " + normalize(ep.Path)
			if seen[k] {
				continue
			}
			seen[k] = true
			eps = append(eps, ep)
		}
		ordered, _ := Order(eps)
		t.Run(fmt.Sprint(iter), func(t *testing.T) { roundTrip(t, ordered) })
	}
}

func TestParseOpenAPIExtensions(t *testing.T) {
	spec := readSpec(t, "petstore-v2.yaml")
	var got []string
	for _, e := range spec.Endpoints {
		got = append(got, fmt.Sprintf("%s retry=%v timeout=%s", e.Name(), e.Retryable, e.Timeout))
	}
	want := []string{
		"GET /api/pets retry=false timeout=2s",
		"POST /api/pets retry=false timeout=",
		"GET /api/pets/mine retry=false timeout=",
		"DELETE /api/pets/{petId} retry=false timeout=",
		"GET /api/pets/{petId} retry=true timeout=500ms",
		"GET /api/pets/{petId}/photo.{format} retry=false timeout=",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s", strings.Join(got, "\n"))
	}
	for _, bad := range []string{
		`{"swagger":"2.0","paths":{"/a":{"get":{"x-linkerd-retryable":"yes"}}}}`,
		`{"swagger":"2.0","paths":{"/a":{"get":{"x-linkerd-timeout":"10 s"}}}}`,
		`{"openapi":"3.0.0","info":{"title":"x","version":"1"},"paths":{"a":{"get":{}}}}`,
		`{"openapi":"4.0"}`, `[1]`, `{}`,
	} {
		if _, err := ParseOpenAPI([]byte(bad)); err == nil {
			t.Errorf("ParseOpenAPI(%s) accepted", bad)
		}
	}
}

func TestParseProto(t *testing.T) {
	spec := readSpec(t, "voting.proto")
	var got []string
	for _, e := range spec.Endpoints {
		got = append(got, e.Name())
	}
	if want := "POST /emojivoto.v1.VotingService/VotePoop,POST /emojivoto.v1.VotingService/VoteDoughnut,POST /emojivoto.v1.VotingService/Results,POST /emojivoto.v1.EmojiService/ListAll"; strings.Join(got, ",") != want {
		t.Fatalf("got %s", strings.Join(got, ","))
	}
}

// VerifyRoutes re-matches each sample request with the proxy's precedence
// (diag/policymatch): a sample another rule takes, a 404, and a rule whose
// outcome cannot be decided are each one line.
func TestVerifyRoutesPrecedence(t *testing.T) {
	rule := func(ms ...policy.Match) policy.Rule { return policy.Rule{Matches: ms} }
	routes := []policy.Route{
		{Kind: "HTTPRoute", Name: "a", Rules: []policy.Rule{
			rule(policy.Match{Path: "regex:/books/[^/]+"}),
			rule(policy.Match{Path: "exact:/books/new"}),
			rule(policy.Match{Path: "prefix:/books"}),
			rule(policy.Match{Path: "prefix:/q", QueryParams: []policy.ValueMatch{{Name: "v", Kind: "exact", Value: "1"}}}),
		}},
		{Kind: "HTTPRoute", Name: "b", Rules: []policy.Rule{
			rule(policy.Match{Path: "regex:/books/[^/]+", Method: "DELETE"}),
			rule(policy.Match{Path: "prefix:/static/"}),
		}},
	}
	exp := policy.Expected{Policy: &policy.Policy{Protocol: policy.HTTP1, Routes: routes}}
	eps := []Endpoint{
		{Method: "GET", Path: "/books/new"},     // exact and regex tie on length: the earlier rule (a 0)
		{Method: "DELETE", Path: "/books/{id}"}, // a method breaks the tie, across routes (b 0)
		{Method: "GET", Path: "/books/{id}/x"},  // a regex must span the whole path: the prefix (a 2)
		{Method: "GET", Path: "/static/a.css"},  // prefix on a segment boundary (b 1)
		{Method: "GET", Path: "/staticx"},       // 404
		{Method: "GET", Path: "/q"},             // the query string is unknown: undecided
	}
	placed := []Placed{{"a", 1}, {"b", 0}, {"a", 2}, {"b", 1}, {"b", 1}, {"a", 3}}
	got := VerifyRoutes(exp, eps, placed)
	want := []string{
		`GET /books/new gets a rule 0, not a rule 1 (GET /books/new)`,
		`GET /staticx matches no rule (would get a 404), not b rule 1`,
		`GET /q may get a rule 3: cannot be decided (a query-param match, or a regex Go reads differently from the proxy), want a rule 3`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestGatewayDuration(t *testing.T) {
	for in, want := range map[string]string{"1m30s": "90s", "500ms": "500ms", "2h": "2h", "0s": "0s", "1.5s": "1500ms", "120m": "2h"} {
		if got, err := GatewayDuration(in); err != nil || got != want {
			t.Errorf("GatewayDuration(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"1us", "-1s", "10 s", "200000ms1us", "100000001ms"} {
		if got, err := GatewayDuration(in); err == nil {
			t.Errorf("GatewayDuration(%q) = %q, want an error", in, got)
		}
	}
}

func FuzzParseOpenAPI(f *testing.F) {
	for _, name := range []string{"petstore-v2.yaml", "books-v3.json"} {
		data, err := os.ReadFile("../../plugin/generate/testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`swagger: "2.0"
paths: {"/a/{b}": {get: {x-linkerd-retryable: true}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := ParseOpenAPI(data)
		if err != nil {
			return
		}
		checkSpec(t, spec)
	})
}

func FuzzParseProto(f *testing.F) {
	data, err := os.ReadFile("../../plugin/generate/testdata/voting.proto")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`service S { rpc M (A) returns (B); }`))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := ParseProto(data)
		if err != nil {
			return
		}
		checkSpec(t, spec)
	})
}

// checkSpec: what a reader returns is valid and generates verified routes.
func checkSpec(t *testing.T, spec *Spec) {
	if len(spec.Endpoints) == 0 {
		t.Fatal("no endpoints without an error")
	}
	for _, e := range spec.Endpoints {
		if err := checkPath(e.Path); err != nil {
			t.Fatal(err)
		}
	}
	if len(spec.Endpoints) > 50 {
		return
	}
	eps, _ := Order(spec.Endpoints)
	bad, err := VerifyProfile(Profile(target, eps), target, eps)
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("%q", bad)
	}
}

// Routes respect the Gateway API schema's limits (16 rules, 128 matches per
// route) and its path characters (a literal path it rejects as Exact becomes
// a RegularExpression), and still round-trip.
func TestGatewaySchemaLimits(t *testing.T) {
	var eps []Endpoint
	for i := 0; i < 40; i++ {
		eps = append(eps, Endpoint{Method: "GET", Path: fmt.Sprintf("/items/%d/{id}", i)}, Endpoint{Method: "GET", Path: fmt.Sprintf("/items/%d/new", i)})
	}
	eps = append(eps, Endpoint{Method: "GET", Path: "/café"}, Endpoint{Method: "GET", Path: "/a//b"})
	ordered, _ := Order(eps)
	roundTrip(t, ordered)
	rs, placed, err := HTTPRoutes(target, ordered, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) < 6 {
		t.Fatalf("%d routes for %d rules", len(rs), len(ordered))
	}
	for _, r := range rs {
		if len(r.Spec.Rules) > MaxRules {
			t.Errorf("%s has %d rules", r.Name, len(r.Spec.Rules))
		}
		for _, rule := range r.Spec.Rules {
			p := rule.Matches[0].Path
			if *p.Type == "Exact" && !ExactPathOK(*p.Value) {
				t.Errorf("Exact %q", *p.Value)
			}
			if (*p.Value == "/café" || *p.Value == "/a//b") && *p.Type != "RegularExpression" {
				t.Errorf("%q written as %s", *p.Value, *p.Type)
			}
		}
	}
	if placed[len(placed)-1].Route == placed[0].Route {
		t.Fatal("all rules in one route")
	}
	var grpc []Endpoint
	for i := 0; i < 20; i++ {
		grpc = append(grpc, Endpoint{Method: "POST", Path: fmt.Sprintf("/pkg.S/M%d", i), Service: "pkg.S", RPC: fmt.Sprintf("M%d", i)})
	}
	grs, gplaced, err := GRPCRoutes(target, grpc)
	if err != nil {
		t.Fatal(err)
	}
	if len(grs) != 2 || len(grs[0].Spec.Rules) != MaxRules || grs[0].Name != "webapp-01" || grs[1].Name != "webapp-02" {
		t.Fatalf("%d GRPCRoutes %s", len(grs), grs[0].Name)
	}
	if bad := VerifyRoutes(Simulate(target, nil, nil, grs), grpc, gplaced); len(bad) > 0 {
		t.Fatal(bad)
	}
}

func TestExactPathOK(t *testing.T) {
	for p, ok := range map[string]bool{"/books/new": true, "/a%20b": true, "/": true, "/a//b": false, "/a/./b": false, "/a/..": false, "/café": false, "/a%2Fb": false, "/a b": false, "books": false} {
		if ExactPathOK(p) != ok {
			t.Errorf("ExactPathOK(%q) = %v", p, !ok)
		}
	}
}
