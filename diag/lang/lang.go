// Package lang decides questions about sets of HTTP requests (method and
// path): does one route condition cover another, do two overlap, and which
// concrete request shows it.
//
// Paths are matched with linkerd2-proxy's semantics: a ServiceProfile path
// regex is compiled by the Rust regex crate and used with is_match (a
// search, not a full match), after the proxy has added ^ and $ as text (the
// caller passes that anchored text to Path). Each regex becomes a lazily
// built automaton over Unicode runes; a question is answered by exploring
// the product of the automata involved, breadth first, up to a state bound.
// Past the bound, or for a construct that is not modelled (word boundaries,
// multi-line anchors, anything Go's regexp reads differently from Rust), the
// answer is "undecided", never a guess.
//
// Every request path is taken to start with "/" (origin-form request
// targets, and what the proxy sees for absolute-form ones).
//
// An Engine caches compiled regexes and their automata; it is not safe for
// concurrent use.
package lang

import (
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultLimit is the product-state bound used when a limit is not positive.
const DefaultLimit = 20000

type opKind uint8

const (
	opTrue opKind = iota
	opFalse
	opMethod
	opPath
	opAnd
	opOr
	opNot
)

// Cond is a condition on requests: a boolean formula over method and path
// atoms. The zero Cond is True.
type Cond struct {
	op     opKind
	method string
	atom   automaton
	subs   []Cond
}

// True matches every request.
func True() Cond { return Cond{op: opTrue} }

// False matches no request.
func False() Cond { return Cond{op: opFalse} }

// Method matches requests whose method is exactly m (methods are
// case-sensitive, as http::Method compares them).
func Method(m string) Cond { return Cond{op: opMethod, method: m} }

// And matches requests every sub-condition matches (True when empty).
func And(subs ...Cond) Cond { return Cond{op: opAnd, subs: subs} }

// Or matches requests some sub-condition matches (False when empty).
func Or(subs ...Cond) Cond { return Cond{op: opOr, subs: subs} }

// Not matches the requests c does not match.
func Not(c Cond) Cond { return Cond{op: opNot, subs: []Cond{c}} }

// Exact matches requests whose path is exactly s.
func Exact(s string) Cond { return Cond{op: opPath, atom: newExact(s)} }

// Prefix matches paths under s with Gateway API PathPrefix semantics: the
// prefix is compared segment by segment and a trailing "/" in s is ignored,
// so Prefix("/foo") matches "/foo" and "/foo/bar" but not "/foobar", and
// Prefix("/") matches every path.
func Prefix(s string) Cond { return Cond{op: opPath, atom: newPrefix(s)} }

// Path matches requests whose path the proxy's regex matches. anchored is
// the regex exactly as the proxy compiles it (already trimmed and anchored
// with ^ and $ as text). A regex the engine does not model gives a
// condition whose questions are undecided (see Undecidable).
func (e *Engine) Path(anchored string) Cond {
	return Cond{op: opPath, atom: e.regex(anchored)}
}

// Undecidable returns why questions about c cannot be decided (a construct
// that is not modelled), or "" when they can.
func (c Cond) Undecidable() string {
	if c.op == opPath {
		if r, ok := c.atom.(*regexAtom); ok {
			return r.err
		}
		return ""
	}
	for _, s := range c.subs {
		if why := s.Undecidable(); why != "" {
			return why
		}
	}
	return ""
}

// Request is one concrete request.
type Request struct {
	Method string
	Path   string
}

// String renders the request as `METHOD path`; a path with spaces or
// unprintable runes is quoted.
func (r Request) String() string {
	p := r.Path
	for _, c := range p {
		if c == ' ' || !unicode.IsPrint(c) || c == '"' {
			p = strconv.Quote(p)
			break
		}
	}
	return r.Method + " " + p
}

// Result answers Covered.
type Result struct {
	// Decided is false when the state bound was reached or a construct is
	// not modelled (Reason says which); Covered is then false.
	Decided bool
	Reason  string
	// Covered: every request the later condition matches is matched by
	// one of the earlier ones.
	Covered bool
	// By lists the earlier conditions (indices into the slice given) that
	// explain the cover. The shortest run of earlier conditions, in order,
	// that covers is found; when its last one covers alone By is just that
	// one, otherwise the conditions of the run that overlap the later one.
	// Empty when the later condition matches no request.
	By []int
	// Witness is a request the later condition matches and no earlier one
	// does, when not covered.
	Witness *Request
}

// Engine answers questions, caching compiled regexes between them.
type Engine struct {
	limit   int
	budget  int64 // automaton steps left for all questions; < 0: unlimited
	work    int64 // closure work of the regex automata, counted as steps
	regexes map[string]*regexAtom
}

// NewEngine returns an engine whose explorations stop after limit product
// states (DefaultLimit when limit <= 0).
func NewEngine(limit int) *Engine {
	if limit <= 0 {
		limit = DefaultLimit
	}
	return &Engine{limit: limit, budget: -1, regexes: map[string]*regexAtom{}}
}

// SetBudget bounds the total work of all later questions to about steps
// automaton transitions; once spent, every question is undecided. Each
// question is also bounded on its own (limit states, 64*limit steps).
// Building automaton states counts too (one step per instruction visited).
func (e *Engine) SetBudget(steps int64) { e.budget = steps }

// Covered tells whether every request later matches is matched by at
// least one of earlier.
func (e *Engine) Covered(later Cond, earlier []Cond) Result {
	idx := make([]int, 0, len(earlier))
	for i, c := range earlier {
		if mayIntersect(later, c) {
			idx = append(idx, i)
		}
	}
	// uncovered looks for a request later matches and none of ids does.
	uncovered := func(ids []int) (Request, bool, bool, string) {
		u := make([]Cond, len(ids))
		for k, i := range ids {
			u[k] = earlier[i]
		}
		return e.sat(And(later, Not(Or(u...))))
	}
	w, found, decided, why := uncovered(idx)
	if !decided {
		return Result{Reason: why}
	}
	if found {
		return Result{Decided: true, Witness: &w}
	}
	res := Result{Decided: true, Covered: true}
	if len(idx) == 0 {
		return res // later matches no request
	}
	if _, f, d, _ := e.sat(later); d && !f {
		return res // nothing to cover: later matches no request
	}
	// The shortest run idx[:k] that covers (covering grows with k), found
	// by bisection so that long lists cost a few explorations.
	lo, hi := 1, len(idx)
	for lo < hi {
		mid := (lo + hi) / 2
		if _, f, d, _ := uncovered(idx[:mid]); d && !f {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	last := idx[lo-1]
	if lo == 1 {
		res.By = []int{last}
		return res
	}
	if _, f, d, _ := uncovered([]int{last}); d && !f {
		res.By = []int{last}
		return res
	}
	for _, i := range idx[:lo] {
		if _, f, d, _ := e.sat(And(later, earlier[i])); f || !d {
			res.By = append(res.By, i)
		}
	}
	return res
}

// FirstOverlap returns the first of earlier that shares a request with
// later, and such a request: no condition before it matches that request
// (none shares any request with later). ok is false when none overlaps;
// decided is false when the bound was reached or a construct is not
// modelled.
func (e *Engine) FirstOverlap(later Cond, earlier []Cond) (first int, req Request, ok bool, decided bool) {
	idx := make([]int, 0, len(earlier))
	for i, c := range earlier {
		if mayIntersect(later, c) {
			idx = append(idx, i)
		}
	}
	meets := func(ids []int) (bool, bool) {
		u := make([]Cond, len(ids))
		for k, i := range ids {
			u[k] = earlier[i]
		}
		_, f, d, _ := e.sat(And(later, Or(u...)))
		return f, d
	}
	// Try the first few in order (usually the first one answers), then
	// bisect the rest.
	const tryFirst = 4
	for k := 0; k < len(idx) && k < tryFirst; k++ {
		req, ok, decided, _ = e.sat(And(later, earlier[idx[k]]))
		if !decided {
			return -1, Request{}, false, false
		}
		if ok {
			return idx[k], req, true, true
		}
	}
	idx = idx[min(tryFirst, len(idx)):]
	if len(idx) == 0 {
		return -1, Request{}, false, true
	}
	f, d := meets(idx)
	if !d || !f {
		return -1, Request{}, false, d
	}
	lo, hi := 1, len(idx)
	for lo < hi {
		mid := (lo + hi) / 2
		f, d := meets(idx[:mid])
		if !d {
			return -1, Request{}, false, false
		}
		if f {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	first = idx[lo-1]
	req, ok, decided, _ = e.sat(And(later, earlier[first]))
	if !ok {
		return -1, Request{}, false, decided
	}
	return first, req, true, true
}

// Overlap returns a request both a and b match, if there is one. decided is
// false when the bound was reached or a construct is not modelled.
func (e *Engine) Overlap(a, b Cond) (req Request, ok bool, decided bool) {
	if !mayIntersect(a, b) {
		return Request{}, false, true
	}
	req, ok, decided, _ = e.sat(And(a, b))
	return req, ok, decided
}

// Example returns a request c matches, if there is one.
func (e *Engine) Example(c Cond) (req Request, ok bool, decided bool) {
	req, ok, decided, _ = e.sat(c)
	return req, ok, decided
}

// methodsOf lists the method names c mentions.
func methodsOf(c Cond, into map[string]bool) {
	if c.op == opMethod {
		into[c.method] = true
	}
	for _, s := range c.subs {
		methodsOf(s, into)
	}
}

// commonMethods are tried, in order, to stand for "any other method".
var commonMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK"}

// methodUniverse returns one representative per class of methods c cannot
// tell apart: each method it mentions, plus one it does not.
func methodUniverse(c Cond) []string {
	seen := map[string]bool{}
	methodsOf(c, seen)
	var out []string
	for m := range seen {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		return methodRank(out[i]) < methodRank(out[j]) || methodRank(out[i]) == methodRank(out[j]) && out[i] < out[j]
	})
	for _, m := range commonMethods {
		if !seen[m] {
			return append(out, m)
		}
	}
	other := "OTHER"
	for seen[other] {
		other += "X"
	}
	return append(out, other)
}

func methodRank(m string) int {
	for i, c := range commonMethods {
		if c == m {
			return i
		}
	}
	return len(commonMethods)
}

// mayIntersect is a cheap sound test: false means a and b share no
// request (disjoint methods or incompatible literal path prefixes).
func mayIntersect(a, b Cond) bool {
	ma, alla := MethodSet(a)
	mb, allb := MethodSet(b)
	if !alla && !allb {
		ok := false
		for m := range ma {
			if mb[m] {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return prefixesMeet(prefixInfo(a), prefixInfo(b))
}

// prefixes is what the prefilter knows of a condition's paths: the
// literal text they start with, the same case-folded (it can be longer),
// and whether that text is the whole path.
type prefixes struct {
	exact, folded string
	whole         bool
}

func prefixInfo(c Cond) prefixes {
	return prefixes{exact: RequiredPrefix(c), folded: foldedPrefix(c), whole: wholePath(c)}
}

// prefixesMeet is false only when no path can satisfy both.
func prefixesMeet(a, b prefixes) bool {
	if !PrefixCompatible(a.exact, b.exact) || !PrefixCompatible(a.folded, b.folded) {
		return false
	}
	if a.whole && (len(b.exact) > len(a.exact) || len(b.folded) > len(a.folded)) {
		return false
	}
	if b.whole && (len(a.exact) > len(b.exact) || len(a.folded) > len(b.folded)) {
		return false
	}
	return true
}

// wholePath tells whether RequiredPrefix(c) is the only path c can match:
// c is, or requires, one literal path.
func wholePath(c Cond) bool {
	switch c.op {
	case opPath:
		return c.atom.whole()
	case opAnd:
		// The longest prefix is the one RequiredPrefix returns.
		best, whole := -1, false
		for _, s := range c.subs {
			if p := RequiredPrefix(s); len(p) > best {
				best, whole = len(p), wholePath(s)
			}
		}
		return whole
	}
	return false
}

// PrefixCompatible tells whether two required prefixes can both hold: one
// is a prefix of the other.
func PrefixCompatible(p, q string) bool {
	return strings.HasPrefix(p, q) || strings.HasPrefix(q, p)
}

// MethodSet returns the methods a request must have to match c, or
// all=true when c does not limit the method.
func MethodSet(c Cond) (set map[string]bool, all bool) {
	switch c.op {
	case opMethod:
		return map[string]bool{c.method: true}, false
	case opFalse:
		return map[string]bool{}, false
	case opAnd:
		all = true
		for _, s := range c.subs {
			ss, sall := MethodSet(s)
			if sall {
				continue
			}
			if all {
				set, all = ss, false
				continue
			}
			for k := range set {
				if !ss[k] {
					delete(set, k)
				}
			}
		}
		return set, all
	case opOr:
		set = map[string]bool{}
		for _, s := range c.subs {
			ss, sall := MethodSet(s)
			if sall {
				return nil, true
			}
			for k := range ss {
				set[k] = true
			}
		}
		return set, false
	}
	return nil, true
}

// RequiredPrefix returns a literal text every path c matches starts with
// ("" when none is known).
func RequiredPrefix(c Cond) string { return prefixOf(c, automaton.prefix) }

// foldedPrefix is like RequiredPrefix on case-folded text (foldKey): it
// also sees through case-insensitive regexes.
func foldedPrefix(c Cond) string { return prefixOf(c, automaton.foldPrefix) }

func prefixOf(c Cond, get func(automaton) string) string {
	switch c.op {
	case opPath:
		return get(c.atom)
	case opAnd:
		best := ""
		for _, s := range c.subs {
			if p := prefixOf(s, get); len(p) > len(best) {
				best = p
			}
		}
		return best
	case opOr:
		if len(c.subs) == 0 {
			return ""
		}
		common := prefixOf(c.subs[0], get)
		for _, s := range c.subs[1:] {
			p := prefixOf(s, get)
			n := 0
			for n < len(p) && n < len(common) && p[n] == common[n] {
				n++
			}
			common = common[:n]
		}
		return validPrefix(common)
	}
	return ""
}

// validPrefix cuts a byte prefix back to whole UTF-8 runes.
func validPrefix(s string) string {
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
