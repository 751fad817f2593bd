package lang

import "strings"

// State ids every automaton shares: no continuation of the input read so
// far is accepted (dead), or every continuation is (all).
const (
	deadState int32 = 0
	allState  int32 = 1
)

// automaton is a deterministic automaton over runes, built lazily.
type automaton interface {
	start() int32
	// step returns the state after reading r, or -1 when the automaton's
	// own size bound is reached.
	step(s int32, r rune) int32
	// accepts tells whether the input read so far is in the language.
	accepts(s int32) bool
	// bounds reports the rune ranges the automaton tells apart: runes in
	// the same cell of the partition they induce behave alike.
	bounds(add func(lo, hi rune))
	// prefix is literal text every accepted input starts with.
	prefix() string
	// foldPrefix is literal text, folded with foldKey, that the foldKey of
	// every accepted input starts with (at least as long as prefix).
	foldPrefix() string
	// whole tells whether prefix (and foldPrefix) is the only accepted input.
	whole() bool
}

// literalAtom accepts one text (exact) or, with segment set, that text and
// anything under it after a "/" (Gateway PathPrefix).
type literalAtom struct {
	text    []rune
	segment bool
}

func newExact(s string) *literalAtom { return &literalAtom{text: []rune(s)} }

func newPrefix(s string) *literalAtom {
	return &literalAtom{text: []rune(strings.TrimRight(s, "/")), segment: true}
}

// States: 2+k after reading the first k runes of text.
func (a *literalAtom) start() int32 {
	if a.segment && len(a.text) == 0 {
		return allState // "/" matches every path
	}
	return 2
}

func (a *literalAtom) step(s int32, r rune) int32 {
	if s < 2 {
		return s
	}
	k := int(s - 2)
	if k < len(a.text) {
		if a.text[k] == r {
			return s + 1
		}
		return deadState
	}
	if a.segment && r == '/' {
		return allState
	}
	return deadState
}

func (a *literalAtom) accepts(s int32) bool {
	return s == allState || s >= 2 && int(s-2) == len(a.text)
}

func (a *literalAtom) bounds(add func(lo, hi rune)) {
	for _, r := range a.text {
		add(r, r)
	}
	if a.segment {
		add('/', '/')
	}
}

func (a *literalAtom) prefix() string { return string(a.text) }

func (a *literalAtom) foldPrefix() string { return foldKey(string(a.text)) }

func (a *literalAtom) whole() bool { return !a.segment }
