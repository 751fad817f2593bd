package rustregex

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// EstimateSize returns the estimated compiled size in bytes of a pattern the
// crate parses, or -1 if it does not parse (for tests: Check applies the
// limit itself). The estimate is calibrated against regex 1.13.1 on 64-bit
// targets.
func EstimateSize(pattern string) int64 {
	if !utf8.ValidString(pattern) {
		return -1
	}
	root, err := parse(pattern)
	if err != nil {
		return -1
	}
	return estimateSize(root)
}

type checkCase struct {
	pat  string
	kind string // "" = accepted by regex 1.13.1; else the Error.Kind
	off  int    // expected Offset when kind != ""
}

// Every verdict below was observed with the real regex 1.13.1 crate.
var checkCases = []checkCase{
	// accepted
	{`/api/v1/users/[^/]+`, "", 0},
	{`^/books/\d+\.json$`, "", 0},
	{`\/`, "", 0}, // superfluous escapes of ASCII punctuation are fine since regex 1.8
	{`\_`, "", 0},
	{`\ `, "", 0},
	{`\<`, "", 0}, // word-start assertion (regex >= 1.10)
	{`\>`, "", 0},
	{`\b{start}`, "", 0},
	{`\b{5}`, "", 0}, // not a special word boundary: counted repetition of \b
	{`(?x)\b{ start }`, "", 0},
	{`\z`, "", 0},
	{`\A`, "", 0},
	{`[a-z&&[^aeiou]]`, "", 0},
	{`[[:alpha:]--x]`, "", 0},
	{`[a~~b]`, "", 0},
	{`[[:word:]]`, "", 0},
	{`[[:foo:]]`, "", 0}, // not an ASCII class: a nested class of ':foo'
	{`x{2}{3}`, "", 0},
	{`a++`, "", 0}, // not possessive: a repetition of a repetition
	{`a*+`, "", 0},
	{`a|`, "", 0},
	{`|`, "", 0},
	{`()`, "", 0},
	{`(?-u:\B)`, "", 0},
	{`(?-u:\x{FF})`, "", 0}, // braces make it the code point U+00FF, not a byte
	{`(?-u)é`, "", 0},
	{`\pN`, "", 0},
	{`\p{Greek}`, "", 0},
	{`\p{ L }`, "", 0},
	{`\p{isL}`, "", 0},
	{`\p{sc:Greek}`, "", 0},
	{`\p{sc!=Greek}`, "", 0},
	{`\p{Garay}`, "", 0}, // Unicode 16 script
	{`\p{age=16.0}`, "", 0},
	{`\pl`, "", 0},
	{`(?P<n>a)`, "", 0},
	{`(?<n>a)`, "", 0},
	{`(?P<a.b>x)`, "", 0},
	{`(?P<é>x)`, "", 0},
	{`(?<a]>x)`, "", 0},
	{"(?x) a b # c", "", 0},
	{`[]a]`, "", 0},
	{`[-]`, "", 0},
	{`(?i)ſ`, "", 0},
	{`(?R)a$`, "", 0},
	{`(?U)a*`, "", 0},
	{`(?i)[^x]`, "", 0},
	{`\u00e9`, "", 0},
	{`\U0001F600`, "", 0},
	{`[\x{61}-z]`, "", 0},
	{`a{ 2 }`, "", 0}, // spaces inside {} are skipped even without (?x)
	{`a{2 ,3}`, "", 0},
	{`a{1001}`, "", 0},
	{`a{300000}`, "", 0},
	{`\w{100}`, "", 0},
	{`\d{2000}`, "", 0},
	{`[a-z]{140000}`, "", 0},

	// rejected
	{`(?=a)`, "look-around", 0},
	{`x(?!a)`, "look-around", 1},
	{`(?<=a)b`, "look-around", 0},
	{`(?<!a)b`, "look-around", 0},
	{`(a)\1`, "backreference", 3},
	{`\0`, "backreference", 0},
	{`\8`, "backreference", 0},
	{`\Z`, "escape", 0},
	{`\C`, "escape", 0},
	{`\Qa.b\E`, "escape", 0},
	{`\e`, "escape", 0},
	{`(?>a)`, "flags", 2},
	{`a{,3}`, "repetition-count", 2},
	{`a{`, "repetition-count", 1},
	{`{`, "repetition-missing", 0},
	{`*a`, "repetition-missing", 0},
	{`(?i)*`, "repetition-missing", 4},
	{`(?)`, "repetition-missing", 1},
	{`a{2,1}`, "repetition-count", 1},
	{`a{4294967296}`, "repetition-count", 2},
	{`(`, "group-unclosed", 0},
	{`a(b(c)`, "group-unclosed", 1},
	{`)`, "group-unopened", 0},
	{`a)`, "group-unopened", 1},
	{`(?-u:\xFF)`, "invalid-utf8", 5},
	{`(?-u:.)`, "invalid-utf8", 5},
	{`(?-u)[[^a]&&b]`, "invalid-utf8", 6},
	{`(?-u)[[:^alpha:]]`, "invalid-utf8", 6},
	{`(?-u)[^a&&b]`, "invalid-utf8", 5},
	{`(?-u:\W)`, "invalid-utf8", 5},
	{`(?-u:[\W&&a])`, "invalid-utf8", 6},
	{`(?-u)[\xFF]`, "invalid-utf8", 6},
	{`(?-u)[é]`, "unicode-not-allowed", 6},
	{`(?-u)\pL`, "unicode-not-allowed", 5},
	{`\p{Foo}`, "unicode-property", 0},
	{`\p{Script}`, "unicode-property", 0},
	{`\p{Age}`, "unicode-property", 0},
	{`\p{^Greek}`, "unicode-property", 0},
	{`\p{age=17.0}`, "unicode-property", 0},
	{`\p\d`, "unicode-class", 2},
	{`(?P<n>a)(?P<n>b)`, "group-name", 12},
	{`(?P<1a>x)`, "group-name", 4},
	{`(?P<>x)`, "group-name", 4},
	{`(?P<n`, "group-name", 5},
	{`(?i-i)a`, "flags", 4},
	{`(?-)a`, "flags", 2},
	{`(?i-s-m)`, "flags", 5},
	{`(?i`, "flags", 3},
	{`\x{110000}`, "hex-escape", 3},
	{`\x{D800}`, "hex-escape", 3},
	{`\x{}`, "hex-escape", 2},
	{`\x4`, "escape-eof", 3},
	{`\xG0`, "hex-escape", 2},
	{`\`, "escape-eof", 0},
	{`[]`, "class-unclosed", 0},
	{`[^]`, "class-unclosed", 0},
	{`[[:alpha:]`, "class-unclosed", 0},
	{`[a[]`, "class-unclosed", 2},
	{`[z-a]`, "class-range", 1},
	{`[a-\x{2f}]`, "class-range", 1},
	{`[\d-z]`, "class-range-literal", 1},
	{`[a-\d]`, "class-range-literal", 3},
	{`[\b]`, "class-escape", 1},
	{`\b{`, "word-boundary", 0},
	{`\b{x`, "word-boundary", 2},
	{`\b{foo}`, "word-boundary", 3},
	{`\b{ }`, "repetition-count", 4},
	{`a{1000}{1000}`, "size-limit", 0},
	{`\w{300}`, "size-limit", 0},
	{`a{4294967295}`, "size-limit", 0},
	{strings.Repeat("(", 251) + strings.Repeat(")", 251), "nest-limit", 250},
	{"a\xffb", "not-utf8", 1},
}

func TestCheck(t *testing.T) {
	for _, c := range checkCases {
		err := Check(c.pat)
		if c.kind == "" {
			if err != nil {
				t.Errorf("Check(%q) = %v, want accepted", c.pat, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Check(%q) = %v, want %s error", c.pat, err, c.kind)
			continue
		}
		if e.Kind != c.kind || e.Offset != c.off {
			t.Errorf("Check(%q) = %s at %d (%v), want %s at %d", c.pat, e.Kind, e.Offset, e, c.kind, c.off)
		}
	}
}

func TestNestLimitBoundary(t *testing.T) {
	// 250 levels are allowed. The crate counts the outer concat too, so a
	// single group wrapped 249 times plus its content stays within the limit.
	ok := strings.Repeat("(", 249) + "a" + strings.Repeat(")", 249)
	if err := Check(ok); err != nil {
		t.Errorf("249 groups: %v", err)
	}
	if err := Check(strings.Repeat("(", 251) + "a" + strings.Repeat(")", 251)); err == nil {
		t.Error("251 groups accepted")
	}
}

func TestErrorString(t *testing.T) {
	err := Check(`/a(?=b)`)
	if err == nil {
		t.Fatal("look-ahead accepted")
	}
	s := err.Error()
	if !strings.Contains(s, "offset 2") || !strings.Contains(s, "look-around") {
		t.Errorf("unhelpful message: %s", s)
	}
}

func TestEstimateSize(t *testing.T) {
	// a{N} is one 32-byte state per 'a': the crate's limit is at N=327673.
	if est := EstimateSize(`a{327673}`); est > SizeLimit || est < SizeLimit*95/100 {
		t.Errorf("a{327673} estimate %d", est)
	}
	if EstimateSize(`(`) != -1 {
		t.Error("estimate of a bad pattern should be -1")
	}
}

func FuzzCheck(f *testing.F) {
	for _, c := range checkCases {
		f.Add(c.pat)
	}
	f.Fuzz(func(t *testing.T, pat string) {
		if len(pat) > 4096 {
			return
		}
		start := time.Now()
		err := Check(pat)
		_ = GoCompatible(pat)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Check(%q) took %v", pat, d)
		}
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("Check(%q) returned %T", pat, err)
		}
		if e != nil && (e.Offset < 0 || e.Offset > len(pat) || e.End < e.Offset) {
			t.Fatalf("Check(%q) bad span %d..%d", pat, e.Offset, e.End)
		}
	})
}
