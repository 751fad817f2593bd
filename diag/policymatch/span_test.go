package policymatch

import (
	"math/rand"
	"regexp"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/policy"
)

func TestSpanSafe(t *testing.T) {
	for re, want := range map[string]bool{
		`/books/[^/]+`:        true,
		`/users/\d+/x`:        true,
		`/static/.*`:          true,
		`/a/b`:                true,
		`/v[0-9]+/items`:      true,
		`a|ab`:                false, // the first alternative wins: "ab" does not match
		`/a/.*/b`:             false, // .* can also eat '/'
		`/a+?`:                false, // lazy
		`/x/[a-z]*[a-z0-9]`:   false, // the run overlaps what follows
		`/search|/search/.*`:  false,
		`/(a|b)c`:             false,
		`/books/[^/]+/(edit)`: false,
	} {
		if got := spanSafe(re); got != want {
			t.Errorf("spanSafe(%q) = %v, want %v", re, got, want)
		}
	}
}

// Property: for every pattern spanSafe accepts, a string the anchored
// regex matches is spanned by the leftmost-first match (what the proxy
// checks), on random strings over a small alphabet.
func TestSpanSafeProperty(t *testing.T) {
	patterns := []string{`/a[^/]+`, `/[ab]+/c`, `/a*b`, `/a?b+`, `/.*`, `[a-c]+/[^/]*`, `/a\d+b`, `(?i)/A+b`}
	rnd := rand.New(rand.NewSource(1))
	const alphabet = "/abcAB1"
	for _, p := range patterns {
		if !spanSafe(p) {
			t.Fatalf("%q should be span-safe", p)
		}
		full := regexp.MustCompile(`^(?:` + p + `)$`)
		re := regexp.MustCompile(p)
		for i := 0; i < 20000; i++ {
			b := make([]byte, 1+rnd.Intn(7))
			for j := range b {
				b[j] = alphabet[rnd.Intn(len(alphabet))]
			}
			s := string(b)
			if full.MatchString(s) {
				loc := re.FindStringIndex(s)
				if loc == nil || loc[0] != 0 || loc[1] != len(s) {
					t.Fatalf("%q on %q: anchored match but leftmost-first %v", p, s, loc)
				}
			}
		}
	}
}

// Property behind segmentRegex: for regexes of literal text and [^/]+ /
// [^/]* parts (optionally ending in .*), the leftmost-first match spans the
// string exactly when the anchored regex matches it, and the Matcher (which
// then skips the leftmost-first confirmation) agrees.
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
		if !SpanSafe(re) {
			t.Fatalf("SpanSafe(%q) = false", re)
		}
		path := "/"
		for k := 1 + rnd.Intn(7); k > 0; k-- {
			path += string(alpha[rnd.Intn(len(alpha))])
		}
		loc := regexp.MustCompile(re).FindStringIndex(path)
		spans := loc != nil && loc[0] == 0 && loc[1] == len(path)
		if anchored := regexp.MustCompile("^(?:" + re + ")$").MatchString(path); spans != anchored {
			t.Fatalf("%s on %s: leftmost-first spans %v, anchored %v", re, path, spans, anchored)
		}
		m, err := NewRoutes([]policy.Route{{Rules: []policy.Rule{{Matches: []policy.Match{{Path: "regex:" + re}}}}}}, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Match(&Request{Method: "GET", Path: path}).Outcome == Matched; got != spans {
			t.Fatalf("%s on %s: Matcher %v, leftmost-first spans %v", re, path, got, spans)
		}
	}
	for _, re := range []string{"/a*(ab)*b*", "/a|/b", "/x?", "/(a)", "/a{2}", `/\w+`} {
		if segmentRegex(re) {
			t.Errorf("segmentRegex(%q) = true", re)
		}
	}
	for _, re := range []string{"/a*(ab)*b*", "/a|/ab", "/(a)b|/ab/"} {
		if SpanSafe(re) {
			t.Errorf("SpanSafe(%q) = true", re)
		}
	}
}

// A template-shaped regex that spanSafe alone does not prove (the [^/]+
// run overlaps the '.' after it) is decided by the anchored test alone:
// no allocation on a hit.
func TestSegmentRegexHitAllocatesNothing(t *testing.T) {
	const re = `/files/[^/]+\.json`
	if spanSafe(re) || !SpanSafe(re) {
		t.Fatalf("spanSafe %v, SpanSafe %v", spanSafe(re), SpanSafe(re))
	}
	m, err := NewRoutes([]policy.Route{{Rules: []policy.Rule{{Matches: []policy.Match{{Path: "regex:" + re}}}}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	req := &Request{Method: "GET", Path: "/files/a.b.json"}
	if m.Match(req).Outcome != Matched {
		t.Fatal("no match")
	}
	if n := testing.AllocsPerRun(100, func() { m.Match(req) }); n != 0 {
		t.Fatalf("%v allocations per match", n)
	}
}
