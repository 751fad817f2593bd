package template

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/rustregex"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sample is traffic with overlapping shapes: literals next to ids, ids with
// and without extensions, a path over MaxPathLen, odd bytes and text.
var sample = []struct {
	method, path string
	status       int
}{
	{"GET", "/users/42", 200},
	{"GET", "/users/43?expand=orders", 200},
	{"GET", "/users/me", 200},
	{"GET", "/users/me", 304},
	{"GET", "/users/42/orders/123e4567-e89b-12d3-a456-426614174000", 200},
	{"GET", "/users/42/orders/recent", 200},
	{"DELETE", "/users/42", 204},
	{"DELETE", "/users/44", 0},
	{"POST", "/users", 201},
	{"GET", "/books/1.json", 200},
	{"GET", "/books/2.json", 404},
	{"GET", "/books/1", 200},
	{"GET", "/books/index.json", 200},
	{"POST", "/emojivoto.v1.VotingService/VoteDoughnut", 200},
	{"GET", "/", 200},
	{"GET", "/a//b/", 200},
	{"GET", "/caf%C3%A9/menu", 200},
	{"GET", "/café/日本/7", 200},
	{"GET", "/odd/a+b(c)[d]$e^f|g*h", 200},
	{"GET", "/space\u3000", 200},
	{"GET", "/reports/2024-01-31/summary.pdf", 200},
	{"GET", "/files/" + strings.Repeat("d/", MaxPathLen/2) + "end", 200},
	{"PATCH", "/users/bob@example.com", 200},
}

func sampleGroups() []Group {
	g := NewGrouper(Options{})
	for _, r := range sample {
		g.Add(r.method, r.path, r.status)
	}
	return g.Groups()
}

func TestProfileForGolden(t *testing.T) {
	sp := ProfileFor("web", "emojivoto", "", sampleGroups())
	got, err := yaml.Marshal(sp)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "profile.golden", got)

	if sp.Name != "web.emojivoto.svc.cluster.local" || sp.Namespace != "emojivoto" ||
		sp.APIVersion != "linkerd.io/v1alpha2" || sp.Kind != "ServiceProfile" {
		t.Errorf("identity = %s %s %s/%s", sp.APIVersion, sp.Kind, sp.Namespace, sp.Name)
	}
	if got := ProfileFor("web", "ns", "example.org", nil).Name; got != "web.ns.svc.example.org" {
		t.Errorf("name with a cluster domain = %q", got)
	}
	// The YAML is something the destination controller decodes.
	if _, err := profile.Decode(got); err != nil {
		t.Errorf("generated profile does not decode: %v", err)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (run go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestPathRegex(t *testing.T) {
	tests := []struct{ template, want string }{
		{"/", "/"},
		{"/users/{id}", "/users/[^/]+"},
		{"/books/{id}.json", `/books/[^/]+\.json`},
		{"/a/{rest}", "/a/.*"},
		{"/emojivoto.v1.VotingService/Vote", `/emojivoto\.v1\.VotingService/Vote`},
		{"/a+b(c)[d]$e^f|g*h?", `/a\+b\(c\)\[d\]\$e\^f\|g\*h\?`},
		{"/space\u3000", `/space\x{3000}`},
		{"/tab\t", `/tab\x{9}`},
		{"/x/{", `/x/\{`},
		{"/café", "/café"},
	}
	for _, tt := range tests {
		if got := PathRegex(tt.template); got != tt.want {
			t.Errorf("PathRegex(%q) = %q, want %q", tt.template, got, tt.want)
		}
	}
}

// routeIndex returns the index of the first route the proxy would pick for
// method and path, or -1.
func routeIndex(routes []*profile.RouteSpec, compiled []*regexp.Regexp, method, path string) int {
	for i, r := range routes {
		if r.Condition.Method != "" && r.Condition.Method != method {
			continue
		}
		if compiled[i].MatchString(path) {
			return i
		}
	}
	return -1
}

// checkRoutes proves that every route compiles in the proxy, that Go's
// matching predicts the proxy's, and that each example path is served by its
// own group's route under first-match order.
func checkRoutes(t *testing.T, groups []Group) {
	t.Helper()
	routes := Routes(groups)
	compiled := make([]*regexp.Regexp, len(routes))
	byName := make(map[string]int, len(routes))
	for i, r := range routes {
		re := r.Condition.PathRegex
		if err := rustregex.Check(re); err != nil {
			t.Errorf("route %q: the proxy would reject %q: %v", r.Name, re, err)
		}
		if d := rustregex.GoCompatible(re); len(d) > 0 {
			t.Errorf("route %q: Go and the proxy read %q differently: %v", r.Name, re, d)
		}
		compiled[i] = regexp.MustCompile("^(?:" + re + ")$") // anchored like the proxy
		byName[r.Name] = i
	}
	for _, g := range groups {
		if g.IsOther() {
			continue
		}
		own, ok := byName[RouteName(g.Method, g.Template)]
		if !ok {
			t.Errorf("group %s %s has no route", g.Method, g.Template)
			continue
		}
		for _, ex := range g.Examples {
			if !compiled[own].MatchString(ex) {
				t.Errorf("route %q (%s) does not match its example %q", routes[own].Name, routes[own].Condition.PathRegex, ex)
			}
			if got := routeIndex(routes, compiled, g.Method, ex); got != own && !strings.HasSuffix(g.Template, RestPlaceholder) {
				t.Errorf("%s %q is taken by route %q before its own %q", g.Method, ex, routes[got].Name, routes[own].Name)
			}
		}
	}
}

func TestRoutesSample(t *testing.T) {
	groups := sampleGroups()
	checkRoutes(t, groups)

	var names []string
	for _, r := range Routes(groups) {
		names = append(names, r.Name)
	}
	// Literals before "{id}.ext" before "{id}" at the first differing segment.
	order := []string{"GET /books/index.json", "GET /books/{id}.json", "GET /books/{id}", "GET /users/me", "GET /users/{id}"}
	pos := make(map[string]int)
	for i, n := range names {
		pos[n] = i
	}
	for i := 1; i < len(order); i++ {
		a, aok := pos[order[i-1]]
		b, bok := pos[order[i]]
		if !aok || !bok || a > b {
			t.Errorf("route order %q: want %q before %q", names, order[i-1], order[i])
		}
	}
}

// TestRoutesRandom checks the no-stealing property on generated traffic
// built from segments of every kind.
func TestRoutesRandom(t *testing.T) {
	parts := []string{
		"", "a", "users", "me", "v1", "42", "7", "1.json", "index.json", "x.json",
		"5f2b9c0e", "deadbeef", "123e4567-e89b-12d3-a456-426614174000", "2024-01-31",
		"01ARZ3NDEKTSV4RRFFQ69G5FAV", "bob@x.io", "caf%C3%A9", "日本", "a.b", "{x}", "7.png", "x.7",
	}
	methods := []string{"GET", "POST", ""}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		g := NewGrouper(Options{MaxTemplates: 200, MaxExamples: 5})
		for range 400 {
			var b strings.Builder
			for range 1 + rng.IntN(4) {
				b.WriteByte('/')
				b.WriteString(parts[rng.IntN(len(parts))])
			}
			g.Add(methods[rng.IntN(len(methods))], b.String(), 200)
		}
		t.Run(fmt.Sprint(round), func(t *testing.T) { checkRoutes(t, g.Groups()) })
	}
}

func TestRoutesSkipsOtherAndDuplicates(t *testing.T) {
	groups := []Group{
		{Method: "GET", Template: "/a", Count: 3},
		{Method: OtherMethod, Template: OtherTemplate, Count: 9},
		{Method: "GET", Template: "/a", Count: 1},
		{Method: "", Template: "/a", Count: 1},
	}
	routes := Routes(groups)
	if len(routes) != 2 {
		t.Fatalf("got %d routes, want 2", len(routes))
	}
	if routes[0].Name != "GET /a" || routes[0].Condition.Method != "GET" {
		t.Errorf("first route = %+v, want GET /a", routes[0])
	}
	if routes[1].Name != "/a" || routes[1].Condition.Method != "" {
		t.Errorf("second route = %+v, want /a without a method, after the method-specific one", routes[1])
	}
}

func TestCompareTemplates(t *testing.T) {
	ordered := []string{
		"/",
		"/a",
		"/a/b",
		"/a/{id}.json",
		"/a/{id}",
		"/a/{id}/b",
		"/a/{rest}",
		"/{id}",
		"{rest}",
	}
	for i := range ordered {
		for j := range ordered {
			got := compareTemplates(ordered[i], ordered[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if (got < 0) != (want < 0) || (got > 0) != (want > 0) {
				t.Errorf("compareTemplates(%q, %q) = %d, want sign %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

// FuzzRouteMatchesPath checks, for any path, that the route built from its
// template compiles in the proxy and matches the path as the proxy sees it.
func FuzzRouteMatchesPath(f *testing.F) {
	for _, r := range sample {
		f.Add(r.path)
	}
	f.Add("/a\n/\t b /\u200b/x.Json?q")
	f.Fuzz(func(t *testing.T, path string) {
		re := PathRegex(Template(path))
		if err := rustregex.Check(re); err != nil {
			t.Fatalf("path %q: the proxy would reject %q: %v", path, re, err)
		}
		if d := rustregex.GoCompatible(re); len(d) > 0 {
			t.Fatalf("path %q: Go and the proxy read %q differently: %v", path, re, d)
		}
		if ex := examplePath(path); !regexp.MustCompile("^(?:" + re + ")$").MatchString(ex) {
			t.Fatalf("path %q: %q does not match %q", path, re, ex)
		}
	})
}

func TestRoutesLeaveOutCatchAllsAndEscapeNames(t *testing.T) {
	g := NewGrouper(Options{})
	g.Add("GET", "/"+strings.Repeat("x", MaxPathLen+10), 200) // templated as /{rest}
	g.Add("GET", "/search/a\u202eb", 200)
	g.Add("GET", "/books", 200)
	routes := Routes(g.Groups())
	var names []string
	for _, r := range routes {
		names = append(names, r.Name)
		if r.Condition.PathRegex == ".*" || r.Condition.PathRegex == "/.*" {
			t.Errorf("catch-all route %q would take every later request", r.Name)
		}
	}
	if len(routes) != 2 {
		t.Fatalf("routes = %q", names)
	}
	for _, n := range names {
		if strings.ContainsRune(n, '\u202e') {
			t.Errorf("bidi override in route name %q", n)
		}
	}
	if !slices.Contains(names, `GET /search/a\x{202E}b`) {
		t.Errorf("names = %q", names)
	}
}
