package rustregex

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// The parser follows the grammar of regex-syntax 0.8.11 (the parser behind
// regex 1.13.1, which linkerd2-proxy uses): same accepted syntax, same error
// kinds, same error positions where practical. It was written from the crate's
// documented behaviour and checked against the real crate; no code was copied.

const nestLimit = 250 // regex::RegexBuilder default nest_limit

type parser struct {
	pat      string
	pos      int
	ignoreWS bool
	names    map[string]int
	frames   []*frame
}

// frame is one open group (or the top level): what came before it and the
// alternatives finished so far inside it.
type frame struct {
	group       *node // nil for the top level
	prior       []*node
	priorStart  int
	alts        []*node
	oldIgnoreWS bool
}

func (p *parser) eof() bool { return p.pos >= len(p.pat) }

func (p *parser) char() rune {
	r, _ := utf8.DecodeRuneInString(p.pat[p.pos:])
	return r
}

func (p *parser) charEnd() int {
	_, n := utf8.DecodeRuneInString(p.pat[p.pos:])
	return p.pos + n
}

// bump moves past the current char and reports whether input remains.
func (p *parser) bump() bool {
	if p.eof() {
		return false
	}
	p.pos = p.charEnd()
	return !p.eof()
}

func (p *parser) bumpIf(prefix string) bool {
	if len(p.pat)-p.pos >= len(prefix) && p.pat[p.pos:p.pos+len(prefix)] == prefix {
		p.pos += len(prefix)
		return true
	}
	return false
}

// bumpSpace skips whitespace and # comments in (?x) mode.
func (p *parser) bumpSpace() {
	if !p.ignoreWS {
		return
	}
	for !p.eof() {
		c := p.char()
		switch {
		case unicode.IsSpace(c):
			p.bump()
		case c == '#':
			for !p.eof() {
				c := p.char()
				p.bump()
				if c == '\n' {
					break
				}
			}
		default:
			return
		}
	}
}

func (p *parser) bumpAndBumpSpace() bool {
	if !p.bump() {
		return false
	}
	p.bumpSpace()
	return !p.eof()
}

func (p *parser) peek() (rune, bool) {
	if p.eof() {
		return 0, false
	}
	rest := p.pat[p.charEnd():]
	if rest == "" {
		return 0, false
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return r, true
}

// peekSpace is peek that also skips whitespace and comments in (?x) mode.
func (p *parser) peekSpace() (rune, bool) {
	if !p.ignoreWS {
		return p.peek()
	}
	if p.eof() {
		return 0, false
	}
	rest := p.pat[p.charEnd():]
	inComment := false
	for _, c := range rest {
		switch {
		case unicode.IsSpace(c):
		case !inComment && c == '#':
			inComment = true
		case inComment && c == '\n':
			inComment = false
		case inComment:
		default:
			return c, true
		}
	}
	return 0, false
}

func (p *parser) errAt(start, end int, kind errKind) *Error {
	return newError(p.pat, start, end, kind)
}

func (p *parser) errChar(kind errKind) *Error {
	if p.eof() {
		return p.errAt(p.pos, p.pos, kind)
	}
	return p.errAt(p.pos, p.charEnd(), kind)
}

// parse builds the tree or returns the first syntax error.
func parse(pat string) (*node, *Error) {
	p := &parser{pat: pat, names: map[string]int{}}
	p.frames = []*frame{{}}
	var cur []*node
	curStart := 0
	for {
		p.bumpSpace()
		if p.eof() {
			break
		}
		switch p.char() {
		case '(':
			open := p.pos
			g, err := p.parseGroup()
			if err != nil {
				return nil, err
			}
			if g.kind == nFlags {
				if g.flags.on&flagX != 0 {
					p.ignoreWS = true
				} else if g.flags.off&flagX != 0 {
					p.ignoreWS = false
				}
				cur = append(cur, g)
				continue
			}
			_ = open
			f := &frame{group: g, prior: cur, priorStart: curStart, oldIgnoreWS: p.ignoreWS}
			if g.hasFlag {
				if g.flags.on&flagX != 0 {
					p.ignoreWS = true
				} else if g.flags.off&flagX != 0 {
					p.ignoreWS = false
				}
			}
			p.frames = append(p.frames, f)
			cur, curStart = nil, p.pos
		case ')':
			f := p.frames[len(p.frames)-1]
			if f.group == nil {
				return nil, p.errChar(eGroupUnopened)
			}
			p.frames = p.frames[:len(p.frames)-1]
			p.ignoreWS = f.oldIgnoreWS
			body := concatToAst(cur, curStart, p.pos)
			if len(f.alts) > 0 {
				alts := append(f.alts, body)
				body = &node{kind: nAlternation, start: alts[0].start, end: p.pos, subs: alts}
			}
			p.bump()
			g := f.group
			g.end = p.pos
			g.subs = []*node{body}
			cur, curStart = append(f.prior, g), f.priorStart
		case '|':
			f := p.frames[len(p.frames)-1]
			f.alts = append(f.alts, concatToAst(cur, curStart, p.pos))
			p.bump()
			cur, curStart = nil, p.pos
		case '[':
			cls, err := p.parseClass()
			if err != nil {
				return nil, err
			}
			cur = append(cur, cls)
		case '?', '*', '+':
			var err *Error
			if cur, err = p.parseUncountedRepetition(cur); err != nil {
				return nil, err
			}
		case '{':
			var err *Error
			if cur, err = p.parseCountedRepetition(cur); err != nil {
				return nil, err
			}
		default:
			prim, err := p.parsePrimitive()
			if err != nil {
				return nil, err
			}
			cur = append(cur, prim)
		}
	}
	// End of pattern: the innermost unclosed group is the one reported.
	f := p.frames[len(p.frames)-1]
	if f.group != nil {
		return nil, p.errAt(f.group.start, f.group.start+1, eGroupUnclosed)
	}
	body := concatToAst(cur, curStart, p.pos)
	if len(f.alts) > 0 {
		alts := append(f.alts, body)
		body = &node{kind: nAlternation, start: 0, end: p.pos, subs: alts}
	}
	if err := checkNest(pat, body); err != nil {
		return nil, err
	}
	return body, nil
}

func popRepeatable(p *parser, cur []*node) ([]*node, *node, *Error) {
	if len(cur) == 0 || cur[len(cur)-1].kind == nFlags || cur[len(cur)-1].kind == nEmpty {
		return nil, nil, p.errAt(p.pos, p.pos, eRepetitionMissing)
	}
	return cur[:len(cur)-1], cur[len(cur)-1], nil
}

func (p *parser) parseUncountedRepetition(cur []*node) ([]*node, *Error) {
	op := p.char()
	cur, sub, err := popRepeatable(p, cur)
	if err != nil {
		return nil, err
	}
	greedy := true
	if p.bump() && p.char() == '?' {
		greedy = false
		p.bump()
	}
	r := &node{kind: nRepetition, start: sub.start, end: p.pos, greedy: greedy, subs: []*node{sub}}
	switch op {
	case '?':
		r.min, r.max = 0, 1
	case '*':
		r.min, r.max = 0, -1
	default:
		r.min, r.max = 1, -1
	}
	return append(cur, r), nil
}

func (p *parser) parseCountedRepetition(cur []*node) ([]*node, *Error) {
	start := p.pos
	cur, sub, err := popRepeatable(p, cur)
	if err != nil {
		return nil, err
	}
	unclosed := func() *Error { return p.errAt(start, p.pos, eRepetitionCountUnclosed) }
	if !p.bumpAndBumpSpace() {
		return nil, unclosed()
	}
	lo, loErr := p.parseDecimal()
	if p.eof() {
		return nil, unclosed()
	}
	var min, max int64
	if p.char() == ',' {
		if !p.bumpAndBumpSpace() {
			return nil, unclosed()
		}
		if p.char() != '}' {
			if loErr != nil {
				return nil, loErr
			}
			hi, hiErr := p.parseDecimal()
			if hiErr != nil {
				return nil, hiErr
			}
			min, max = lo, hi
		} else {
			if loErr != nil {
				return nil, loErr
			}
			min, max = lo, -1
		}
	} else {
		if loErr != nil {
			return nil, loErr
		}
		min, max = lo, lo
	}
	if p.eof() || p.char() != '}' {
		return nil, unclosed()
	}
	greedy := true
	if p.bumpAndBumpSpace() && p.char() == '?' {
		greedy = false
		p.bump()
	}
	if max >= 0 && min > max {
		return nil, p.errAt(start, p.pos, eRepetitionCountInvalid)
	}
	r := &node{kind: nRepetition, start: sub.start, end: p.pos, greedy: greedy, min: min, max: max, subs: []*node{sub}}
	return append(cur, r), nil
}

// parseDecimal reads a u32 inside {}: whitespace around it is skipped even
// without (?x), as in the crate.
func (p *parser) parseDecimal() (int64, *Error) {
	for !p.eof() && unicode.IsSpace(p.char()) {
		p.bump()
	}
	start := p.pos
	digits := ""
	for !p.eof() && p.char() >= '0' && p.char() <= '9' {
		digits += string(p.char())
		p.bumpAndBumpSpace()
	}
	end := p.pos
	for !p.eof() && unicode.IsSpace(p.char()) {
		p.bumpAndBumpSpace()
	}
	if digits == "" {
		return 0, p.errAt(start, end, eRepetitionCountDecimalEmpty)
	}
	n, err := strconv.ParseUint(digits, 10, 32)
	if err != nil {
		return 0, p.errAt(start, end, eDecimalInvalid)
	}
	return int64(n), nil
}

func (p *parser) parseGroup() (*node, *Error) {
	open := p.pos
	p.bump()
	p.bumpSpace()
	if p.bumpIf("?=") || p.bumpIf("?!") || p.bumpIf("?<=") || p.bumpIf("?<!") {
		return nil, p.errAt(open, p.pos, eLookAround)
	}
	inner := p.pos
	if p.bumpIf("?P<") || p.bumpIf("?<") {
		name, err := p.parseCaptureName()
		if err != nil {
			return nil, err
		}
		return &node{kind: nGroup, start: open, capture: true, name: name}, nil
	}
	if p.bumpIf("?") {
		if p.eof() {
			return nil, p.errAt(open, open+1, eGroupUnclosed)
		}
		fl, n, err := p.parseFlags()
		if err != nil {
			return nil, err
		}
		end := p.char()
		p.bump()
		if end == ')' {
			if n == 0 {
				return nil, p.errAt(inner, inner, eRepetitionMissing)
			}
			return &node{kind: nFlags, start: open, end: p.pos, flags: fl, hasFlag: true}, nil
		}
		return &node{kind: nGroup, start: open, flags: fl, hasFlag: n > 0}, nil
	}
	return &node{kind: nGroup, start: open, capture: true}, nil
}

func isCaptureChar(c rune, first bool) bool {
	if c == '_' || isAlphabetic(c) {
		return true
	}
	if first {
		return false
	}
	return c == '.' || c == '[' || c == ']' || unicode.IsNumber(c)
}

// isAlphabetic approximates Rust's char::is_alphabetic (Unicode Alphabetic =
// letters, letter numbers and Other_Alphabetic).
func isAlphabetic(c rune) bool {
	return unicode.IsLetter(c) || unicode.Is(unicode.Nl, c) || unicode.Is(unicode.Other_Alphabetic, c)
}

func (p *parser) parseCaptureName() (string, *Error) {
	if p.eof() {
		return "", p.errAt(p.pos, p.pos, eGroupNameUnexpectedEOF)
	}
	start := p.pos
	for {
		if p.char() == '>' {
			break
		}
		if !isCaptureChar(p.char(), p.pos == start) {
			return "", p.errChar(eGroupNameInvalid)
		}
		if !p.bump() {
			break
		}
	}
	end := p.pos
	if p.eof() {
		return "", p.errAt(p.pos, p.pos, eGroupNameUnexpectedEOF)
	}
	p.bump()
	name := p.pat[start:end]
	if name == "" {
		return "", p.errAt(start, start, eGroupNameEmpty)
	}
	if _, dup := p.names[name]; dup {
		return "", p.errAt(start, end, eGroupNameDuplicate)
	}
	p.names[name] = start
	return name, nil
}

// parseFlags reads flags up to ':' or ')' and returns them with the number
// of items (flags and negations) seen.
func (p *parser) parseFlags() (flagSet, int, *Error) {
	var fs flagSet
	var seen uint8
	negAt := -1
	negating := false
	lastWasNeg := false
	items := 0
	for p.char() != ':' && p.char() != ')' {
		if p.char() == '-' {
			if negAt >= 0 {
				return fs, 0, p.errChar(eFlagRepeatedNegation)
			}
			negAt = p.pos
			negating = true
			lastWasNeg = true
		} else {
			lastWasNeg = false
			var f uint8
			switch p.char() {
			case 'i':
				f = flagI
			case 'm':
				f = flagM
			case 's':
				f = flagS
			case 'U':
				f = flagU
			case 'u':
				f = flagUni
			case 'R':
				f = flagR
			case 'x':
				f = flagX
			default:
				return fs, 0, p.errChar(eFlagUnrecognized)
			}
			if seen&f != 0 {
				return fs, 0, p.errChar(eFlagDuplicate)
			}
			seen |= f
			if negating {
				fs.off |= f
			} else {
				fs.on |= f
			}
		}
		items++
		if !p.bump() {
			return fs, 0, p.errAt(p.pos, p.pos, eFlagUnexpectedEOF)
		}
	}
	if lastWasNeg {
		return fs, 0, p.errAt(negAt, negAt+1, eFlagDanglingNegation)
	}
	return fs, items, nil
}

func (p *parser) parsePrimitive() (*node, *Error) {
	start := p.pos
	switch c := p.char(); c {
	case '\\':
		return p.parseEscape()
	case '.':
		p.bump()
		return &node{kind: nDot, start: start, end: p.pos}, nil
	case '^':
		p.bump()
		return &node{kind: nAssertion, assert: aStartLine, start: start, end: p.pos}, nil
	case '$':
		p.bump()
		return &node{kind: nAssertion, assert: aEndLine, start: start, end: p.pos}, nil
	default:
		p.bump()
		return &node{kind: nLiteral, c: c, lit: litVerbatim, start: start, end: p.pos}, nil
	}
}

// isMeta lists the characters the crate treats as meta characters.
func isMeta(c rune) bool {
	switch c {
	case '\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$', '#', '&', '-', '~':
		return true
	}
	return false
}

// isEscapable: any ASCII character except letters, digits, '<' and '>' may be
// escaped (regex-syntax >= 0.7, i.e. regex >= 1.8). Non-ASCII may not.
func isEscapable(c rune) bool {
	if isMeta(c) {
		return true
	}
	if c >= utf8.RuneSelf {
		return false
	}
	switch {
	case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '<', c == '>':
		return false
	}
	return true
}

func (p *parser) parseEscape() (*node, *Error) {
	start := p.pos
	if !p.bump() {
		return nil, p.errAt(start, p.pos, eEscapeUnexpectedEOF)
	}
	c := p.char()
	switch {
	case c >= '0' && c <= '9':
		return nil, p.errAt(start, p.charEnd(), eBackreference)
	case c == 'x' || c == 'u' || c == 'U':
		lit, err := p.parseHex()
		if err != nil {
			return nil, err
		}
		lit.start = start
		return lit, nil
	case c == 'p' || c == 'P':
		cls, err := p.parseUnicodeClass()
		if err != nil {
			return nil, err
		}
		cls.start = start
		return cls, nil
	case c == 'd' || c == 's' || c == 'w' || c == 'D' || c == 'S' || c == 'W':
		p.bump()
		return &node{kind: nPerlClass, perl: byte(unicode.ToLower(c)), negated: unicode.IsUpper(c), start: start, end: p.pos}, nil
	}
	p.bump()
	end := p.pos
	lit := func(k litKind, r rune) (*node, *Error) {
		return &node{kind: nLiteral, c: r, lit: k, start: start, end: end}, nil
	}
	assert := func(k assertKind) (*node, *Error) {
		return &node{kind: nAssertion, assert: k, start: start, end: end}, nil
	}
	if isMeta(c) {
		return lit(litMeta, c)
	}
	if isEscapable(c) {
		return lit(litSuperfluous, c)
	}
	switch c {
	case 'a':
		return lit(litSpecial, '\a')
	case 'f':
		return lit(litSpecial, '\f')
	case 't':
		return lit(litSpecial, '\t')
	case 'n':
		return lit(litSpecial, '\n')
	case 'r':
		return lit(litSpecial, '\r')
	case 'v':
		return lit(litSpecial, '\v')
	case 'A':
		return assert(aStartText)
	case 'z':
		return assert(aEndText)
	case 'B':
		return assert(aNotWordBoundary)
	case '<':
		return assert(aWordStartAngle)
	case '>':
		return assert(aWordEndAngle)
	case 'b':
		n := &node{kind: nAssertion, assert: aWordBoundary, start: start, end: end}
		if !p.eof() && p.char() == '{' {
			k, ok, err := p.maybeSpecialWordBoundary(start)
			if err != nil {
				return nil, err
			}
			if ok {
				n.assert = k
				n.end = p.pos
			}
		}
		return n, nil
	}
	return nil, p.errAt(start, end, eEscapeUnrecognized)
}

// maybeSpecialWordBoundary handles \b{start} and friends; anything that does
// not start with [-A-Za-z] is left for the counted-repetition parser.
func (p *parser) maybeSpecialWordBoundary(wbStart int) (assertKind, bool, *Error) {
	valid := func(c rune) bool { return c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
	brace := p.pos
	if !p.bumpAndBumpSpace() {
		return 0, false, p.errAt(wbStart, p.pos, eSpecialWordOrRepetitionEOF)
	}
	contents := p.pos
	if !valid(p.char()) {
		p.pos = brace
		return 0, false, nil
	}
	name := ""
	for !p.eof() && valid(p.char()) {
		name += string(p.char())
		p.bumpAndBumpSpace()
	}
	if p.eof() || p.char() != '}' {
		return 0, false, p.errAt(brace, p.pos, eSpecialWordBoundaryUnclosed)
	}
	end := p.pos
	p.bump()
	switch name {
	case "start":
		return aWordStart, true, nil
	case "end":
		return aWordEnd, true, nil
	case "start-half":
		return aWordStartHalf, true, nil
	case "end-half":
		return aWordEndHalf, true, nil
	}
	return 0, false, p.errAt(contents, end, eSpecialWordBoundaryUnrecognized)
}

func isHex(c rune) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func validScalar(v uint64) bool {
	return v <= unicode.MaxRune && (v < 0xD800 || v > 0xDFFF)
}

func (p *parser) parseHex() (*node, *Error) {
	kind := p.char()
	digits := 2
	lk := litHexFixedX
	switch kind {
	case 'u':
		digits, lk = 4, litHexOther
	case 'U':
		digits, lk = 8, litHexOther
	}
	if !p.bumpAndBumpSpace() {
		return nil, p.errAt(p.pos, p.pos, eEscapeUnexpectedEOF)
	}
	if p.char() == '{' {
		brace := p.pos
		start := p.charEnd()
		hex := ""
		for p.bumpAndBumpSpace() && p.char() != '}' {
			if !isHex(p.char()) {
				return nil, p.errChar(eEscapeHexInvalidDigit)
			}
			hex += string(p.char())
		}
		if p.eof() {
			return nil, p.errAt(brace, p.pos, eEscapeUnexpectedEOF)
		}
		end := p.pos
		p.bumpAndBumpSpace()
		if hex == "" {
			return nil, p.errAt(brace, p.pos, eEscapeHexEmpty)
		}
		v, err := strconv.ParseUint(hex, 16, 32)
		if err != nil || !validScalar(v) {
			return nil, p.errAt(start, end, eEscapeHexInvalid)
		}
		return &node{kind: nLiteral, c: rune(v), lit: litHexOther, end: p.pos}, nil
	}
	start := p.pos
	hex := ""
	for i := 0; i < digits; i++ {
		if i > 0 && !p.bumpAndBumpSpace() {
			return nil, p.errAt(p.pos, p.pos, eEscapeUnexpectedEOF)
		}
		if !isHex(p.char()) {
			return nil, p.errChar(eEscapeHexInvalidDigit)
		}
		hex += string(p.char())
	}
	p.bumpAndBumpSpace()
	v, _ := strconv.ParseUint(hex, 16, 64)
	if !validScalar(v) {
		return nil, p.errAt(start, p.pos, eEscapeHexInvalid)
	}
	return &node{kind: nLiteral, c: rune(v), lit: lk, end: p.pos}, nil
}

func (p *parser) parseUnicodeClass() (*node, *Error) {
	n := &node{kind: nUnicodeClass, negated: p.char() == 'P'}
	if !p.bumpAndBumpSpace() {
		return nil, p.errAt(p.pos, p.pos, eEscapeUnexpectedEOF)
	}
	if p.char() == '{' {
		name := ""
		for p.bumpAndBumpSpace() && p.char() != '}' {
			name += string(p.char())
		}
		if p.eof() {
			return nil, p.errAt(p.pos, p.pos, eEscapeUnexpectedEOF)
		}
		p.bump()
		n.uniName = name
		if i := indexOf(name, "!="); i >= 0 {
			n.uniName, n.uniValue, n.uniHasValue = name[:i], name[i+2:], true
			n.negated = !n.negated
		} else if i := indexOf(name, ":"); i >= 0 {
			n.uniName, n.uniValue, n.uniHasValue = name[:i], name[i+1:], true
		} else if i := indexOf(name, "="); i >= 0 {
			n.uniName, n.uniValue, n.uniHasValue = name[:i], name[i+1:], true
		}
	} else {
		if p.char() == '\\' {
			return nil, p.errChar(eUnicodeClassInvalid)
		}
		n.uniName = string(p.char())
		p.bumpAndBumpSpace()
	}
	n.end = p.pos
	return n, nil
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
