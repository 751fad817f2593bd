package rustregex

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// The crate compiles the regex to a Thompson NFA and fails once the NFA
// builder's memory passes the size limit (32 bytes per state on 64-bit plus
// 8 bytes per transition or alternative). Counted repetitions are expanded,
// so a{1000}{1000} is a million states. The costs below were calibrated
// against regex 1.13.1 by finding the largest N that still compiles for
// patterns like a{N}, [a-z]{N}, (a){N}, \w{N}, \d{N}, [^/]{N}, .{N}. They are
// estimates: treat results within ~15% of SizeLimit as uncertain.

const (
	stateCost   = 32
	saturate    = int64(1) << 50
	wholeRegex  = 224 // start/match/capture-0 states and the unanchored prefix
	optionalAdd = 40  // union state for one optional copy (x?, x*, x{n,m})
)

func satAdd(a, b int64) int64 {
	if a+b > saturate {
		return saturate
	}
	return a + b
}

func satMul(a, n int64) int64 {
	if n == 0 || a == 0 {
		return 0
	}
	if a > saturate/n {
		return saturate
	}
	return a * n
}

func estimateSize(root *node) int64 {
	e := &estimator{}
	flags := flagUni
	return satAdd(e.cost(root, &flags), wholeRegex)
}

type estimator struct{}

func (e *estimator) cost(n *node, flags *uint8) int64 {
	fl := *flags
	switch n.kind {
	case nEmpty:
		return 0
	case nFlags:
		*flags = n.flags.apply(*flags)
		return 0
	case nAssertion:
		return stateCost
	case nLiteral:
		if fl&flagI != 0 {
			if fs := foldRune(n.c, fl&flagUni != 0); len(fs) > 1 {
				var rs ranges
				for _, f := range fs {
					rs = append(rs, rng{f, f})
				}
				return classCost(rs)
			}
		}
		if fl&flagUni == 0 && n.lit == litHexFixedX {
			return stateCost
		}
		return int64(utf8.RuneLen(n.c)) * stateCost
	case nDot:
		if fl&flagS != 0 {
			return 964
		}
		return 1000
	case nPerlClass:
		// measured: the most common large classes
		if fl&flagUni != 0 && !n.negated && fl&flagI == 0 {
			switch n.perl {
			case 'w':
				return 50171
			case 'd':
				return 5125
			case 's':
				return 680
			}
		}
		return classCost(e.class(n, fl))
	case nUnicodeClass, nBracketed:
		return classCost(e.class(n, fl))
	case nRepetition:
		c := e.cost(n.subs[0], flags)
		*flags = fl // flags inside a repetition's operand do not leak
		lo, hi := n.min, n.max
		if onlyEmpty(n.subs[0]) {
			// The crate clamps repetitions of zero-width expressions
			// (assertions, empty groups) to at most one copy.
			lo, hi = min(lo, 1), 1
			if n.max >= 0 {
				hi = min(n.max, 1)
			}
		}
		total := satMul(c, lo)
		switch {
		case hi < 0 && lo == 0: // x*: one copy and a loop
			total = c + optionalAdd
		case hi < 0: // x{n,}: n copies, the last one looping
			total = satAdd(total, optionalAdd)
		case hi > lo:
			total = satAdd(total, satMul(c+optionalAdd, hi-lo))
		}
		return total
	case nGroup:
		inner := fl
		if n.hasFlag {
			inner = n.flags.apply(inner)
		}
		c := e.cost(n.subs[0], &inner)
		if n.capture {
			c = satAdd(c, 2*stateCost)
		}
		return c
	case nAlternation:
		total := int64(48)
		for _, s := range n.subs {
			total = satAdd(total, satAdd(e.cost(s, flags), 40))
		}
		return total
	case nConcat:
		var total int64
		for _, s := range n.subs {
			total = satAdd(total, e.cost(s, flags))
		}
		return total
	}
	return 0
}

// onlyEmpty reports whether n can match nothing but the empty string.
func onlyEmpty(n *node) bool {
	switch n.kind {
	case nEmpty, nFlags, nAssertion:
		return true
	case nGroup, nRepetition, nConcat, nAlternation:
		for _, s := range n.subs {
			if !onlyEmpty(s) {
				return false
			}
		}
		return true
	}
	return false
}

// class returns the code points (Unicode mode) or bytes (ASCII mode, kept
// below 0x80 because anything else was rejected earlier) a class matches.
func (e *estimator) class(n *node, fl uint8) ranges {
	var rs ranges
	switch n.kind {
	case nPerlClass:
		rs = perlRanges(n.perl, fl&flagUni != 0)
		if n.negated {
			rs = negate(rs)
		}
		return rs
	case nUnicodeClass:
		rs = propertyRanges(n)
		if n.negated {
			rs = negate(rs)
		}
		return rs
	case nBracketed:
		rs = e.set(n.set, fl)
		if fl&flagI != 0 {
			rs = foldRanges(rs, fl&flagUni != 0)
		}
		if n.negated {
			rs = negate(rs)
		}
	}
	return rs
}

func (e *estimator) set(s *classSet, fl uint8) ranges {
	switch s.kind {
	case sLiteral:
		return ranges{{s.lo.c, s.lo.c}}
	case sRange:
		return ranges{{s.lo.c, s.hi.c}}
	case sASCII:
		var rs ranges
		for _, r := range asciiRanges[s.ascii] {
			rs = append(rs, rng{rune(r[0]), rune(r[1])})
		}
		if s.negated {
			rs = negate(rs)
		}
		return rs
	case sUnicode, sPerl:
		return e.class(s.uni, fl)
	case sBracketed:
		return e.class(s.bracket, fl)
	case sUnion:
		var rs ranges
		for _, it := range s.items {
			rs = append(rs, e.set(it, fl)...)
		}
		return canon(rs)
	case sBinOp:
		l, r := e.set(s.lhs, fl), e.set(s.rhs, fl)
		switch s.op {
		case "&&":
			return intersect(l, r)
		case "--":
			return intersect(l, negate(r))
		}
		return canon(append(intersect(l, negate(r)), intersect(r, negate(l))...))
	}
	return nil
}

// classCost: an ASCII-only class is one state with a transition per range
// plus a wrapper; a class with non-ASCII code points becomes a UTF-8
// automaton whose size grows with the number of UTF-8 byte sequences.
func classCost(rs ranges) int64 {
	rs = canon(rs)
	if len(rs) == 0 {
		return stateCost
	}
	if len(rs) == 1 && rs[0].lo == rs[0].hi {
		return int64(utf8.RuneLen(rs[0].lo)) * stateCost
	}
	if rs[len(rs)-1].hi < utf8.RuneSelf {
		return 64 + 8*int64(len(rs))
	}
	var seqs, bytes int64
	for _, r := range rs {
		utf8Sequences(r.lo, r.hi, func(n int) { seqs++; bytes += int64(n) })
	}
	// One state per UTF-8 byte, less the suffixes the compiler shares, which
	// matters more the more sequences there are (fit: \w, \pL, \d, \s, [^/]).
	return 64 + int64(float64(bytes*stateCost)/(1+float64(seqs)/900))
}

// utf8Sequences splits [lo, hi] into ranges whose UTF-8 encodings are
// described by one byte range per position, calling f with each length.
func utf8Sequences(lo, hi rune, f func(n int)) {
	if lo > hi {
		return
	}
	for _, b := range []rune{0x7F, 0x7FF, 0xFFFF} {
		if lo <= b && hi > b {
			utf8Sequences(lo, b, f)
			utf8Sequences(b+1, hi, f)
			return
		}
	}
	n := utf8.RuneLen(lo)
	if n < 0 { // surrogates never occur in a canonical range set
		n = 3
	}
	for i := 1; i < n; i++ {
		m := rune(1)<<(6*i) - 1
		if lo&^m != hi&^m {
			if lo&m != 0 {
				utf8Sequences(lo, lo|m, f)
				utf8Sequences((lo|m)+1, hi, f)
				return
			}
			if hi&m != m {
				utf8Sequences(lo, (hi&^m)-1, f)
				utf8Sequences(hi&^m, hi, f)
				return
			}
		}
	}
	f(n)
}

type rng struct{ lo, hi rune }
type ranges []rng

func canon(rs ranges) ranges {
	if len(rs) == 0 {
		return rs
	}
	out := append(ranges(nil), rs...)
	sort.Slice(out, func(i, j int) bool { return out[i].lo < out[j].lo })
	w := 0
	for _, r := range out[1:] {
		if r.lo <= out[w].hi+1 {
			if r.hi > out[w].hi {
				out[w].hi = r.hi
			}
			continue
		}
		w++
		out[w] = r
	}
	return out[:w+1]
}

func allScalars() ranges { return ranges{{0, 0xD7FF}, {0xE000, unicode.MaxRune}} }

// negate complements within the Unicode scalar values (no surrogates).
func negate(rs ranges) ranges {
	rs = canon(rs)
	var out ranges
	next := rune(0)
	for _, r := range rs {
		if r.lo > next {
			out = append(out, rng{next, r.lo - 1})
		}
		next = r.hi + 1
	}
	if next <= unicode.MaxRune {
		out = append(out, rng{next, unicode.MaxRune})
	}
	return intersect(out, allScalars())
}

func intersect(a, b ranges) ranges {
	a, b = canon(a), canon(b)
	var out ranges
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		lo, hi := max(a[i].lo, b[j].lo), min(a[i].hi, b[j].hi)
		if lo <= hi {
			out = append(out, rng{lo, hi})
		}
		if a[i].hi < b[j].hi {
			i++
		} else {
			j++
		}
	}
	return out
}

func fromTable(t *unicode.RangeTable) ranges {
	var rs ranges
	for _, r := range t.R16 {
		if r.Stride == 1 {
			rs = append(rs, rng{rune(r.Lo), rune(r.Hi)})
			continue
		}
		for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
			rs = append(rs, rng{c, c})
		}
	}
	for _, r := range t.R32 {
		if r.Stride == 1 {
			rs = append(rs, rng{rune(r.Lo), rune(r.Hi)})
			continue
		}
		for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
			rs = append(rs, rng{c, c})
		}
	}
	return canon(rs)
}

func perlRanges(kind byte, uni bool) ranges {
	if !uni {
		var rs ranges
		for _, r := range asciiRanges[map[byte]string{'d': "digit", 's': "space", 'w': "word"}[kind]] {
			rs = append(rs, rng{rune(r[0]), rune(r[1])})
		}
		return rs
	}
	switch kind {
	case 'd':
		return fromTable(unicode.Nd)
	case 's':
		return fromTable(unicode.White_Space)
	}
	// Unicode \w: Alphabetic, marks, decimal digits, connector punctuation
	// and Join_Control (UTS#18 Annex C).
	var rs ranges
	for _, t := range []*unicode.RangeTable{unicode.L, unicode.Nl, unicode.Other_Alphabetic, unicode.M, unicode.Nd, unicode.Pc, unicode.Join_Control} {
		rs = append(rs, fromTable(t)...)
	}
	return canon(rs)
}

var goTables map[string]*unicode.RangeTable

func propertyRanges(n *node) ranges {
	if goTables == nil {
		m := map[string]*unicode.RangeTable{}
		for _, set := range []map[string]*unicode.RangeTable{unicode.Properties, unicode.Scripts, unicode.Categories} {
			for k, v := range set {
				m[normalizePropName(k)] = v
			}
		}
		goTables = m
	}
	name := n.uniName
	if n.uniHasValue {
		name = n.uniValue
	}
	key := normalizePropName(name)
	switch key {
	case "any":
		return allScalars()
	case "ascii":
		return ranges{{0, 0x7F}}
	}
	if t, ok := goTables[key]; ok {
		return fromTable(t)
	}
	// Unknown to Go's tables (long category names, Alphabetic, Emoji, ...):
	// assume a large class, about the size of \pL.
	return fromTable(unicode.L)
}

func foldRune(c rune, uni bool) []rune {
	if !uni {
		if c < utf8.RuneSelf && unicode.IsLetter(c) {
			return []rune{unicode.ToLower(c), unicode.ToUpper(c)}
		}
		return []rune{c}
	}
	out := []rune{c}
	for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
		out = append(out, f)
	}
	return out
}

// foldRanges adds simple case variants; large classes are left as they are
// since folding barely changes their UTF-8 size.
func foldRanges(rs ranges, uni bool) ranges {
	var count rune
	for _, r := range rs {
		count += r.hi - r.lo + 1
	}
	if count > 2000 {
		return rs
	}
	out := append(ranges(nil), rs...)
	for _, r := range rs {
		for c := r.lo; c <= r.hi; c++ {
			for _, f := range foldRune(c, uni) {
				out = append(out, rng{f, f})
			}
		}
	}
	return canon(out)
}
