package rustregex

// The syntax tree built by the parser. It keeps only what later checks need:
// the translation step (Unicode mode, invalid UTF-8), the nest limit, the
// compiled-size estimate and the Go-compatibility notes.

type nodeKind uint8

const (
	nEmpty nodeKind = iota
	nFlags
	nLiteral
	nDot
	nAssertion
	nUnicodeClass
	nPerlClass
	nBracketed
	nRepetition
	nGroup
	nAlternation
	nConcat
)

type litKind uint8

const (
	litVerbatim litKind = iota
	litMeta
	litSuperfluous
	litHexFixedX // \xNN: the only form that can denote a raw byte when Unicode is off
	litHexOther  // \x{..}, \uNNNN, \u{..}, \UNNNNNNNN
	litSpecial   // \a \f \t \n \r \v
)

type assertKind uint8

const (
	aStartLine       assertKind = iota // ^
	aEndLine                           // $
	aStartText                         // \A
	aEndText                           // \z
	aWordBoundary                      // \b
	aNotWordBoundary                   // \B
	aWordStartAngle                    // \<
	aWordEndAngle                      // \>
	aWordStart                         // \b{start}
	aWordEnd                           // \b{end}
	aWordStartHalf                     // \b{start-half}
	aWordEndHalf                       // \b{end-half}
)

// flag bits, in the order the Rust crate knows them.
const (
	flagI   uint8 = 1 << iota // case insensitive
	flagM                     // multi line
	flagS                     // dot matches new line
	flagU                     // swap greed (U)
	flagUni                   // Unicode (u), on by default
	flagR                     // CRLF mode
	flagX                     // ignore whitespace
)

type flagSet struct {
	on, off uint8
}

func (f flagSet) apply(cur uint8) uint8 { return (cur | f.on) &^ f.off }

type node struct {
	kind       nodeKind
	start, end int

	// literal
	c   rune
	lit litKind
	// assertion
	assert assertKind
	// Perl class (d, s, w), Unicode class and bracketed class
	perl    byte
	negated bool
	// Unicode class: \pL (oneLetter), \p{name}, \p{name=value}
	uniName, uniValue string
	uniHasValue       bool
	// bracketed class
	set *classSet
	// repetition: min and max; max < 0 means unbounded
	min, max int64
	greedy   bool
	// group: capture or not, flags for (?flags:...) and (?flags)
	capture bool
	name    string
	flags   flagSet
	hasFlag bool

	subs []*node
}

type setKind uint8

const (
	sEmpty setKind = iota
	sLiteral
	sRange
	sASCII
	sUnicode
	sPerl
	sBracketed
	sUnion
	sBinOp
)

// classSet is one item (or binary operation) inside [...].
type classSet struct {
	kind       setKind
	start, end int
	lo, hi     *node // literal(s) for sLiteral (lo) and sRange (lo, hi)
	ascii      string
	negated    bool
	uni        *node // sUnicode / sPerl
	bracket    *node // sBracketed: an nBracketed node
	items      []*classSet
	op         string // "&&", "--", "~~"
	lhs, rhs   *classSet
}

// concatToAst mirrors how the crate collapses a concatenation: none is an
// empty expression, one is the item itself.
func concatToAst(items []*node, start, end int) *node {
	switch len(items) {
	case 0:
		return &node{kind: nEmpty, start: start, end: end}
	case 1:
		return items[0]
	}
	return &node{kind: nConcat, start: start, end: end, subs: items}
}

func unionToItem(items []*classSet, start, end int) *classSet {
	switch len(items) {
	case 0:
		return &classSet{kind: sEmpty, start: start, end: end}
	case 1:
		return items[0]
	}
	return &classSet{kind: sUnion, start: start, end: end, items: items}
}
