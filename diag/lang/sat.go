package lang

import (
	"encoding/binary"
	"slices"
	"sort"
	"strconv"
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
	pts := []rune{0, 0x21, '#', '#' + 1, '?', '?' + 1, '/', '/' + 1, 0xD800, 0xE000, utf8.MaxRune + 1}
	for _, a := range atoms {
		pts = append(pts, cutsOf(a)...)
	}
	slices.Sort(pts)
	n := 0
	for i, r := range pts {
		if i == 0 || r != pts[n-1] {
			pts[n] = r
			n++
		}
	}
	pts = pts[:n]
	out := make([]class, 0, len(pts))
	for i := 0; i+1 < len(pts); i++ {
		lo, hi := pts[i], pts[i+1]-1
		if !inPath(lo) {
			continue
		}
		c := class{lo: lo, hi: hi, rep: lo, rank: len(niceRunes) + 1}
		if lo <= 0xA1 && hi >= 0xA1 {
			c.rep, c.rank = 0xA1, len(niceRunes)
		}
		out = append(out, c)
	}
	// Each nice rune, best first, names the cell it falls in.
	for k := 0; k < len(niceRunes); k++ {
		r := rune(niceRunes[k])
		i := sort.Search(len(out), func(i int) bool { return out[i].hi >= r })
		if i < len(out) && out[i].lo <= r && out[i].rank > k {
			out[i].rep, out[i].rank = r, k
		}
	}
	slices.SortStableFunc(out, func(a, b class) int { return a.rank - b.rank })
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

// RequestPath reports whether p can be the path of a request as the proxy
// matches it (query and fragment already dropped): it starts with "/" and
// holds only runes inPath allows. No route condition matches a request with
// any other path, so a route made from one never applies.
func RequestPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for _, r := range p {
		if !inPath(r) {
			return false
		}
	}
	return true
}

// cutsOf lists the points where an automaton's behaviour may change: the
// first rune of each range it tells apart and the rune after its end.
func cutsOf(a automaton) []rune {
	if r, ok := a.(*regexAtom); ok && r.cuts != nil {
		return r.cuts
	}
	var out []rune
	a.bounds(func(lo, hi rune) { out = append(out, lo, hi+1) })
	if r, ok := a.(*regexAtom); ok {
		r.cuts = out
	}
	return out
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
	if e.budget == 0 {
		return Request{}, false, false, "the analysis budget for this profile is spent"
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
	// A node holds only its live atoms, as (slot, state) pairs: an atom in
	// the dead state stays there, and most atoms die within a few runes.
	var root []int32
	for k, a := range atoms {
		st := a.start()
		if st < 0 {
			return Request{}, false, false, "the automaton grew past the bound"
		}
		if st != deadState {
			root = append(root, int32(k), st)
		}
	}
	nodes := []node{{parent: -1, st: root}}
	seen := map[string]int32{}
	var kb []byte
	var scratch []int32
	steps, maxSteps, work0 := 0, 64*e.limit, e.work
	defer func() { e.spend(steps) }()
	// The root (the empty path, which no request has) is never looked up:
	// a longer path reaching the same states must still be explored.
	vals := make([]uint8, len(atoms))  // 0 for dead atoms
	sinks := make([]uint8, len(atoms)) // 0 for dead atoms
	for q := 0; q < len(nodes); q++ {
		n := nodes[q]
		if q > 0 {
			for i := 0; i < len(nodes[q-1].st); i += 2 {
				vals[nodes[q-1].st[i]], sinks[nodes[q-1].st[i]] = 0, 0
			}
		}
		for i := 0; i < len(n.st); i += 2 {
			k, st := n.st[i], n.st[i+1]
			vals[k] = 0
			if atoms[k].accepts(st) {
				vals[k] = 1
			}
			sinks[k] = 2
			if st == allState {
				sinks[k] = 1
			}
		}
		live := false
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
			steps += len(n.st)/2 + int(e.work-work0)
			work0 = e.work
			if steps > maxSteps || e.budget >= 0 && int64(steps) > e.budget {
				if steps > maxSteps {
					return Request{}, false, false, "the exploration reached its bound of " + strconv.Itoa(maxSteps) + " steps"
				}
				return Request{}, false, false, "the analysis budget for this profile is spent"
			}
			next := scratch[:0]
			for i := 0; i < len(n.st); i += 2 {
				t := atoms[n.st[i]].step(n.st[i+1], cl.rep)
				if t < 0 {
					return Request{}, false, false, "the automaton grew past the bound"
				}
				if t != deadState {
					next = append(next, n.st[i], t)
				}
			}
			scratch = next
			kb = kb[:0]
			for _, v := range next {
				kb = binary.LittleEndian.AppendUint32(kb, uint32(v))
			}
			if _, ok := seen[string(kb)]; ok {
				continue
			}
			if len(nodes) >= e.limit {
				return Request{}, false, false, "the exploration reached its bound of " + strconv.Itoa(e.limit) + " states"
			}
			seen[string(kb)] = int32(len(nodes))
			nodes = append(nodes, node{parent: int32(q), r: cl.rep, st: slices.Clone(next)})
		}
	}
	return Request{}, false, true, ""
}

func (e *Engine) spend(steps int) {
	if e.budget >= 0 {
		e.budget = max(0, e.budget-int64(steps))
	}
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
