package lang

import (
	"regexp"
	"strings"
	"testing"
)

// anchor adds ^ and $ as text, as the proxy does (the engine's callers do
// this; the tests spell it out).
func anchor(re string) string {
	re = strings.TrimSpace(re)
	if !strings.HasPrefix(re, "^") {
		re = "^" + re
	}
	if !strings.HasSuffix(re, "$") {
		re += "$"
	}
	return re
}

// spec is a small notation for conditions in tables:
//
//	GET            method
//	/books/.*      path regex (anchored like the proxy)
//	=/x            exact path, ~/x Gateway prefix
//	!c             not, a&b all, a|b any: only at the top, split on " & " / " | "
func (e *Engine) spec(s string) Cond {
	if parts := strings.Split(s, " | "); len(parts) > 1 {
		var cs []Cond
		for _, p := range parts {
			cs = append(cs, e.spec(p))
		}
		return Or(cs...)
	}
	if parts := strings.Split(s, " & "); len(parts) > 1 {
		var cs []Cond
		for _, p := range parts {
			cs = append(cs, e.spec(p))
		}
		return And(cs...)
	}
	switch {
	case s == "true":
		return True()
	case strings.HasPrefix(s, "!"):
		return Not(e.spec(s[1:]))
	case strings.HasPrefix(s, "="):
		return Exact(s[1:])
	case strings.HasPrefix(s, "~"):
		return Prefix(s[1:])
	case s != "" && s == strings.ToUpper(s) && !strings.ContainsAny(s, "/^\\[.") && s[0] >= 'A' && s[0] <= 'Z':
		return Method(s)
	}
	return e.Path(anchor(s))
}

func TestCovered(t *testing.T) {
	for _, tc := range []struct {
		later   string
		earlier []string
		covered bool
		by      []int
	}{
		{"GET & /books/[0-9]+", []string{"GET & /books/.*"}, true, []int{0}},
		{"/books/[0-9]+", []string{"GET & /books/.*"}, false, nil},
		{"GET & /books/[0-9]+", []string{"POST & /books/.*", "/books/[0-9]*"}, true, []int{1}},
		{"GET & /books/.*", []string{"GET & /books/[0-9]+"}, false, nil},
		// Together, not alone.
		{"/a/.*", []string{"/a/[0-4].*", "/a/[^0-4].*", "/a/"}, true, []int{0, 1, 2}},
		{"/a/.*", []string{"/a/[0-4].*", "/a/[^0-4].*"}, false, nil},
		// Method algebra: GET or not GET.
		{"/x", []string{"GET", "!GET & /.*"}, true, []int{0, 1}},
		{"/x", []string{"GET", "POST"}, false, nil},
		// any / not in the later route.
		{"GET & !/books/[0-9]+", []string{"GET & /.*"}, true, []int{0}},
		{"GET & !/books/[0-9]+", []string{"GET & /[a-z/]*"}, false, nil},
		{"/a | /b", []string{"/a", "/b"}, true, []int{0, 1}},
		{"/a | /c", []string{"/a", "/b"}, false, nil},
		// Textual anchoring: "^/a|/b$" takes every path that starts with
		// /a or ends with /b.
		{"/ax/y", []string{"^/a|/b$"}, true, []int{0}},
		{"/zz/b", []string{"^/a|/b$"}, true, []int{0}},
		{"/b/zz", []string{"^/a|/b$"}, false, nil},
		{"/(a|b)", []string{"/a|/b"}, true, []int{0}},
		{"/(a|b)/x", []string{"/a|/b"}, false, nil},
		// Case-insensitive.
		{"/BOOKS", []string{"(?i)/books"}, true, []int{0}},
		{"/Books/[a-z]+", []string{"(?i)/books/.*"}, true, []int{0}},
		{"(?i)/books", []string{"/books"}, false, nil},
		// Unicode: Rust's \d is Unicode, so [0-9] does not cover it.
		{`/n/\d+`, []string{"/n/[0-9]+"}, false, nil},
		{"/n/[0-9]+", []string{`/n/\d+`}, true, []int{0}},
		{`/n/[α-ω]+`, []string{`/n/\w+`}, true, []int{0}},
		{`/n/\p{Greek}+`, []string{`/n/\w+`}, false, nil}, // U+0375 is Greek, not a letter
		{`/n/\w+`, []string{`/n/[a-zA-Z0-9_]+`}, false, nil},
		{`/s/\s`, []string{`/s/[ \t\n\x0B\f\r]`}, false, nil},
		{`/s/.`, []string{`/s/\S`, `/s/\s`}, true, []int{0, 1}},
		// Paths start with / and hold no control characters, spaces, ? or #.
		{"/.*", []string{"/[^\\n]*"}, true, []int{0}},
		{".*", []string{"/.*"}, true, []int{0}},
		{"/.*", []string{"/[^ ]*"}, true, []int{0}},
		{"/.*", []string{"/[^?#]*"}, true, []int{0}},
		{"/.*", []string{"/[^<]*"}, false, nil},
		// Exact and Gateway prefix.
		{"=/foo", []string{"~/foo"}, true, []int{0}},
		{"=/foo/bar", []string{"~/foo/"}, true, []int{0}},
		{"=/foobar", []string{"~/foo"}, false, nil},
		{"/foo/.*", []string{"~/foo"}, true, []int{0}},
		{"/foo.*", []string{"~/foo"}, false, nil},
		{"/anything", []string{"~/"}, true, []int{0}},
		{"~/foo", []string{"/foo(/.*)?"}, true, []int{0}},
		{"~/foo", []string{"/foo"}, false, nil},
		{"=/foo", []string{"/fo+"}, true, []int{0}},
		// Nothing earlier.
		{"/a", nil, false, nil},
		{"GET & !GET", nil, true, nil},
		{"GET & !GET", []string{"GET"}, true, nil},
		{"/a b", []string{"/a.*"}, true, nil}, // no request path has a space
		{"/search\\?q=.*", []string{"/.*"}, true, nil},
	} {
		e := NewEngine(0)
		var earlier []Cond
		for _, s := range tc.earlier {
			earlier = append(earlier, e.spec(s))
		}
		res := e.Covered(e.spec(tc.later), earlier)
		if !res.Decided {
			t.Errorf("%q by %q: undecided (%s)", tc.later, tc.earlier, res.Reason)
			continue
		}
		if res.Covered != tc.covered {
			t.Errorf("%q by %q: covered=%v, want %v (witness %v)", tc.later, tc.earlier, res.Covered, tc.covered, res.Witness)
			continue
		}
		if tc.covered && !equalInts(res.By, tc.by) {
			t.Errorf("%q by %q: by=%v, want %v", tc.later, tc.earlier, res.By, tc.by)
		}
		if !tc.covered {
			checkWitness(t, e, tc.later, tc.earlier, res.Witness)
		}
	}
}

// checkWitness verifies a witness independently: it matches later and no
// earlier condition, evaluated directly (Go's regexp where it agrees with
// Rust, i.e. ASCII-only witnesses; a simple evaluator otherwise).
func checkWitness(t *testing.T, e *Engine, later string, earlier []string, w *Request) {
	t.Helper()
	if w == nil {
		t.Errorf("%q by %q: not covered but no witness", later, earlier)
		return
	}
	if !evalSpec(t, later, *w) {
		t.Errorf("%q: witness %v does not match it", later, *w)
	}
	for _, s := range earlier {
		if evalSpec(t, s, *w) {
			t.Errorf("%q by %q: witness %v matches %q", later, earlier, *w, s)
		}
	}
}

// evalSpec evaluates a spec condition on one request without the engine.
func evalSpec(t *testing.T, s string, r Request) bool {
	if parts := strings.Split(s, " | "); len(parts) > 1 {
		for _, p := range parts {
			if evalSpec(t, p, r) {
				return true
			}
		}
		return false
	}
	if parts := strings.Split(s, " & "); len(parts) > 1 {
		for _, p := range parts {
			if !evalSpec(t, p, r) {
				return false
			}
		}
		return true
	}
	switch {
	case s == "true":
		return true
	case strings.HasPrefix(s, "!"):
		return !evalSpec(t, s[1:], r)
	case strings.HasPrefix(s, "="):
		return r.Path == s[1:]
	case strings.HasPrefix(s, "~"):
		p := strings.TrimRight(s[1:], "/")
		return r.Path == p || strings.HasPrefix(r.Path, p+"/")
	case s != "" && s == strings.ToUpper(s) && !strings.ContainsAny(s, "/^\\[.") && s[0] >= 'A' && s[0] <= 'Z':
		return r.Method == s
	}
	// Go agrees with Rust on these patterns once \d is spelled as Rust
	// reads it.
	return regexp.MustCompile(rustPerl.Replace(anchor(s))).MatchString(r.Path)
}

// rustPerl spells Rust's Unicode \d, \w and \s (UTS#18 Annex C, as the
// regex crate documents them) for Go, outside classes.
var rustPerl = strings.NewReplacer(
	`\d`, `\p{Nd}`,
	`\w`, `[\p{L}\p{M}\p{Nd}\p{Pc}\p{Nl}]`,
	`\s`, `[\t\n\v\f\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]`,
	`\S`, `[^\t\n\v\f\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]`,
)

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOverlap(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want string // "" when disjoint
	}{
		{"GET & /books/.*", "GET & /books/[0-9]+", "GET /books/0"},
		{"GET & /books/.*", "POST & /books/[0-9]+", ""},
		{"/books/[0-9]+", "/books/new|/books/[a-z]+", ""},
		{"/books/[a-z0-9]+", "/books/new", "GET /books/new"},
		{"^/a|/b$", "/x/b", "GET /x/b"},
		{"^/a|/b$", "/x/c", ""},
		{"~/foo", "/foo.*", "GET /foo"},
		{"~/foo", "/foob.*", ""},
		{"!GET", "/a", "POST /a"},
		{"(?i)/ABC", "/abc", "GET /abc"},
		{`/\d`, "/[^0-9]", "GET /\u0660"},
	} {
		e := NewEngine(0)
		req, ok, decided := e.Overlap(e.spec(tc.a), e.spec(tc.b))
		if !decided {
			t.Errorf("%q & %q: undecided", tc.a, tc.b)
			continue
		}
		got := ""
		if ok {
			got = req.Method + " " + req.Path
		}
		if got != tc.want {
			t.Errorf("%q & %q: got %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestUndecided(t *testing.T) {
	for _, tc := range []struct {
		re, why string
	}{
		{`/a\b`, "word boundary"},
		{`(?m)/a$`, "multi-line"},
		{`/[a[b]]`, "read differently"},
		{`[\W]`, `\W inside a character class`},
		{`/(?x) a`, "read differently"},
		{`/a(`, "cannot compile"},
	} {
		e := NewEngine(0)
		res := e.Covered(e.Path(anchor("/a")), []Cond{e.Path(anchor(tc.re))})
		if res.Decided || !strings.Contains(res.Reason, tc.why) {
			t.Errorf("%q: decided=%v reason %q, want undecided with %q", tc.re, res.Decided, res.Reason, tc.why)
		}
	}
	// The bound: (a|b)*a(a|b){12} needs 2^13 DFA states.
	e := NewEngine(1000)
	res := e.Covered(e.Path(anchor("/[ab]*a[ab]{12}")), []Cond{e.Path(anchor("/[ab]*b[ab]{12}"))})
	if res.Decided || !strings.Contains(res.Reason, "bound") {
		t.Errorf("bound: decided=%v reason %q", res.Decided, res.Reason)
	}
	e = NewEngine(100000)
	res = e.Covered(e.Path(anchor("/[ab]*a[ab]{12}")), []Cond{e.Path(anchor("/[ab]*b[ab]{12}"))})
	if !res.Decided || res.Covered {
		t.Errorf("with a larger bound: %+v", res)
	}
}

func TestPrefilter(t *testing.T) {
	e := NewEngine(0)
	for _, tc := range []struct {
		c      Cond
		prefix string
	}{
		{e.Path(anchor("/books/.*")), "/books/"},
		{e.Path(anchor("/books")), "/books"},
		{e.Path(anchor("(?i)/books")), ""},
		{e.Path(anchor("^/a|/b$")), ""},
		{Or(e.Path(anchor("/api/v1")), e.Path(anchor("/api/v2"))), "/api/v"},
		{And(Method("GET"), Prefix("/x/")), "/x"},
		{Or(Exact("/é1"), Exact("/é2")), "/é"},
	} {
		if got := RequiredPrefix(tc.c); got != tc.prefix {
			t.Errorf("prefix %q, want %q", got, tc.prefix)
		}
	}
}

func TestIndex(t *testing.T) {
	e := NewEngine(0)
	conds := []Cond{
		e.Path(anchor("/books/.*")),                         // 0
		And(Method("POST"), Exact("/books/1")),              // 1
		e.Path(anchor("/authors/.*")),                       // 2
		e.Path(anchor("/b.*")),                              // 3
		And(Method("GET"), e.Path(anchor("/books/[0-9]+"))), // 4
		e.Path(anchor(".*")),                                // 5
	}
	x := NewIndex(conds)
	for j, want := range [][]int{nil, {0}, nil, {0, 1}, {0, 3}, {0, 1, 2, 3, 4}} {
		if got := x.Earlier(j); !equalInts(got, want) {
			t.Errorf("Earlier(%d) = %v, want %v", j, got, want)
		}
	}
}

// FuzzRegex compiles arbitrary patterns and explores them with a small
// bound: no panic, and every example found really matches (checked with
// Go's regexp on ASCII examples of patterns without Perl classes, where Go
// and Rust agree).
func FuzzRegex(f *testing.F) {
	for _, s := range []string{"/books/[^/]+", "^/a|/b$", `/\d+`, "(?i)/ß", `/x\b`, "(a|b", "/[ab]*a[ab]{5}", `\z|\A`, "^$", "/.{3,7}?x"} {
		f.Add(s, "/books/1")
	}
	f.Fuzz(func(t *testing.T, re, other string) {
		if len(re) > 512 || len(other) > 512 {
			return
		}
		e := NewEngine(2000)
		a := e.Path(anchor(re))
		b := e.Path(anchor(other))
		_ = e.Covered(a, []Cond{b, Prefix(other)})
		req, ok, decided := e.Example(And(a, Not(b)))
		if !decided || !ok || strings.ContainsAny(re+other, `\`) {
			return
		}
		for _, c := range req.Path {
			if c > 0x7f {
				return
			}
		}
		ra, err1 := regexp.Compile(anchor(re))
		rb, err2 := regexp.Compile(anchor(other))
		if err1 != nil || err2 != nil {
			return
		}
		if !ra.MatchString(req.Path) || rb.MatchString(req.Path) {
			t.Fatalf("example %q for %q and not %q is wrong", req.Path, re, other)
		}
	})
}

func TestMethodsOnly(t *testing.T) {
	e := NewEngine(0)
	req, ok, decided := e.Example(Method("DELETE"))
	if !decided || !ok || req.String() != "DELETE /" {
		t.Errorf("Example(DELETE) = %v %v %v", req, ok, decided)
	}
	req, ok, _ = e.Example(Not(Or(Method("GET"), Method("DELETE"))))
	if !ok || req.String() != "POST /" {
		t.Errorf("Example(not GET or DELETE) = %v %v", req, ok)
	}
	if _, ok, _ := e.Example(And(Method("GET"), Not(Method("GET")))); ok {
		t.Errorf("GET and not GET has an example")
	}
	if res := e.Covered(Method("GET"), []Cond{And()}); !res.Covered || !equalInts(res.By, []int{0}) {
		t.Errorf("empty all does not cover GET: %+v", res)
	}
}

func TestFoldedPrefilter(t *testing.T) {
	e := NewEngine(0)
	ci := e.Path(anchor("(?i)/api/v1/export"))
	if mayIntersect(ci, e.Path(anchor("/api/v2/.*"))) {
		t.Error("(?i)/api/v1/export may intersect /api/v2/.*")
	}
	for _, other := range []string{"/API/V1/.*", "/api/v1/EXPORT", "/ap.*", "/.*"} {
		if !mayIntersect(ci, e.Path(anchor(other))) {
			t.Errorf("(?i)/api/v1/export may not intersect %s", other)
		}
	}
	// K folds with the Kelvin sign.
	if !mayIntersect(e.Path(anchor("(?i)/k")), Exact("/\u212a")) {
		t.Error("(?i)/k does not meet the Kelvin sign")
	}
	x := NewIndex([]Cond{ci, e.Path(anchor("/api/v2/x")), e.Path(anchor("/API/v1/export"))})
	if got := x.Earlier(1); len(got) != 0 {
		t.Errorf("Earlier(1) = %v", got)
	}
	if got := x.Earlier(2); !equalInts(got, []int{0}) {
		t.Errorf("Earlier(2) = %v", got)
	}
}

func TestWholePathPrefilter(t *testing.T) {
	e := NewEngine(0)
	for _, tc := range []struct {
		a, b Cond
		want bool
	}{
		{e.Path(anchor("/a")), e.Path(anchor("/a/.*")), false},
		{Exact("/a"), e.Path(anchor("/a.*")), true},
		{And(Method("GET"), e.Path(anchor("/a/b"))), e.Path(anchor("/a/b/[0-9]+")), false},
		{e.Path(anchor("/a/b")), Prefix("/a/b"), true},
		{e.Path(anchor("/a/b")), e.Path(anchor("/a/c")), false},
		{e.Path(anchor("(?i)/a/b")), e.Path(anchor("/A/B/c")), true}, // not whole: no claim
	} {
		if got := mayIntersect(tc.a, tc.b); got != tc.want {
			t.Errorf("mayIntersect(%v, %v) = %v", prefixInfo(tc.a), prefixInfo(tc.b), got)
		}
	}
}

func TestBudget(t *testing.T) {
	e := NewEngine(0)
	e.SetBudget(50)
	a, b := e.Path(anchor("/books/[0-9]+")), e.Path(anchor("/books/.*"))
	if res := e.Covered(a, []Cond{b}); res.Decided || !strings.Contains(res.Reason, "budget") {
		t.Errorf("over budget: %+v", res)
	}
	if res := e.Covered(Exact("/x"), []Cond{Prefix("/x")}); res.Decided {
		t.Errorf("a spent budget still decides: %+v", res)
	}
	e.SetBudget(-1)
	if res := e.Covered(a, []Cond{b}); !res.Covered {
		t.Errorf("unlimited: %+v", res)
	}
	// The per-question step bound, with Unicode classes that make many
	// cells.
	e = NewEngine(10)
	if res := e.Covered(e.Path(anchor(`/\p{L}*x`)), []Cond{e.Path(anchor(`/\p{Greek}*`))}); res.Decided {
		t.Errorf("step bound not applied: %+v", res)
	}
}
