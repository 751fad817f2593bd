package analyze

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// routesDoc builds a profile from route conditions written as YAML flow
// maps, named r0, r1, ...
func routesDoc(conds ...string) string {
	var b strings.Builder
	b.WriteString("  routes:\n")
	for i, c := range conds {
		fmt.Fprintf(&b, "  - name: r%d\n    condition: %s\n", i, c)
	}
	return sp(b.String())
}

// shadowFindings lists the shadowing findings as "route code: message".
func shadowFindings(t *testing.T, doc string) []string {
	t.Helper()
	var out []string
	for _, is := range checkString(t, doc, false).Issues {
		switch is.Code {
		case CodeRouteUnreachable, CodeRouteOverlap, CodeRouteShadowingUndecided:
			out = append(out, fmt.Sprintf("%d %s: %s", is.RouteIndex, is.Code, is.Message))
		}
	}
	return out
}

func TestShadowing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		conds []string
		want  []string // "index code: substring", all of them and nothing else
	}{
		{"regex covers regex", []string{`{method: GET, pathRegex: '/books/.*'}`, `{method: GET, pathRegex: '/books/[0-9]+'}`},
			[]string{`1 route-unreachable: route 0 "r0" comes first and matches every request this route matches`}},
		{"near miss: other method", []string{`{method: GET, pathRegex: '/books/.*'}`, `{method: POST, pathRegex: '/books/[0-9]+'}`}, nil},
		{"near miss: wider later route overlaps", []string{`{method: GET, pathRegex: '/books/[0-9]+'}`, `{method: GET, pathRegex: '/books/.*'}`},
			[]string{`1 route-overlap: go to route 0 "r0", which comes first, e.g. GET /books/0`}},
		{"covered together", []string{`{pathRegex: '/ids/[0-4][0-9]*'}`, `{pathRegex: '/ids/[5-9][0-9]*'}`, `{pathRegex: '/ids/[0-9]+'}`},
			[]string{`2 route-unreachable: route 0 "r0", route 1 "r1" come first and together match every request`}},
		{"near miss: one path left over", []string{`{pathRegex: '/ids/[0-4][0-9]*'}`, `{pathRegex: '/ids/[5-9][0-9]*'}`, `{pathRegex: '/ids/[0-9]*'}`},
			[]string{`2 route-overlap: route 0 "r0", which comes first, e.g. GET /ids/0`}},
		{"methods split with not", []string{`{method: GET}`, `{not: {method: GET}}`, `{pathRegex: /x}`},
			[]string{`2 route-unreachable: route 0 "r0", route 1 "r1" come first and together`}},
		{"partly anchored alternation", []string{`{pathRegex: '/a|/z'}`, `{pathRegex: /x/y/z}`, `{pathRegex: /z/y}`},
			[]string{`1 route-unreachable: route 0 "r0" comes first`}},
		{"case-insensitive", []string{`{pathRegex: '(?i)/books'}`, `{pathRegex: /BoOkS}`, `{pathRegex: /book}`}, []string{`1 route-unreachable: route 0 "r0" comes first`}},
		{"unicode digits", []string{`{pathRegex: '/n/[0-9]+'}`, `{pathRegex: '/n/\d+'}`},
			[]string{`1 route-overlap: e.g. GET /n/0`}},
		{"empty condition", []string{`{all: [{method: GET}, {not: {method: GET}}]}`}, []string{`0 route-unreachable: matches no request`}},
		{"a query string in the path regex", []string{`{pathRegex: '/.*'}`, `{pathRegex: '/search\?q=.*'}`}, []string{`1 route-unreachable: matches no request`}},
		{"undecided: not modelled earlier", []string{`{pathRegex: '/w/.*\bx'}`, `{pathRegex: /w/x}`},
			[]string{`1 route-shadowing-undecided: could not decide whether route 1 is reachable (route 0 "r0": a word boundary`}},
		{"decided despite an unmodelled earlier route", []string{`{pathRegex: '/w/.*\bx'}`, `{pathRegex: '/w/.*'}`, `{pathRegex: /w/x}`},
			[]string{`2 route-unreachable: route 1 "r1" comes first`, `1 route-shadowing-undecided: (route 0 "r0"`}},
		{"undecided: the later route", []string{`{pathRegex: '/w/.*'}`, `{pathRegex: '(?m)/w/x$'}`},
			[]string{`1 route-shadowing-undecided: its pathRegex: a multi-line anchor`}},
		{"near miss: unmodelled but nothing earlier", []string{`{pathRegex: '/v/.*'}`, `{pathRegex: '(?m)/w/x$'}`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := shadowFindings(t, routesDoc(tc.conds...))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d findings, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for _, w := range tc.want {
				idx, rest, _ := strings.Cut(w, " ")
				code, sub, _ := strings.Cut(rest, ": ")
				found := false
				for _, g := range got {
					found = found || strings.HasPrefix(g, idx+" "+code+": ") && strings.Contains(g, sub)
				}
				if !found {
					t.Errorf("no %q among:\n%s", w, strings.Join(got, "\n"))
				}
			}
		})
	}
}

// TestShadowingBound: past the exploration bound the answer is undecided,
// never a claim either way.
func TestShadowingBound(t *testing.T) {
	doc := routesDoc(`{pathRegex: '/[ab]*a[ab]{12}'}`, `{pathRegex: '/[ab]*b[ab]{12}'}`, `{pathRegex: '/[ab]*'}`)
	docs, err := source.Load("t.yaml", strings.NewReader(doc))
	if err != nil || len(docs) != 1 {
		t.Fatalf("load: %v", err)
	}
	f := ObjectFacts(&docs[0], Options{})
	out := shadowing(f.Translated, keptWhole(f.Kept, f.Drops), 500)
	if len(out) == 0 {
		t.Fatal("no finding")
	}
	for _, l := range out {
		if l.f.Code != CodeRouteShadowingUndecided || !strings.Contains(l.f.Message, "bound") {
			t.Errorf("route %d: %s %s", l.f.RouteIndex, l.f.Code, l.f.Message)
		}
	}
}
