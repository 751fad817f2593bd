package rustregex

// Bracketed classes: nesting ([a[bc]]), set operations (&&, --, ~~) and
// ASCII classes ([[:alpha:]]), parsed with an explicit stack like the crate.

type classFrame struct {
	// open bracket: the parent's union and this bracket
	open       bool
	union      []*classSet
	unionStart int
	set        *node
	// pending binary operation
	op  string
	lhs *classSet
}

type classParser struct {
	p     *parser
	stack []*classFrame
}

func (cp *classParser) unclosed() *Error {
	for i := len(cp.stack) - 1; i >= 0; i-- {
		if f := cp.stack[i]; f.open {
			return cp.p.errAt(f.set.start, f.set.end, eClassUnclosed)
		}
	}
	return cp.p.errAt(cp.p.pos, cp.p.pos, eClassUnclosed)
}

// popOp combines rhs with a pending operation on top of the stack, if any.
func (cp *classParser) popOp(rhs *classSet) *classSet {
	top := cp.stack[len(cp.stack)-1]
	if top.open {
		return rhs
	}
	cp.stack = cp.stack[:len(cp.stack)-1]
	return &classSet{kind: sBinOp, op: top.op, lhs: top.lhs, rhs: rhs, start: top.lhs.start, end: rhs.end}
}

func (p *parser) parseClass() (*node, *Error) {
	cp := &classParser{p: p}
	var union []*classSet
	unionStart := p.pos
	for {
		p.bumpSpace()
		if p.eof() {
			return nil, cp.unclosed()
		}
		switch c := p.char(); {
		case c == '[':
			if len(cp.stack) > 0 {
				if a := p.maybeASCIIClass(); a != nil {
					union = append(union, a)
					continue
				}
			}
			set, nested, nestedStart, err := p.parseClassOpen()
			if err != nil {
				return nil, err
			}
			cp.stack = append(cp.stack, &classFrame{open: true, union: union, unionStart: unionStart, set: set})
			union, unionStart = nested, nestedStart
		case c == ']':
			item := unionToItem(union, unionStart, p.pos)
			body := cp.popOp(item)
			top := cp.stack[len(cp.stack)-1]
			cp.stack = cp.stack[:len(cp.stack)-1]
			p.bump()
			set := top.set
			set.end = p.pos
			set.set = body
			if len(cp.stack) == 0 {
				return set, nil
			}
			union = append(top.union, &classSet{kind: sBracketed, bracket: set, start: set.start, end: set.end})
			unionStart = top.unionStart
		case (c == '&' || c == '-' || c == '~') && cp.peekIs(c):
			op := string([]rune{c, c})
			p.pos += 2
			item := unionToItem(union, unionStart, p.pos-2)
			lhs := cp.popOp(item)
			cp.stack = append(cp.stack, &classFrame{op: op, lhs: lhs})
			union, unionStart = nil, p.pos
		default:
			item, err := cp.parseRange()
			if err != nil {
				return nil, err
			}
			union = append(union, item)
		}
	}
}

func (cp *classParser) peekIs(c rune) bool {
	r, ok := cp.p.peek()
	return ok && r == c
}

// parseClassOpen reads '[', an optional '^', leading '-'s and a leading ']'
// (both literal there).
func (p *parser) parseClassOpen() (*node, []*classSet, int, *Error) {
	start := p.pos
	if !p.bumpAndBumpSpace() {
		return nil, nil, 0, p.errAt(start, p.pos, eClassUnclosed)
	}
	negated := false
	if p.char() == '^' {
		negated = true
		if !p.bumpAndBumpSpace() {
			return nil, nil, 0, p.errAt(start, p.pos, eClassUnclosed)
		}
	}
	unionStart := p.pos
	var union []*classSet
	for p.char() == '-' {
		union = append(union, litItem(p, '-'))
		if !p.bumpAndBumpSpace() {
			return nil, nil, 0, p.errAt(start, start, eClassUnclosed)
		}
	}
	if len(union) == 0 && p.char() == ']' {
		union = append(union, litItem(p, ']'))
		if !p.bumpAndBumpSpace() {
			return nil, nil, 0, p.errAt(start, p.pos, eClassUnclosed)
		}
	}
	set := &node{kind: nBracketed, start: start, end: p.pos, negated: negated}
	return set, union, unionStart, nil
}

func litItem(p *parser, c rune) *classSet {
	n := &node{kind: nLiteral, c: c, lit: litVerbatim, start: p.pos, end: p.pos + 1}
	return &classSet{kind: sLiteral, lo: n, start: n.start, end: n.end}
}

var asciiClassNames = map[string]bool{
	"alnum": true, "alpha": true, "ascii": true, "blank": true, "cntrl": true, "digit": true, "graph": true,
	"lower": true, "print": true, "punct": true, "space": true, "upper": true, "word": true, "xdigit": true,
}

// maybeASCIIClass parses [:name:] or [:^name:]; on any mismatch it backs up
// and the caller treats '[' as a nested class.
func (p *parser) maybeASCIIClass() *classSet {
	start := p.pos
	fail := func() *classSet { p.pos = start; return nil }
	if !p.bump() || p.char() != ':' {
		return fail()
	}
	if !p.bump() {
		return fail()
	}
	negated := false
	if p.char() == '^' {
		negated = true
		if !p.bump() {
			return fail()
		}
	}
	nameStart := p.pos
	for p.char() != ':' && p.bump() {
	}
	if p.eof() {
		return fail()
	}
	name := p.pat[nameStart:p.pos]
	if !p.bumpIf(":]") || !asciiClassNames[name] {
		return fail()
	}
	return &classSet{kind: sASCII, ascii: name, negated: negated, start: start, end: p.pos}
}

func (cp *classParser) parseRange() (*classSet, *Error) {
	p := cp.p
	prim1, err := p.parseClassItem()
	if err != nil {
		return nil, err
	}
	p.bumpSpace()
	if p.eof() {
		return nil, cp.unclosed()
	}
	next, _ := p.peekSpace()
	if p.char() != '-' || next == ']' || next == '-' {
		return asSetItem(p, prim1)
	}
	if !p.bumpAndBumpSpace() {
		return nil, cp.unclosed()
	}
	prim2, err := p.parseClassItem()
	if err != nil {
		return nil, err
	}
	for _, prim := range []*node{prim1, prim2} {
		if prim.kind != nLiteral {
			return nil, p.errAt(prim.start, prim.end, eClassRangeLiteral)
		}
	}
	if prim1.c > prim2.c {
		return nil, p.errAt(prim1.start, prim2.end, eClassRangeInvalid)
	}
	return &classSet{kind: sRange, lo: prim1, hi: prim2, start: prim1.start, end: prim2.end}, nil
}

func (p *parser) parseClassItem() (*node, *Error) {
	if p.char() == '\\' {
		return p.parseEscape()
	}
	start := p.pos
	c := p.char()
	p.bump()
	return &node{kind: nLiteral, c: c, lit: litVerbatim, start: start, end: p.pos}, nil
}

func asSetItem(p *parser, prim *node) (*classSet, *Error) {
	switch prim.kind {
	case nLiteral:
		return &classSet{kind: sLiteral, lo: prim, start: prim.start, end: prim.end}, nil
	case nPerlClass:
		return &classSet{kind: sPerl, uni: prim, start: prim.start, end: prim.end}, nil
	case nUnicodeClass:
		return &classSet{kind: sUnicode, uni: prim, start: prim.start, end: prim.end}, nil
	}
	return nil, p.errAt(prim.start, prim.end, eClassEscapeInvalid)
}
