package lang

import (
	"encoding/binary"
	"fmt"
	"regexp/syntax"
	"sort"
	"strings"
	"unicode"

	"github.com/kubectl-profiles/kubectl-profiles/diag/rustregex"
)

// regexAtom is a proxy path regex as a lazily built DFA that accepts the
// paths on which Rust's is_match is true.
//
// The regex is read with Go's regexp/syntax, which is exact only when Go
// reads it like the Rust crate: the Unicode Perl classes (\d, \s, \w, which
// Go reads as ASCII) are first rewritten to the Unicode sets Rust uses, and
// any remaining difference makes the regex undecidable. DFA states are sets
// of program counters of Go's compiled program; the start state is added at
// every position (a search, not a full match), and reaching Match makes the
// state accept every continuation.
type regexAtom struct {
	err  string // why it is not modelled; "" when it is
	prog *syntax.Prog
	pre  string
	fpre string
	cuts []rune // cutsOf, computed once
	lit  bool   // the regex is ^literal$ (case-sensitive)
	// restart is the state reached when no thread survives a rune: only
	// the search restarting at the next position (-2 until computed).
	restart int32
	// work counts instructions visited by closures, into the engine's
	// counter (it bounds the cost of building DFA states).
	work *int64

	states []rstate
	index  map[string]int32
	trans  map[uint64]int32
	limit  int

	// closure scratch
	mark  []uint32
	gen   uint32
	stack []uint32
}

type rstate struct {
	pcs    []uint32
	accept bool
	ascii  *[128]int32 // transitions on ASCII runes, 0 = not computed yet (dead is never memoised here)
}

func (e *Engine) regex(anchored string) *regexAtom {
	if a, ok := e.regexes[anchored]; ok {
		return a
	}
	a := compileRegex(anchored, 4*e.limit)
	a.work = &e.work
	e.regexes[anchored] = a
	return a
}

// maxPattern bounds the regex text the engine models (the crate's own
// limits already stop far larger programs).
const maxPattern = 1 << 14

func compileRegex(anchored string, limit int) *regexAtom {
	a := &regexAtom{limit: limit, restart: -2}
	fail := func(format string, args ...interface{}) *regexAtom {
		a.err = fmt.Sprintf(format, args...)
		return a
	}
	if len(anchored) > maxPattern {
		return fail("the regex is longer than %d bytes", maxPattern)
	}
	if err := rustregex.Check(anchored); err != nil {
		return fail("the proxy cannot compile the regex")
	}
	pat, why := rustPerlClasses(anchored)
	if why != "" {
		return fail("%s", why)
	}
	diffs := rustregex.GoCompatible(pat)
	structural := false
	for _, d := range diffs {
		structural = structural || !d.ASCIISafe
	}
	re, err := syntax.Parse(pat, syntax.Perl)
	if err == nil && !structural {
		// Go and Rust read the literal text alike (differences are only
		// in Unicode classes and boundaries): the prefix is sound even
		// when the regex is not modelled, and keeps the prefilter useful.
		re = re.Simplify()
		a.pre, a.fpre, a.lit = literalPrefix(re)
		if op, bad := unmodelled(re); bad {
			return fail("%s is not modelled", op)
		}
	}
	for _, d := range diffs {
		// Unicode table versions (Rust 16.0, Go's own) are the one
		// difference accepted: they only differ on recently assigned runes.
		if d.ASCIISafe && strings.HasSuffix(d.Rust, " tables") {
			continue
		}
		return fail("%q is read differently by Rust (%s) and by the Go parser the engine uses (%s)", d.Construct, d.Rust, d.Go)
	}
	if err != nil {
		return fail("the regex does not parse: %v", err)
	}
	prog, err := syntax.Compile(re)
	if err != nil {
		return fail("the regex does not compile: %v", err)
	}
	a.prog = prog
	a.index = map[string]int32{}
	a.trans = map[uint64]int32{}
	a.mark = make([]uint32, len(prog.Inst))
	a.states = []rstate{{}, {accept: true}} // dead, all
	return a
}

// unmodelled finds an assertion the automaton does not model.
func unmodelled(re *syntax.Regexp) (string, bool) {
	switch re.Op {
	case syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return `a word boundary (\b, \B)`, true
	case syntax.OpBeginLine, syntax.OpEndLine:
		return "a multi-line anchor ((?m) ^ or $)", true
	}
	for _, s := range re.Sub {
		if op, bad := unmodelled(s); bad {
			return op, true
		}
	}
	return "", false
}

// literalPrefix returns the case-sensitive literal text right after a
// leading begin-of-text assertion, and the longer literal text with
// case-insensitive parts, case-folded (see foldKey); whole is set when
// the regex is ^literal$ with a case-sensitive literal.
func literalPrefix(re *syntax.Regexp) (exact, folded string, whole bool) {
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 || re.Sub[0].Op != syntax.OpBeginText {
		return "", "", false
	}
	if len(re.Sub) == 3 && re.Sub[1].Op == syntax.OpLiteral && re.Sub[1].Flags&syntax.FoldCase == 0 && re.Sub[2].Op == syntax.OpEndText {
		return string(re.Sub[1].Rune), foldKey(string(re.Sub[1].Rune)), true
	}
	var b, f strings.Builder
	inExact := true
	for _, s := range re.Sub[1:] {
		if s.Op != syntax.OpLiteral {
			break
		}
		if s.Flags&syntax.FoldCase != 0 {
			inExact = false
		}
		if inExact {
			b.WriteString(string(s.Rune))
		}
		f.WriteString(foldKey(string(s.Rune)))
	}
	return b.String(), f.String(), false
}

// foldKey maps each rune to the smallest rune it case-folds with: texts
// that match case-insensitively have the same key.
func foldKey(s string) string {
	rs := []rune(s)
	for i, r := range rs {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < m {
				m = f
			}
		}
		rs[i] = m
	}
	return string(rs)
}

// rustPerlClasses rewrites \d \D \s \S \w \W into the Unicode sets the Rust
// crate uses for them (Go reads them as ASCII). It gives up (why != "") on
// forms that have no Go spelling, and leaves patterns that switch Unicode
// mode or nest classes alone: GoCompatible then reports them.
func rustPerlClasses(p string) (out string, why string) {
	if !strings.Contains(p, `\`) {
		return p, ""
	}
	if strings.Contains(p, "(?") && flagsMentionU(p) {
		return p, ""
	}
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			n := p[i+1]
			if strings.IndexByte("dDsSwW", n) >= 0 {
				r, ok := perlSet(n, inClass)
				if !ok {
					return "", fmt.Sprintf(`\%c inside a character class (Unicode in Rust, no Go spelling)`, n)
				}
				b.WriteString(r)
			} else {
				b.WriteByte(c)
				b.WriteByte(n)
			}
			i++
			continue
		case !inClass && c == '[':
			inClass = true
			b.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
			continue
		case inClass && c == '[':
			if i+1 < len(p) && p[i+1] == ':' {
				end := strings.Index(p[i:], ":]")
				if end < 0 {
					return p, ""
				}
				b.WriteString(p[i : i+end+2])
				i += end + 1
				continue
			}
			return p, "" // a nested class: GoCompatible reports it
		case inClass && c == ']':
			inClass = false
		}
		b.WriteByte(c)
	}
	return b.String(), ""
}

// flagsMentionU tells whether a flag group sets or clears u.
func flagsMentionU(p string) bool {
	for i := 0; i+2 < len(p); i++ {
		if p[i] == '\\' {
			i++
			continue
		}
		if p[i] != '(' || p[i+1] != '?' {
			continue
		}
		for j := i + 2; j < len(p) && p[j] != ')' && p[j] != ':'; j++ {
			if p[j] == 'u' {
				return true
			}
		}
	}
	return false
}

var (
	whiteSpace = rangesText(unicode.White_Space)
	wordExtra  = `\p{L}\p{M}\p{Nd}\p{Pc}\p{Nl}` + rangesText(unicode.Other_Alphabetic) + rangesText(unicode.Join_Control)
)

// perlSet spells the Rust (Unicode) meaning of \d \s \w and negations in
// Go syntax, inside or outside a bracketed class.
func perlSet(k byte, inClass bool) (string, bool) {
	var body string
	neg := false
	switch k {
	case 'd':
		return `\p{Nd}`, true
	case 'D':
		return `\P{Nd}`, true
	case 's', 'S':
		body, neg = whiteSpace, k == 'S'
	case 'w', 'W':
		body, neg = wordExtra, k == 'W'
	}
	if inClass {
		return body, !neg
	}
	if neg {
		return "[^" + body + "]", true
	}
	return "[" + body + "]", true
}

func rangesText(t *unicode.RangeTable) string {
	var b strings.Builder
	put := func(lo, hi, stride rune) {
		for r := lo; r <= hi; r += stride {
			if stride == 1 {
				fmt.Fprintf(&b, `\x{%x}-\x{%x}`, lo, hi)
				return
			}
			fmt.Fprintf(&b, `\x{%x}`, r)
		}
	}
	for _, r := range t.R16 {
		put(rune(r.Lo), rune(r.Hi), rune(r.Stride))
	}
	for _, r := range t.R32 {
		put(rune(r.Lo), rune(r.Hi), rune(r.Stride))
	}
	return b.String()
}

func (a *regexAtom) prefix() string { return a.pre }

func (a *regexAtom) foldPrefix() string { return a.fpre }

func (a *regexAtom) whole() bool { return a.lit }

func (a *regexAtom) bounds(add func(lo, hi rune)) {
	if a.prog == nil {
		return
	}
	for i := range a.prog.Inst {
		in := &a.prog.Inst[i]
		switch in.Op {
		case syntax.InstRune1:
			add(in.Rune[0], in.Rune[0])
		case syntax.InstRuneAnyNotNL:
			add('\n', '\n')
		case syntax.InstRune:
			if len(in.Rune) == 1 {
				r0 := in.Rune[0]
				add(r0, r0)
				if syntax.Flags(in.Arg)&syntax.FoldCase != 0 {
					for r := unicode.SimpleFold(r0); r != r0; r = unicode.SimpleFold(r) {
						add(r, r)
					}
				}
				continue
			}
			for j := 0; j+1 < len(in.Rune); j += 2 {
				add(in.Rune[j], in.Rune[j+1])
			}
		}
	}
}

func (a *regexAtom) start() int32 {
	pcs, matched := a.closure([]uint32{uint32(a.prog.Start)}, nil, true, false)
	return a.intern(pcs, matched)
}

func (a *regexAtom) accepts(s int32) bool { return a.states[s].accept }

func (a *regexAtom) step(s int32, r rune) int32 {
	if s == deadState || s == allState {
		return s
	}
	st := &a.states[s]
	if r < 128 && st.ascii != nil {
		if t := st.ascii[r]; t != 0 {
			return t - 1
		}
	}
	key := uint64(s)<<32 | uint64(uint32(r))
	if r >= 128 {
		if t, ok := a.trans[key]; ok {
			return t
		}
	}
	var seeds []uint32
	for _, pc := range a.states[s].pcs {
		in := &a.prog.Inst[pc]
		ok := false
		switch in.Op {
		case syntax.InstRune1:
			ok = in.Rune[0] == r
		case syntax.InstRune:
			ok = in.MatchRune(r)
		case syntax.InstRuneAny:
			ok = true
		case syntax.InstRuneAnyNotNL:
			ok = r != '\n'
		}
		if ok {
			seeds = append(seeds, in.Out)
		}
	}
	var t int32
	if len(seeds) == 0 && a.restart != -2 {
		t = a.restart
	} else {
		pcs, matched := a.closure(seeds, []uint32{uint32(a.prog.Start)}, false, false)
		t = a.intern(pcs, matched)
		if len(seeds) == 0 {
			a.restart = t
		}
	}
	switch {
	case t < 0:
	case r < 128:
		st := &a.states[s]
		if st.ascii == nil {
			st.ascii = new([128]int32)
		}
		st.ascii[r] = t + 1
	default:
		a.trans[key] = t
	}
	return t
}

// intern returns the id of the state for pcs, or -1 past the bound.
func (a *regexAtom) intern(pcs []uint32, matched bool) int32 {
	if matched {
		return allState
	}
	if len(pcs) == 0 {
		return deadState
	}
	key := make([]byte, 4*len(pcs))
	for i, pc := range pcs {
		binary.LittleEndian.PutUint32(key[4*i:], pc)
	}
	if id, ok := a.index[string(key)]; ok {
		return id
	}
	if len(a.states) >= a.limit {
		return -1
	}
	// Accepting at the end: the pending end-of-text assertions pass.
	var pending []uint32
	for _, pc := range pcs {
		if a.prog.Inst[pc].Op == syntax.InstEmptyWidth {
			pending = append(pending, pc)
		}
	}
	accept := false
	if len(pending) > 0 {
		_, accept = a.closure(pending, nil, false, true)
	}
	id := int32(len(a.states))
	a.states = append(a.states, rstate{pcs: pcs, accept: accept})
	a.index[string(key)] = id
	return id
}

// closure follows empty transitions from seeds (then from more): it
// returns the sorted rune and pending end-of-text instructions reached, and
// whether Match was reached.
func (a *regexAtom) closure(seeds, more []uint32, atStart, atEnd bool) ([]uint32, bool) {
	a.gen++
	if a.gen == 0 {
		for i := range a.mark {
			a.mark[i] = 0
		}
		a.gen = 1
	}
	stack := append(append(a.stack[:0], more...), seeds...)
	var pcs []uint32
	matched, visited := false, 0
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if a.mark[pc] == a.gen {
			continue
		}
		a.mark[pc] = a.gen
		visited++
		in := &a.prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Arg, in.Out)
		case syntax.InstCapture, syntax.InstNop:
			stack = append(stack, in.Out)
		case syntax.InstEmptyWidth:
			op := syntax.EmptyOp(in.Arg)
			if op&syntax.EmptyBeginText != 0 && !atStart {
				continue
			}
			if op&syntax.EmptyEndText != 0 && !atEnd {
				pcs = append(pcs, pc)
				continue
			}
			stack = append(stack, in.Out)
		case syntax.InstMatch:
			matched = true
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			pcs = append(pcs, pc)
		}
	}
	a.stack = stack
	if a.work != nil {
		*a.work += int64(visited)
	}
	sort.Slice(pcs, func(i, j int) bool { return pcs[i] < pcs[j] })
	return pcs, matched
}
