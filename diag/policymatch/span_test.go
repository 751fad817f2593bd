package policymatch

import (
	"math/rand"
	"regexp"
	"testing"
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
