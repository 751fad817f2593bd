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
