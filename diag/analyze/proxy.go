package analyze

import (
	"fmt"
	"strings"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"

	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/proxy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// located is a finding and the ServiceProfile field it is about.
type located struct {
	f    finding.Finding
	path source.Path
}

// dropKey groups the drop records that describe one dropped thing: the
// converter records a cause (e.g. a bad regex) and its consequences (the
// enclosing `all` child, the route).
type dropKey struct {
	route int
	what  string // "route", "class[j]", "match", "budget", "timeout", "dst[i]", "name"
}

func dropIssues(dp *pb.DestinationProfile, p *proxy.Profile, drops []proxy.Drop) []located {
	kept := map[int]bool{}
	for _, r := range p.Routes {
		kept[r.Index] = true
	}
	groups := map[dropKey][]proxy.Drop{}
	var order []dropKey
	for _, d := range drops {
		k := keyOf(d, kept)
		if k.what == "" {
			continue
		}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], d)
	}
	retryable := 0
	for _, r := range dp.GetRoutes() {
		if r.GetIsRetryable() {
			retryable++
		}
	}

	var out []located
	for _, k := range order {
		ds := groups[k]
		f := finding.Finding{RouteIndex: k.route, Route: ds[0].RouteName}
		path := specPath(k, ds[0])
		cause := causeOf(ds)
		switch {
		case k.what == "name":
			f.Code = CodeNameDroppedByProxy
			f.Message = fmt.Sprintf("fully_qualified_name %q %s", dp.GetFullyQualifiedName(), cause)
		case k.what == "budget":
			f.Code = CodeRetryBudgetDropped
			if retryable == 0 {
				f.Message = fmt.Sprintf("the proxy drops the retry budget (%s); no route is retryable, so this has no effect yet; use ttl 1s..60s and retryRatio 0..1000", cause)
			} else {
				f.Message = fmt.Sprintf("the proxy drops the retry budget (%s), so the %d retryable route(s) get no retries; use ttl 1s..60s and retryRatio 0..1000", cause, retryable)
			}
		case k.what == "timeout":
			f.Code = CodeTimeoutNegative
			f.Message = "the timeout is negative: the proxy ignores it and the route has no timeout; use a positive duration such as 500ms"
		case strings.HasPrefix(k.what, "dst"):
			f.Code = CodeDstOverrideDropped
			f.Message = fmt.Sprintf("the proxy drops %s: %s; use a non-zero weight and an authority of the form name:port", strings.TrimPrefix(k.what, "dst "), cause)
		case strings.HasPrefix(k.what, "class"):
			class := strings.TrimPrefix(k.what, "class ")
			f.Code = CodeClassDropped
			if oneSided(dp, k) {
				f.Code = CodeStatusOneSided
				f.Message = fmt.Sprintf("the proxy drops %s: %s; give both bounds (min: 503, max: 503 for one status)", class, cause)
			} else {
				f.Message = fmt.Sprintf("the proxy drops %s: %s; matching responses fall to the next class or the default rule (5xx = failure)", class, cause)
			}
		case k.what == "route":
			f.Code = CodeRouteDropped
			if hasRegexDrop(ds) {
				f.Code = CodeRegexDropped
				f.Message = fmt.Sprintf("%s: the proxy drops the whole route, so its requests fall through to later routes", regexReason(ds))
			} else {
				f.Message = fmt.Sprintf("%s: %s: the proxy drops the whole route, so its requests fall through to later routes", ds[0].Field, cause)
			}
		case k.what == "match":
			f.Code = CodeMatchDropped
			f.Message = fmt.Sprintf("%s; the proxy drops just that part of the condition, so %s", cause, matchConsequence(ds[len(ds)-1].Reason))
		}
		out = append(out, located{f, path})
	}
	return out
}

// specPath maps a drop back to the ServiceProfile field it comes from.
func specPath(k dropKey, d proxy.Drop) source.Path {
	switch {
	case k.what == "budget":
		return source.Path{"spec", "retryBudget"}
	case k.what == "name":
		return source.Path{"metadata", "name"}
	case strings.HasPrefix(k.what, "dst"):
		return append(source.Path{"spec"}, parseProtoPath(strings.TrimPrefix(k.what, "dst "))...)
	case k.route < 0:
		return source.Path{"spec"}
	}
	return append(source.Path{"spec", "routes", k.route}, parseProtoPath(d.Field)...)
}

// parseProtoPath turns the proxy's field names (response_classes[0].
// condition.all[1].path) into the ServiceProfile's (responseClasses[0].
// condition.all[1].pathRegex). A request condition that is several fields
// is an `all` in the proto: those indexes do not exist in the spec, so the
// path stops at the condition.
func parseProtoPath(field string) source.Path {
	p := parseFieldPath(field)
	for i, e := range p {
		switch e {
		case "response_classes":
			p[i] = "responseClasses"
		case "dst_overrides":
			p[i] = "dstOverrides"
		case "path":
			p[i] = "pathRegex"
		case "is_retryable":
			p[i] = "isRetryable"
		}
	}
	return p
}

// keyOf classifies a drop record; kept tells which routes survive.
func keyOf(d proxy.Drop, kept map[int]bool) dropKey {
	switch {
	case d.Route < 0 && d.Field == "fully_qualified_name":
		return dropKey{-1, "name"}
	case d.Route < 0 && d.Field == "retry_budget":
		return dropKey{-1, "budget"}
	case d.Route < 0 && strings.HasPrefix(d.Field, "dst_overrides"):
		return dropKey{-1, "dst " + d.Field}
	case d.Route < 0:
		return dropKey{} // nothing else is dropped at profile level
	case d.Field == "is_retryable":
		return dropKey{} // a consequence of the budget, reported there
	case d.Field == "timeout":
		return dropKey{d.Route, "timeout"}
	case strings.HasPrefix(d.Field, "response_classes["):
		end := strings.IndexByte(d.Field, ']')
		return dropKey{d.Route, "class " + d.Field[:end+1]}
	case !kept[d.Route]:
		return dropKey{d.Route, "route"}
	}
	return dropKey{d.Route, "match"}
}

// matchConsequence says what dropping part of a condition does to the
// route, from the converter's record of the enclosing match.
func matchConsequence(reason string) string {
	switch {
	case strings.Contains(reason, "dropped from 'all'"):
		return "the route matches more requests than written (every request that meets the rest of the condition)"
	case strings.Contains(reason, "dropped from 'any'"):
		return "the route matches fewer requests than written (one alternative fewer)"
	case strings.Contains(reason, "never matches"):
		return "the route never matches"
	}
	return "the route matches other requests than written"
}

// causeOf is the first record of a group (the cause), without the
// consequence the converter appends.
func causeOf(ds []proxy.Drop) string {
	return trimDrop(ds[0].Reason)
}

func trimDrop(reason string) string {
	for _, suffix := range []string{"; retryable routes get no retries", "; dropped", "; the proxy drops the route"} {
		reason = strings.TrimSuffix(reason, suffix)
	}
	return reason
}

func hasRegexDrop(ds []proxy.Drop) bool {
	for _, d := range ds {
		if strings.HasSuffix(d.Field, ".path") {
			return true
		}
	}
	return false
}

func regexReason(ds []proxy.Drop) string {
	for _, d := range ds {
		if strings.HasSuffix(d.Field, ".path") {
			return d.Reason
		}
	}
	return ""
}

// oneSided tells whether the response class named by k has a status range
// with exactly one bound set.
func oneSided(dp *pb.DestinationProfile, k dropKey) bool {
	routes := dp.GetRoutes()
	if k.route < 0 || k.route >= len(routes) {
		return false
	}
	var j int
	if _, err := fmt.Sscanf(k.what, "class response_classes[%d]", &j); err != nil {
		return false
	}
	classes := routes[k.route].GetResponseClasses()
	if j < 0 || j >= len(classes) {
		return false
	}
	found := false
	var walk func(m *pb.ResponseMatch)
	walk = func(m *pb.ResponseMatch) {
		switch x := m.GetMatch().(type) {
		case *pb.ResponseMatch_Status:
			if (x.Status.GetMin() == 0) != (x.Status.GetMax() == 0) {
				found = true
			}
		case *pb.ResponseMatch_All:
			for _, c := range x.All.GetMatches() {
				walk(c)
			}
		case *pb.ResponseMatch_Any:
			for _, c := range x.Any.GetMatches() {
				walk(c)
			}
		case *pb.ResponseMatch_Not:
			walk(x.Not)
		}
	}
	walk(classes[j].GetCondition())
	return found
}
