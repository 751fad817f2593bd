package policymatch

import (
	"regexp/syntax"
	"strings"
	"unicode"
)

// SpanSafe tells a regex for which the proxy's rule for a
// RegularExpression match (the leftmost-first match must span the whole
// string, policy-api.md §11) accepts exactly the strings the anchored
// ^(?:re)$ accepts. For others (`a|ab` does not match "ab" in the proxy)
// a writer that means "the whole path matches re" must wrap re in
// ^(?:re)$ itself. Conservative: false means "not proven".
func SpanSafe(pattern string) bool { return spanSafe(pattern) || segmentRegex(pattern) }

// spanSafe tells a regex whose leftmost-first match from the start of a
// string is that whole string whenever ^(?:re)$ matches it, so the
// allocation-free anchored test decides alone. Conservative: a top-level
// sequence of literals and character classes in which every repetition is
// greedy, repeats a single character, and is followed by the end or by a
// character it cannot consume (so the greedy run never gives anything
// back). `/books/[^/]+` and `/users/\d+/x` are; `a|ab`, `/a/.*/b` and lazy
// repetitions are not (FindStringIndex confirms those).
func spanSafe(pattern string) bool {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return false
	}
	re = re.Simplify()
	items := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		items = re.Sub
	}
	for i, it := range items {
		switch it.Op {
		case syntax.OpLiteral, syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL,
			syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpEndText:
		case syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
			if it.Flags&syntax.NonGreedy != 0 {
				return false
			}
			set, ok := charSet(it.Sub[0])
			if !ok {
				return false
			}
			if i+1 < len(items) && items[i+1].Op != syntax.OpEndText {
				next, ok := firstSet(items[i+1])
				if !ok || overlaps(set, next) {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}

// charSet is the ranges (lo, hi pairs) of a single-character regex.
func charSet(re *syntax.Regexp) ([]rune, bool) {
	switch re.Op {
	case syntax.OpCharClass:
		return re.Rune, true
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return []rune{0, unicode.MaxRune}, true
	case syntax.OpLiteral:
		if len(re.Rune) != 1 {
			return nil, false
		}
		return foldRanges(re.Rune[0], re.Flags&syntax.FoldCase != 0), true
	}
	return nil, false
}

// firstSet is the set of characters the next item must start with; ok is
// false when it may be empty or is not a plain character.
func firstSet(re *syntax.Regexp) ([]rune, bool) {
	switch re.Op {
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return charSet(re)
	case syntax.OpLiteral:
		return foldRanges(re.Rune[0], re.Flags&syntax.FoldCase != 0), true
	case syntax.OpPlus:
		return charSet(re.Sub[0])
	}
	return nil, false
}

func foldRanges(r rune, fold bool) []rune {
	out := []rune{r, r}
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			out = append(out, f, f)
		}
	}
	return out
}

func overlaps(a, b []rune) bool {
	for i := 0; i+1 < len(a); i += 2 {
		for j := 0; j+1 < len(b); j += 2 {
			if a[i] <= b[j+1] && b[j] <= a[i+1] {
				return true
			}
		}
	}
	return false
}

// segmentRegex reports a regex made of literal text and [^/]+ or [^/]*
// parts, optionally ending in .* (the shapes path templates produce). A
// greedy [^/] run may give back characters to a literal that follows it,
// which spanSafe does not prove, but within a segment every greedy run
// first tries the longest choice and the match cannot stop before the
// segment's end when an anchored match exists (property-tested in
// TestSegmentRegexProperty against leftmost-first matching).
func segmentRegex(re string) bool {
	for i := 0; i < len(re); {
		switch {
		case strings.HasPrefix(re[i:], "[^/]+") || strings.HasPrefix(re[i:], "[^/]*"):
			i += 5
		case re[i:] == ".*":
			return true
		case re[i] == '\\':
			if i+1 >= len(re) || isWordByte(re[i+1]) {
				return false
			}
			i += 2
		case strings.IndexByte(".^$*+?()[]{}|", re[i]) >= 0:
			return false
		default:
			i++
		}
	}
	return true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
