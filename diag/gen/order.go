package gen

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/kubectl-profiles/kubectl-profiles/diag/lang"
	"github.com/kubectl-profiles/kubectl-profiles/diag/proxy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/template"
)

// paramRE is one path parameter of a template.
var paramRE = regexp.MustCompile(`\{[^{}]*\}`)

// normalize writes every parameter as template.IDPlaceholder, so that
// diag/template orders the templates and writes their regexes.
func normalize(p string) string { return paramRE.ReplaceAllLiteralString(p, template.IDPlaceholder) }

// Regex is the ServiceProfile pathRegex (and HTTPRoute RegularExpression)
// of a path template: literal text quoted, each parameter one non-empty
// segment part ([^/]+). It is diag/template's PathRegex.
func Regex(p string) string { return template.PathRegex(normalize(p)) }

// Anchored is the regex as the proxy compiles a ServiceProfile pathRegex
// (^ and $ added as text).

// Cond is the lang condition of an endpoint's route (method and full path).
func Cond(e *lang.Engine, ep Endpoint) lang.Cond {
	c := e.Path(proxy.Anchor(Regex(ep.Path)))
	if ep.Method == "" {
		return c
	}
	return lang.And(lang.Method(ep.Method), c)
}

// Witness returns a shortest path that the route of eps[i] matches and the
// route of no other endpoint (of a method that can meet its own) matches
// (diag/lang): a request that only eps[i] describes. ok is false when every
// path of eps[i] is another endpoint's too, or past the engine's bound.
//
// The verification sends an endpoint's Sample through the proxy's matching
// and, only when that goes elsewhere, its Witness: a Sample can be another
// endpoint's path as well ("/f/p1" is the Sample of "/f/{id}" and a path
// of "/f/p1" or "/f/p{x}"), and then the spec itself gives it to that one.
func Witness(e *lang.Engine, eps []Endpoint, i int) (path string, ok bool) {
	ep := eps[i]
	if ep.Literal() {
		return "", false // its one path is its Sample
	}
	own := e.Path(proxy.Anchor(Regex(ep.Path)))
	pre := lang.RequiredPrefix(own)
	var others []lang.Cond
	for j, other := range eps {
		if j == i || ep.Method != "" && other.Method != "" && other.Method != ep.Method {
			continue
		}
		if c := Cond(e, other); lang.PrefixCompatible(lang.RequiredPrefix(c), pre) {
			others = append(others, c)
		}
	}
	req, ok, decided := e.Example(lang.And(lang.Method(ep.SampleMethod()), own, lang.Not(lang.Or(others...))))
	if !ok || !decided {
		return "", false
	}
	return req.Path, true
}

// Order returns the endpoints without duplicates (same method and the same
// template up to parameter names) in an order where none takes the requests
// of a later one under first-match semantics: templates compared segment by
// segment with literal text before parameters (diag/template's order), then
// every route that a single earlier one covers entirely (decided on the
// proxy's regex semantics by diag/lang) moved before it. notes say what was
// merged or could not be decided.
func Order(eps []Endpoint) (out []Endpoint, notes []string) {
	type key struct{ method, regex string }
	byKey := map[key]Endpoint{}
	var groups []template.Group
	for _, ep := range eps {
		k := key{ep.Method, Regex(ep.Path)}
		if prev, dup := byKey[k]; dup {
			if prev.Retryable != ep.Retryable || prev.Timeout != ep.Timeout {
				notes = append(notes, fmt.Sprintf("%s and %s match the same requests: kept the first, with its retry and timeout settings", prev.Name(), ep.Name()))
			} else if prev.Path != ep.Path {
				notes = append(notes, fmt.Sprintf("%s and %s match the same requests: kept the first", prev.Name(), ep.Name()))
			}
			continue
		}
		byKey[k] = ep
		groups = append(groups, template.Group{Method: ep.Method, Template: normalize(ep.Path), Count: 1})
	}
	for _, r := range template.Routes(groups) {
		out = append(out, byKey[key{r.Condition.Method, r.Condition.PathRegex}])
	}
	eng := lang.NewEngine(0)
	// Move covered routes before the route covering them, until stable.
	for pass := 0; pass <= len(out); pass++ {
		conds := make([]lang.Cond, len(out))
		for i, ep := range out {
			conds[i] = Cond(eng, ep)
		}
		index := lang.NewIndex(conds)
		moved := false
		for j := range out {
			sample := out[j].Sample()
			for _, i := range index.Earlier(j) {
				// Cheap necessary condition first: route i takes j's
				// sample request.
				if out[i].Method != "" && out[i].Method != out[j].Method {
					continue
				}
				if re := compiled(proxy.Anchor(Regex(out[i].Path))); re == nil || !re.MatchString(sample) {
					continue
				}
				r := eng.Covered(conds[j], []lang.Cond{conds[i]})
				if !r.Decided || !r.Covered {
					continue
				}
				ep := out[j]
				out = append(out[:j], out[j+1:]...)
				out = append(out[:i], append([]Endpoint{ep}, out[i:]...)...)
				moved = true
				break
			}
			if moved {
				break
			}
		}
		if !moved {
			break
		}
	}
	return out, notes
}

// Shadowed lists, for routes in the given order, those whose every request
// an earlier route takes (first match), with the earliest such route; and
// the routes for which this could not be decided.
func Shadowed(eps []Endpoint) (shadowed map[int]int, undecided []int) {
	eng := lang.NewEngine(0)
	conds := make([]lang.Cond, len(eps))
	for i, ep := range eps {
		conds[i] = Cond(eng, ep)
	}
	shadowed = map[int]int{}
	index := lang.NewIndex(conds)
	for j := range eps {
		earlier := index.Earlier(j)
		if len(earlier) == 0 {
			continue
		}
		sub := make([]lang.Cond, len(earlier))
		for k, i := range earlier {
			sub[k] = conds[i]
		}
		r := eng.Covered(conds[j], sub)
		switch {
		case !r.Decided:
			undecided = append(undecided, j)
		case r.Covered && len(r.By) > 0:
			shadowed[j] = earlier[r.By[0]]
		}
	}
	return shadowed, undecided
}

// hasParam reports whether a path template segment holds a parameter.
func hasParam(s string) bool { return strings.ContainsAny(s, "{}") }

var regexCache sync.Map // string -> *regexp.Regexp (nil when Go cannot compile it)

// compiled compiles an anchored ServiceProfile path regex for Order's
// cheap pre-filter (diag/lang decides the cover itself).
func compiled(re string) *regexp.Regexp {
	if v, ok := regexCache.Load(re); ok {
		return v.(*regexp.Regexp)
	}
	r, err := regexp.Compile(re)
	if err != nil {
		r = nil
	}
	regexCache.Store(re, r)
	return r
}
