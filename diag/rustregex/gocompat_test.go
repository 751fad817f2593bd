package rustregex

import (
	"strings"
	"testing"
)

func TestGoCompatible(t *testing.T) {
	cases := []struct {
		pat  string
		want string // substring of one Difference's String(); "" = no differences
	}{
		{`/api/v1/users/[^/]+`, ""},
		{`/books/[0-9]+\.json`, ""},
		{`\/`, ""},
		{`\d+`, `Unicode \d`},
		{`(?-u:\d)+`, "Go rejects it"}, // Go has no u flag
		{`\w`, `Unicode \w`},
		{`[\d.]`, `Unicode \d/\w/\s inside the class`},
		{`\bfoo`, "Unicode word characters"},
		{`\<foo\>`, "word-boundary assertion"},
		{`\b{start}`, "word-boundary assertion"},
		{`[a-z&&[^aeiou]]`, "nested class"},
		{`[[:alpha:]--x]`, "nested class"},
		{`a{ 2 }`, "spaces inside a counted repetition"},
		{`a++`, "invalid nested repetition operator"},
		{`x{2}{3}`, "invalid nested repetition operator"},
		{`(?x)a b`, "rejects it"},
		{`a{1001}`, "invalid repeat count"},
		{`\p{Greek}`, "Unicode 16.0"},
		{`\u00e9`, "rejects it"},
		{`\Qa.b\E`, "Rust rejects it"},
		{`\12`, "Rust rejects it"},
		{`a{,3}`, "Rust rejects it"},
		{`\p{^Greek}`, "Rust rejects it"},
	}
	for _, c := range cases {
		diffs := GoCompatible(c.pat)
		var all []string
		for _, d := range diffs {
			all = append(all, d.String())
		}
		joined := strings.Join(all, "\n")
		if c.want == "" {
			if len(diffs) != 0 {
				t.Errorf("GoCompatible(%q) = %s, want none", c.pat, joined)
			}
			continue
		}
		if !strings.Contains(joined, c.want) {
			t.Errorf("GoCompatible(%q) = %q, want it to mention %q", c.pat, joined, c.want)
		}
	}
}
