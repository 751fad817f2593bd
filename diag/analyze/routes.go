package analyze

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"google.golang.org/protobuf/proto"

	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/rustregex"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
)

// atom is one condition of a conjunction: a method or a path regex.
type atom struct {
	method string // uppercased; "" for a path atom
	regex  string // trimmed
}

// conjunction flattens a request match made only of method, pathRegex and
// `all`, in which case ok is true. any/not make it unknown (ok false).
func conjunction(m *pb.RequestMatch) (atoms []atom, ok bool) {
	switch x := m.GetMatch().(type) {
	case *pb.RequestMatch_Method:
		return []atom{{method: translate.MethodName(x.Method)}}, true
	case *pb.RequestMatch_Path:
		return []atom{{regex: strings.TrimSpace(x.Path.GetRegex())}}, true
	case *pb.RequestMatch_All:
		out := []atom{}
		for _, s := range x.All.GetMatches() {
			as, ok := conjunction(s)
			if !ok {
				return nil, false
			}
			out = append(out, as...)
		}
		return out, true
	}
	return nil, false
}

// regexes caches, per regex text, what covering needs: the proxy-faithful
// compiled regex and the literal path. Each regex is analysed once, so
// comparing every pair of routes stays cheap on large profiles.
type regexes struct {
	compiled map[string]*regexp.Regexp // nil when not comparable
	literals map[string]*string        // nil when not a literal path
}

func newRegexes() *regexes {
	return &regexes{compiled: map[string]*regexp.Regexp{}, literals: map[string]*string{}}
}

func (c *regexes) regex(re string) *regexp.Regexp {
	if r, seen := c.compiled[re]; seen {
		return r
	}
	r, ok := proxyRegex(re)
	if !ok {
		r = nil
	}
	c.compiled[re] = r
	return r
}

func (c *regexes) literal(re string) *string {
	if l, seen := c.literals[re]; seen {
		return l
	}
	var out *string
	if l, ok := literalPath(re); ok {
		out = &l
	}
	c.literals[re] = out
	return out
}

// covers tells whether every request matching the conjunction later also
// matches earlier. It only says yes when certain.
func (c *regexes) covers(earlier, later []atom) bool {
	for _, a := range earlier {
		ok := false
		for _, b := range later {
			if a.method != "" && b.method == a.method {
				ok = true
			}
			if a.method == "" && b.method == "" && c.regexCovers(a.regex, b.regex) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// regexCovers: the same regex, or a regex that fully matches the later
// route's regex when that is one literal path. The match is done with Go
// only when Go and the proxy's Rust engine read the regex the same way.
func (c *regexes) regexCovers(earlier, later string) bool {
	if earlier == later {
		return true
	}
	lit := c.literal(later)
	if lit == nil {
		return false
	}
	re := c.regex(earlier)
	return re != nil && re.MatchString(*lit)
}

// anchor adds ^ and $ as text, as the proxy does.
func anchor(re string) string {
	re = strings.TrimSpace(re)
	if !strings.HasPrefix(re, "^") {
		re = "^" + re
	}
	if !strings.HasSuffix(re, "$") {
		re += "$"
	}
	return re
}

// proxyRegex compiles a path regex as the proxy does, with Go, when the
// Rust crate accepts it and Go reads it the same way.
func proxyRegex(re string) (*regexp.Regexp, bool) {
	a := anchor(re)
	if rustregex.Check(a) != nil || len(rustregex.GoCompatible(a)) > 0 {
		return nil, false
	}
	out, err := regexp.Compile(a)
	return out, err == nil
}

// literalPath returns the one path a regex matches when it is plain text.
func literalPath(re string) (string, bool) {
	a := anchor(re)
	if rustregex.Check(a) != nil {
		return "", false
	}
	t, err := syntax.Parse(a, syntax.Perl)
	if err != nil {
		return "", false
	}
	t = t.Simplify()
	if t.Op != syntax.OpConcat || len(t.Sub) != 3 {
		return "", false
	}
	b, l, e := t.Sub[0], t.Sub[1], t.Sub[2]
	if b.Op != syntax.OpBeginText || e.Op != syntax.OpEndText || l.Op != syntax.OpLiteral || l.Flags&syntax.FoldCase != 0 {
		return "", false
	}
	return string(l.Rune), true
}

// Routes an earlier route always takes first (the first match wins).
var _ = register(Analyzer{
	Name:  "route-reachability",
	Codes: []string{CodeRouteUnreachable},
	Needs: []Scope{Decoded},
	Run:   unreachable,
})

// unreachable reports routes that an earlier route always takes first.
// Only routes the proxy keeps whole are compared.
func unreachable(f *Facts, e *Emitter) {
	dp, p, drops := f.Translated, f.Kept, f.Drops
	if dp == nil || p == nil {
		return
	}
	clean := map[int]bool{}
	for _, r := range p.Routes {
		clean[r.Index] = true
	}
	for _, d := range drops {
		if d.Route >= 0 && strings.HasPrefix(d.Field, "condition") {
			clean[d.Route] = false
		}
	}
	routes := dp.GetRoutes()
	// Each route's condition is analysed once, not once per pair.
	type cond struct {
		key    string // deterministic encoding, for identical conditions
		atoms  []atom
		simple bool
	}
	conds := make([]cond, len(routes))
	for i, r := range routes {
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(r.GetCondition())
		atoms, simple := conjunction(r.GetCondition())
		conds[i] = cond{key: string(b), atoms: atoms, simple: simple}
	}
	cache := newRegexes()
	for j := range routes {
		if !clean[j] {
			continue
		}
		for i := 0; i < j; i++ {
			if !clean[i] {
				continue
			}
			why := ""
			if conds[i].key == conds[j].key {
				why = "has the same condition and comes first"
			} else if conds[i].simple && conds[j].simple && cache.covers(conds[i].atoms, conds[j].atoms) {
				why = "comes first and matches every request this route matches"
				if len(conds[i].atoms) == 0 {
					why = "comes first and matches every request"
				}
			}
			if why == "" {
				continue
			}
			e.At(CodeRouteUnreachable, routePath(j, "condition"),
				"route %d %s %s: the first matching route wins, so this route never applies; move it before route %d, or narrow route %d",
				i, quoteName(routes[i].GetMetricsLabels()["route"]), why, i, i)
			break
		}
	}
}

func quoteName(s string) string {
	if s == "" {
		return "(unnamed)"
	}
	return fmt.Sprintf("%q", s)
}

// methods returns the methods a request match can match, or all=true when
// it is not limited (paths, `not`).
func methods(m *pb.RequestMatch) (set map[string]bool, all bool) {
	switch x := m.GetMatch().(type) {
	case *pb.RequestMatch_Method:
		return map[string]bool{translate.MethodName(x.Method): true}, false
	case *pb.RequestMatch_All:
		all = true
		for _, s := range x.All.GetMatches() {
			ss, sall := methods(s)
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
	case *pb.RequestMatch_Any:
		set = map[string]bool{}
		for _, s := range x.Any.GetMatches() {
			ss, sall := methods(s)
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

// collectRegexes lists the paths of every pathRegex in a condition.
func collectRegexes(m *profile.RequestMatch, path source.Path, out *[]source.Path) {
	if m == nil {
		return
	}
	if m.PathRegex != "" {
		*out = append(*out, path.Append("pathRegex"))
	}
	for k, s := range m.All {
		collectRegexes(s, path.Append("all", k), out)
	}
	for k, s := range m.Any {
		collectRegexes(s, path.Append("any", k), out)
	}
	collectRegexes(m.Not, path.Append("not"), out)
}

// regexAt follows rel (all/any/not steps, then pathRegex) from m.
func regexAt(m *profile.RequestMatch, rel source.Path) string {
	for i := 0; i < len(rel) && m != nil; i++ {
		switch rel[i] {
		case "pathRegex":
			return m.PathRegex
		case "not":
			m = m.Not
		case "all", "any":
			list := m.All
			if rel[i] == "any" {
				list = m.Any
			}
			i++
			k, _ := rel[i].(int)
			if k < 0 || k >= len(list) {
				return ""
			}
			m = list[k]
		}
	}
	return ""
}

// topLevelAlternation tells whether re has a '|' outside any group or
// character class.
func topLevelAlternation(re string) bool {
	depth, class := 0, 0
	for i := 0; i < len(re); i++ {
		switch ch := re[i]; {
		case ch == '\\':
			i++
		case class > 0:
			switch ch {
			case '[':
				class++
			case ']':
				class--
			}
		case ch == '[':
			class = 1
			// A ']' right after '[' or '[^' is a literal.
			if i+1 < len(re) && re[i+1] == '^' {
				i++
			}
			if i+1 < len(re) && re[i+1] == ']' {
				i++
			}
		case ch == '(':
			depth++
		case ch == ')':
			if depth > 0 {
				depth--
			}
		case ch == '|' && depth == 0:
			return true
		}
	}
	return false
}
