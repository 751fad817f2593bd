package rustregex

// Checks the crate makes after parsing: the nest limit on the syntax tree and
// the translation to its intermediate form (Unicode mode, UTF-8 validity,
// Unicode property names).

// height returns how many nesting levels the crate's nest limiter counts
// below and including n.
func height(n *node) int {
	h := 0
	for _, s := range n.subs {
		if x := height(s); x > h {
			h = x
		}
	}
	if n.kind == nBracketed {
		h = setHeight(n.set)
	}
	if counted(n) {
		h++
	}
	return h
}

func counted(n *node) bool {
	switch n.kind {
	case nBracketed, nRepetition, nGroup, nAlternation, nConcat:
		return true
	}
	return false
}

func setHeight(s *classSet) int {
	switch s.kind {
	case sBracketed:
		return 1 + setHeight(s.bracket.set)
	case sUnion:
		h := 0
		for _, it := range s.items {
			if x := setHeight(it); x > h {
				h = x
			}
		}
		return 1 + h
	case sBinOp:
		return 1 + max(setHeight(s.lhs), setHeight(s.rhs))
	}
	return 0
}

func checkNest(pat string, root *node) *Error {
	if height(root) <= nestLimit {
		return nil
	}
	// Report the first node (in pattern order) sitting at level limit+1.
	n, above := root, 0
	for {
		if counted(n) {
			above++
			if above > nestLimit {
				return newError(pat, n.start, n.end, eNestLimit)
			}
		}
		next := (*node)(nil)
		for _, s := range n.subs {
			if above+height(s) > nestLimit {
				next = s
				break
			}
		}
		if next == nil {
			// the excess is inside a bracketed class
			return newError(pat, n.start, n.end, eNestLimit)
		}
		n = next
	}
}

type translator struct {
	pat string
}

func (t *translator) err(start, end int, k errKind) *Error { return newError(t.pat, start, end, k) }

// walk visits n in pattern order with the flags in force; flags set by
// (?flags) last until the end of the enclosing group.
func (t *translator) walk(n *node, flags *uint8) *Error {
	uni := *flags&flagUni != 0
	switch n.kind {
	case nFlags:
		*flags = n.flags.apply(*flags)
	case nLiteral:
		if !uni && n.lit == litHexFixedX && n.c > 0x7F {
			return t.err(n.start, n.end, eInvalidUTF8)
		}
	case nDot:
		if !uni {
			return t.err(n.start, n.end, eInvalidUTF8)
		}
	case nUnicodeClass:
		if !uni {
			return t.err(n.start, n.end, eUnicodeNotAllowed)
		}
		if k, ok := lookupProperty(n); !ok {
			return t.err(n.start, n.end, k)
		}
	case nPerlClass:
		if !uni && n.negated {
			return t.err(n.start, n.end, eInvalidUTF8)
		}
	case nBracketed:
		if uni {
			return t.unicodeSet(n.set)
		}
		bs, err := t.byteSet(n.set)
		if err != nil {
			return err
		}
		if n.negated {
			bs = bs.not()
		}
		if !bs.ascii() {
			return t.err(n.start, n.end, eInvalidUTF8)
		}
	case nGroup:
		inner := *flags
		if n.hasFlag {
			inner = n.flags.apply(inner)
		}
		for _, s := range n.subs {
			if err := t.walk(s, &inner); err != nil {
				return err
			}
		}
	default:
		for _, s := range n.subs {
			if err := t.walk(s, flags); err != nil {
				return err
			}
		}
	}
	return nil
}

// unicodeSet: in Unicode mode the only possible error is an unknown property.
func (t *translator) unicodeSet(s *classSet) *Error {
	switch s.kind {
	case sUnicode:
		if k, ok := lookupProperty(s.uni); !ok {
			return t.err(s.uni.start, s.uni.end, k)
		}
	case sBracketed:
		return t.unicodeSet(s.bracket.set)
	case sUnion:
		for _, it := range s.items {
			if err := t.unicodeSet(it); err != nil {
				return err
			}
		}
	case sBinOp:
		if err := t.unicodeSet(s.lhs); err != nil {
			return err
		}
		return t.unicodeSet(s.rhs)
	}
	return nil
}

// byteSet is a set of bytes, used for classes under (?-u).
type byteSet [4]uint64

func (b *byteSet) add(lo, hi byte) {
	for c := int(lo); c <= int(hi); c++ {
		b[c>>6] |= 1 << (c & 63)
	}
}
func (b byteSet) not() byteSet { return byteSet{^b[0], ^b[1], ^b[2], ^b[3]} }
func (b byteSet) ascii() bool  { return b[2] == 0 && b[3] == 0 }

func (t *translator) classByte(l *node) (byte, *Error) {
	if l.lit == litHexFixedX && l.c <= 0xFF {
		if l.c > 0x7F {
			return 0, t.err(l.start, l.end, eInvalidUTF8)
		}
		return byte(l.c), nil
	}
	if l.c > 0x7F {
		return 0, t.err(l.start, l.end, eUnicodeNotAllowed)
	}
	return byte(l.c), nil
}

var asciiRanges = map[string][][2]byte{
	"alnum": {{'0', '9'}, {'A', 'Z'}, {'a', 'z'}}, "alpha": {{'A', 'Z'}, {'a', 'z'}}, "ascii": {{0, 0x7F}},
	"blank": {{'\t', '\t'}, {' ', ' '}}, "cntrl": {{0, 0x1F}, {0x7F, 0x7F}}, "digit": {{'0', '9'}},
	"graph": {{'!', '~'}}, "lower": {{'a', 'z'}}, "print": {{' ', '~'}}, "punct": {{'!', '/'}, {':', '@'}, {'[', '`'}, {'{', '~'}},
	"space": {{'\t', '\r'}, {' ', ' '}}, "upper": {{'A', 'Z'}}, "word": {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}},
	"xdigit": {{'0', '9'}, {'A', 'F'}, {'a', 'f'}},
}

// byteSet evaluates a class under (?-u) the way the crate does: each nested
// bracket, negated ASCII class and negated Perl class must stay ASCII.
func (t *translator) byteSet(s *classSet) (byteSet, *Error) {
	var b byteSet
	switch s.kind {
	case sLiteral:
		c, err := t.classByte(s.lo)
		if err != nil {
			return b, err
		}
		b.add(c, c)
	case sRange:
		lo, err := t.classByte(s.lo)
		if err != nil {
			return b, err
		}
		hi, err := t.classByte(s.hi)
		if err != nil {
			return b, err
		}
		b.add(lo, hi)
	case sASCII:
		for _, r := range asciiRanges[s.ascii] {
			b.add(r[0], r[1])
		}
		if s.negated {
			return b, t.err(s.start, s.end, eInvalidUTF8)
		}
	case sUnicode:
		return b, t.err(s.start, s.end, eUnicodeNotAllowed)
	case sPerl:
		if s.uni.negated {
			return b, t.err(s.start, s.end, eInvalidUTF8)
		}
		name := map[byte]string{'d': "digit", 's': "space", 'w': "word"}[s.uni.perl]
		for _, r := range asciiRanges[name] {
			b.add(r[0], r[1])
		}
	case sBracketed:
		inner, err := t.byteSet(s.bracket.set)
		if err != nil {
			return b, err
		}
		if s.bracket.negated {
			inner = inner.not()
		}
		if !inner.ascii() {
			return b, t.err(s.start, s.end, eInvalidUTF8)
		}
		b = inner
	case sUnion:
		for _, it := range s.items {
			x, err := t.byteSet(it)
			if err != nil {
				return b, err
			}
			for i := range b {
				b[i] |= x[i]
			}
		}
	case sBinOp:
		l, err := t.byteSet(s.lhs)
		if err != nil {
			return b, err
		}
		r, err := t.byteSet(s.rhs)
		if err != nil {
			return b, err
		}
		for i := range b {
			switch s.op {
			case "&&":
				b[i] = l[i] & r[i]
			case "--":
				b[i] = l[i] &^ r[i]
			default:
				b[i] = l[i] ^ r[i]
			}
		}
	}
	return b, nil
}

// normalizePropName mirrors the crate's loose matching of property names:
// drop a leading "is", spaces, '_' and '-', lower-case ASCII and drop
// non-ASCII bytes; "isc" stays "isc".
func normalizePropName(x string) string {
	b := []byte(x)
	start := 0
	startsWithIs := len(b) >= 2 && (b[0] == 'i' || b[0] == 'I') && (b[1] == 's' || b[1] == 'S')
	if startsWithIs {
		start = 2
	}
	out := make([]byte, 0, len(b))
	for _, c := range b[start:] {
		switch {
		case c == ' ' || c == '_' || c == '-':
		case c >= 'A' && c <= 'Z':
			out = append(out, c+('a'-'A'))
		case c <= 0x7F:
			out = append(out, c)
		}
	}
	if startsWithIs && string(out) == "c" {
		return "isc"
	}
	return string(out)
}

func lookupProperty(n *node) (errKind, bool) {
	if !n.uniHasValue {
		if namedProps[normalizePropName(n.uniName)] {
			return 0, true
		}
		return eUnicodePropertyNotFound, false
	}
	vals, ok := propValues[normalizePropName(n.uniName)]
	if !ok {
		return eUnicodePropertyNotFound, false
	}
	if !vals[normalizePropName(n.uniValue)] {
		return eUnicodePropertyValueNotFound, false
	}
	return 0, true
}
