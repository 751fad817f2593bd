package lang

import (
	"encoding/binary"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// form is a condition with the method fixed: a boolean formula over path
// atoms (slots).
type form struct {
	op   opKind // opTrue, opFalse, opPath (slot), opAnd, opOr, opNot
	slot int
	subs []*form
}

var (
	formTrue  = &form{op: opTrue}
	formFalse = &form{op: opFalse}
)

// subst fixes the method to m, folding constants.
func subst(c Cond, m string, slots map[automaton]int, atoms *[]automaton) *form {
	switch c.op {
	case opTrue:
		return formTrue
	case opFalse:
		return formFalse
	case opMethod:
		if c.method == m {
			return formTrue
		}
		return formFalse
	case opPath:
		k, ok := slots[c.atom]
		if !ok {
			k = len(*atoms)
			slots[c.atom] = k
			*atoms = append(*atoms, c.atom)
		}
		return &form{op: opPath, slot: k}
	case opNot:
		s := subst(c.subs[0], m, slots, atoms)
		switch s {
		case formTrue:
			return formFalse
		case formFalse:
			return formTrue
		}
		return &form{op: opNot, subs: []*form{s}}
	case opAnd, opOr:
		absorb, unit := formFalse, formTrue // for And
		if c.op == opOr {
			absorb, unit = formTrue, formFalse
		}
		out := &form{op: c.op}
		for _, sc := range c.subs {
			s := subst(sc, m, slots, atoms)
			if s == absorb {
				return absorb
			}
			if s != unit {
				out.subs = append(out.subs, s)
			}
		}
		switch len(out.subs) {
		case 0:
			return unit
		case 1:
			return out.subs[0]
		}
		return out
	}
	return formFalse
}

// eval evaluates f in three-valued logic: 0 false, 1 true, 2 unknown.
func (f *form) eval(vals []uint8) uint8 {
	switch f.op {
	case opTrue:
		return 1
	case opFalse:
		return 0
	case opPath:
		return vals[f.slot]
	case opNot:
		v := f.subs[0].eval(vals)
		if v == 2 {
			return 2
		}
		return 1 - v
	case opAnd:
		out := uint8(1)
		for _, s := range f.subs {
			switch s.eval(vals) {
			case 0:
				return 0
			case 2:
				out = 2
			}
		}
		return out
	case opOr:
		out := uint8(0)
		for _, s := range f.subs {
			switch s.eval(vals) {
			case 1:
				return 1
			case 2:
				out = 2
			}
		}
		return out
	}
	return 0
}

// class is one cell of the rune partition and the rune that stands for it.
type class struct {
	lo, hi rune
	rep    rune
	rank   int
}

// niceRunes are preferred, in order, as a cell's representative, so that
// example paths read well.
const niceRunes = "abcdefghijklmnopqrstuvwxyz0123456789-_.~ABCDEFGHIJKLMNOPQRSTUVWXYZ/!$&'()*+,;=:@%"

// partition splits all runes into cells no automaton tells apart.
func partition(atoms []automaton) []class {
	cuts := map[rune]bool{0: true, 0x21: true, '#': true, '#' + 1: true, '?': true, '?' + 1: true,
		'/': true, '/' + 1: true, 0xD800: true, 0xE000: true, utf8.MaxRune + 1: true}
	add := func(lo, hi rune) {
		cuts[lo] = true
		cuts[hi+1] = true
	}
	for _, a := range atoms {
		a.bounds(add)
	}
	pts := make([]rune, 0, len(cuts))
	for r := range cuts {
		pts = append(pts, r)
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i] < pts[j] })
	var out []class
	for i := 0; i+1 < len(pts); i++ {
		lo, hi := pts[i], pts[i+1]-1
		if !inPath(lo) {
			continue
		}
		c := class{lo: lo, hi: hi, rep: lo, rank: len(niceRunes) + 1}
		if k := strings.IndexFunc(niceRunes, func(r rune) bool { return r >= lo && r <= hi }); k >= 0 {
			c.rep, c.rank = rune(niceRunes[k]), k
		} else if lo <= 0xA1 && hi >= 0xA1 {
			c.rep, c.rank = 0xA1, len(niceRunes)
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].rank < out[j].rank })
	return out
}

// inPath tells whether a rune can be in a request path as the proxy sees
// it: not a control character or space (they end or break the request
// line), not ? or # (they end the path), not a surrogate (not a rune of a
// string). The partition keeps these apart, so testing one rune of a cell
// is enough.
func inPath(r rune) bool {
	return r > 0x20 && r != '?' && r != '#' && (r < 0xD800 || r >= 0xE000)
}

type node struct {
	parent int32
	r      rune
	st     []int32
}

// sat looks for a request c matches, breadth first (so the example found
// is a shortest one).
func (e *Engine) sat(c Cond) (req Request, found, decided bool, why string) {
	if w := c.Undecidable(); w != "" {
		return Request{}, false, false, w
	}
	methods := methodUniverse(c)
	slots := map[automaton]int{}
	var atoms []automaton
	var forms []*form
	var fmethods []string
	for _, m := range methods {
		f := subst(c, m, slots, &atoms)
		if f != formFalse {
			forms = append(forms, f)
			fmethods = append(fmethods, m)
		}
	}
	if len(forms) == 0 {
		return Request{}, false, true, ""
	}
	classes := partition(atoms)
	nodes := []node{{parent: -1}}
	root := make([]int32, len(atoms))
	for k, a := range atoms {
		root[k] = a.start()
		if root[k] < 0 {
			return Request{}, false, false, "the automaton grew past the bound"
		}
	}
	nodes[0].st = root
	seen := map[string]int32{}
	key := func(st []int32) string {
		b := make([]byte, 4*len(st))
		for i, s := range st {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(s))
		}
		return string(b)
	}
	// The root (the empty path, which no request has) is never looked up:
	// a longer path reaching the same states must still be explored.
	vals := make([]uint8, len(atoms))
	sinks := make([]uint8, len(atoms))
	for q := 0; q < len(nodes); q++ {
		n := nodes[q]
		live := false
		for k, a := range atoms {
			s := n.st[k]
			if a.accepts(s) {
				vals[k] = 1
			} else {
				vals[k] = 0
			}
			switch s {
			case deadState:
				sinks[k] = 0
			case allState:
				sinks[k] = 1
			default:
				sinks[k] = 2
			}
		}
		for fi, f := range forms {
			if q > 0 && f.eval(vals) == 1 {
				return Request{Method: fmethods[fi], Path: pathOf(nodes, int32(q))}, true, true, ""
			}
			if f.eval(sinks) != 0 {
				live = true
			}
		}
		if !live {
			continue
		}
		for _, cl := range classes {
			if q == 0 && cl.rep != '/' {
				continue
			}
			next := make([]int32, len(atoms))
			for k, a := range atoms {
				t := a.step(n.st[k], cl.rep)
				if t < 0 {
					return Request{}, false, false, "the automaton grew past the bound"
				}
				next[k] = t
			}
			kk := key(next)
			if _, ok := seen[kk]; ok {
				continue
			}
			if len(nodes) >= e.limit {
				return Request{}, false, false, "the exploration reached its bound of " + strconv.Itoa(e.limit) + " states"
			}
			seen[kk] = int32(len(nodes))
			nodes = append(nodes, node{parent: int32(q), r: cl.rep, st: next})
		}
	}
	return Request{}, false, true, ""
}

func pathOf(nodes []node, i int32) string {
	var rs []rune
	for ; i > 0; i = nodes[i].parent {
		rs = append(rs, nodes[i].r)
	}
	for l, r := 0, len(rs)-1; l < r; l, r = l+1, r-1 {
		rs[l], rs[r] = rs[r], rs[l]
	}
	return string(rs)
}
