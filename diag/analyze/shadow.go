package analyze

import (
	"fmt"
	"strings"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"google.golang.org/protobuf/proto"

	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/lang"
	"github.com/kubectl-profiles/kubectl-profiles/diag/proxy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
)

// Codes of the route-shadowing analysis (route-unreachable is in codes.go).
var (
	CodeRouteOverlap = finding.Register("route-overlap", finding.Info,
		"Some requests this route matches are taken by an earlier route (first match wins): an example request says which; fine if intended.")
	CodeRouteShadowingUndecided = finding.Register("route-shadowing-undecided", finding.Info,
		"Whether earlier routes take every request of this route could not be decided (a regex construct that is not modelled, such as \\b, or the analysis bound was reached).")
)

// shadowLimit bounds each exploration of the route automata (product
// states); past it the answer is route-shadowing-undecided.
const shadowLimit = 20000

// shadowBudgetPerRoute bounds the total work on one profile (automaton
// steps and instructions visited building automaton states): the
// realistic benchmark profile needs under 10000 per route, so a
// profile crafted to be slow stays within seconds and gets
// route-shadowing-undecided rather than a hang.
const shadowBudgetPerRoute = 50_000

// keptWhole lists the routes the proxy keeps with their whole condition:
// only those take part in shadowing (dropped routes, and routes whose
// condition lost a part, are reported by the proxy-drop analyzer).
func keptWhole(p *proxy.Profile, drops []proxy.Drop) map[int]bool {
	kept := map[int]bool{}
	for _, r := range p.Routes {
		kept[r.Index] = true
	}
	for _, d := range drops {
		if d.Route >= 0 && strings.HasPrefix(d.Field, "condition") {
			kept[d.Route] = false
		}
	}
	return kept
}

// matchCond turns a served request match into a lang condition.
func matchCond(e *lang.Engine, m *pb.RequestMatch) lang.Cond {
	switch x := m.GetMatch().(type) {
	case *pb.RequestMatch_Method:
		return lang.Method(translate.MethodName(x.Method))
	case *pb.RequestMatch_Path:
		return e.Path(proxy.Anchor(x.Path.GetRegex()))
	case *pb.RequestMatch_All:
		subs := make([]lang.Cond, 0, len(x.All.GetMatches()))
		for _, s := range x.All.GetMatches() {
			subs = append(subs, matchCond(e, s))
		}
		return lang.And(subs...)
	case *pb.RequestMatch_Any:
		subs := make([]lang.Cond, 0, len(x.Any.GetMatches()))
		for _, s := range x.Any.GetMatches() {
			subs = append(subs, matchCond(e, s))
		}
		return lang.Or(subs...)
	case *pb.RequestMatch_Not:
		return lang.Not(matchCond(e, x.Not))
	}
	return lang.False() // not kept by the proxy: never asked
}

// shadowing decides, for each route kept whole, whether the earlier kept
// routes take all its requests (route-unreachable), some of them
// (route-overlap, with an example request) or whether that cannot be
// decided (route-shadowing-undecided). limit bounds each exploration.
func shadowing(dp *pb.DestinationProfile, kept map[int]bool, limit int) []located {
	routes := dp.GetRoutes()
	eng := lang.NewEngine(limit)
	eng.SetBudget(int64(len(routes)+10) * shadowBudgetPerRoute)
	conds := make([]lang.Cond, len(routes))
	keys := make([]string, len(routes))
	firstKey := map[string]int{}
	for i, r := range routes {
		if !kept[i] {
			conds[i] = lang.False()
			continue
		}
		conds[i] = matchCond(eng, r.GetCondition())
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(r.GetCondition())
		keys[i] = string(b)
	}
	name := func(i int) string {
		return fmt.Sprintf("route %d %s", i, quoteName(routes[i].GetMetricsLabels()["route"]))
	}
	index := lang.NewIndex(conds)
	var out []located
	emit := func(j int, code, format string, args ...interface{}) {
		out = append(out, located{f: finding.Finding{Code: code, Message: fmt.Sprintf(format, args...), RouteIndex: j}, path: routePath(j, "condition")})
	}
	const never = "the first matching route wins, so this route never applies"
	for j := range routes {
		if !kept[j] {
			continue
		}
		if i, dup := firstKey[keys[j]]; dup {
			emit(j, CodeRouteUnreachable, "%s has the same condition and comes first: %s; move it before route %d, or narrow route %d", name(i), never, i, i)
			continue
		}
		firstKey[keys[j]] = j
		if why := conds[j].Undecidable(); why != "" {
			if !anyKept(index.Earlier(j), kept) {
				continue // nothing earlier can take its requests
			}
			emit(j, CodeRouteShadowingUndecided, "could not decide whether route %d is reachable (its pathRegex: %s): check by hand that earlier routes do not take all its requests", j, why)
			continue
		}
		var cands, unknown []int
		for _, i := range index.Earlier(j) {
			if !kept[i] {
				continue
			}
			if conds[i].Undecidable() != "" {
				unknown = append(unknown, i)
			} else {
				cands = append(cands, i)
			}
		}
		earlier := make([]lang.Cond, len(cands))
		for k, i := range cands {
			earlier[k] = conds[i]
		}
		res := eng.Covered(conds[j], earlier)
		switch {
		case !res.Decided && len(cands) == 0:
			emit(j, CodeRouteShadowingUndecided, "could not decide whether the condition of route %d matches any request at all (%s): check by hand that its pathRegex can match a path", j, res.Reason)
			continue
		case !res.Decided:
			emit(j, CodeRouteShadowingUndecided, "could not decide whether route %d is reachable (%s, comparing it with %s): check by hand that they do not take all its requests", j, res.Reason, names(cands, name))
			continue
		case res.Covered && len(res.By) == 0:
			emit(j, CodeRouteUnreachable, "the condition of route %d matches no request (e.g. a pathRegex that needs a space, '?' or '#', which request paths never hold: the proxy matches the path without the query string; or a method and not that method), so this route never applies; fix its condition", j)
			continue
		case res.Covered:
			by := make([]int, len(res.By))
			for k, b := range res.By {
				by[k] = cands[b]
			}
			emit(j, CodeRouteUnreachable, "%s: %s; %s", coverText(by, name, conds), never, moveText(by))
			continue
		case len(unknown) > 0:
			emit(j, CodeRouteShadowingUndecided, "could not decide whether route %d is reachable (%s: %s): check by hand that it does not take all its requests", j, name(unknown[0]), conds[unknown[0]].Undecidable())
		}
		if k, req, ok, _ := eng.FirstOverlap(conds[j], earlier); ok {
			i := cands[k]
			emit(j, CodeRouteOverlap, "some requests this route matches go to %s, which comes first, e.g. %s; if they should get this route, move it before route %d or narrow route %d", name(i), req, i, i)
		}
	}
	return out
}

func anyKept(ids []int, kept map[int]bool) bool {
	for _, i := range ids {
		if kept[i] {
			return true
		}
	}
	return false
}

// coverText says which earlier routes take every request of a route.
func coverText(by []int, name func(int) string, conds []lang.Cond) string {
	if len(by) == 1 {
		if _, ok, _ := lang.NewEngine(0).Example(lang.Not(conds[by[0]])); !ok {
			return name(by[0]) + " comes first and matches every request"
		}
		return name(by[0]) + " comes first and matches every request this route matches"
	}
	return names(by, name) + " come first and together match every request this route matches"
}

func moveText(by []int) string {
	if len(by) == 1 {
		return fmt.Sprintf("move it before route %d, or narrow route %d", by[0], by[0])
	}
	return fmt.Sprintf("move it before route %d, or narrow those routes", by[0])
}

// names lists routes, at most five of them.
func names(ids []int, name func(int) string) string {
	if len(ids) == 0 {
		return "no earlier route"
	}
	var parts []string
	for k, i := range ids {
		if k == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ids)-5))
			break
		}
		parts = append(parts, name(i))
	}
	return strings.Join(parts, ", ")
}
