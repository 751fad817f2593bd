// Package migrate converts a ServiceProfile into Gateway API HTTPRoutes with
// Linkerd's route annotations, says what behaves differently afterwards, and
// replays requests through both rule sets. It is pure: no network, no files.
package migrate

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/kubectl-profiles/kubectl-profiles/diag/gen"
	"github.com/kubectl-profiles/kubectl-profiles/diag/lang"
	"github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/policymatch"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/proxy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/rustregex"
	"github.com/kubectl-profiles/kubectl-profiles/diag/template"
)

// Input is what is migrated.
type Input struct {
	Profile *profile.ServiceProfile
	// Service is the Service the profile is for, when read from the cluster
	// (nil: unknown, the report then says what to look for).
	Service       *corev1.Service
	ClusterDomain string
	// Port the routes attach to (0: every port).
	Port int32
	// Overrides are the namespaces holding a ServiceProfile with the same
	// name (client-side overrides: clients there use it instead), and
	// OverridesUnknown says why they could not all be listed ("" when they
	// were, or when the profile comes from a file).
	Overrides        []string
	OverridesUnknown string
	// Kind is KindHTTPRoute (default) or KindGRPCRoute.
	Kind string
	// RuleTimeouts writes timeouts as rules[].timeouts.request (Linkerd
	// 2.20+) instead of the route annotation timeout.linkerd.io/request.
	RuleTimeouts bool
	// NoCatchAll leaves out the catch-all rule offered when the profile's
	// routes do not cover every request.
	NoCatchAll bool
}

// Result is the migration.
type Result struct {
	Target     gen.Target
	HTTPRoutes []*gatewayv1.HTTPRoute
	GRPCRoutes []*gatewayv1.GRPCRoute
	// Rules maps each profile route to where it went (Route "" when it
	// could not be converted).
	Rules []gen.Placed
	// CatchAll is where the catch-all rule went (Route "" when none).
	CatchAll gen.Placed
	// Changes are the "what changes" lines, one per difference.
	Changes []string
	// Old is the profile as the proxy uses it; New what the policy
	// controller would serve for the routes.
	Old *proxy.Profile
	New policy.Expected
	// matcher matches requests against New's routes (nil without a
	// policy).
	matcher *policymatch.Matcher
}

// conj is one HTTPRoute match: a method and a path regex, both optional.
type conj struct{ method, regex string }

const maxMatches = 16

// dnf writes a request condition as a disjunction of (method, path)
// matches, or says why it cannot be.
func dnf(m *profile.RequestMatch) ([]conj, string) {
	if m == nil {
		return nil, "it has no condition"
	}
	var parts [][]conj
	if m.Method != "" {
		parts = append(parts, []conj{{method: m.Method}})
	}
	if m.PathRegex != "" {
		parts = append(parts, []conj{{regex: m.PathRegex}})
	}
	if m.Not != nil {
		return nil, "a `not` condition has no HTTPRoute equivalent"
	}
	for _, s := range m.All {
		d, why := dnf(s)
		if why != "" {
			return nil, why
		}
		parts = append(parts, d)
	}
	if len(m.Any) > 0 {
		var or []conj
		for _, s := range m.Any {
			d, why := dnf(s)
			if why != "" {
				return nil, why
			}
			or = append(or, d...)
		}
		parts = append(parts, or)
	}
	if len(parts) == 0 {
		return nil, "an empty condition has no HTTPRoute equivalent"
	}
	out := []conj{{}}
	for _, p := range parts {
		var next []conj
		for _, a := range out {
			for _, b := range p {
				c, ok, why := and(a, b)
				if why != "" {
					return nil, why
				}
				if ok {
					next = append(next, c)
				}
			}
		}
		if len(next) > maxMatches {
			return nil, fmt.Sprintf("the condition expands to more than %d matches", maxMatches)
		}
		out = next
	}
	if len(out) == 0 {
		return nil, "the condition matches no request"
	}
	return out, ""
}

func and(a, b conj) (conj, bool, string) {
	c := a
	if b.method != "" {
		if c.method != "" && c.method != b.method {
			return c, false, "" // two methods: matches nothing
		}
		c.method = b.method
	}
	if b.regex != "" {
		if c.regex != "" && c.regex != b.regex {
			return c, false, "two path regexes that must both match have no HTTPRoute equivalent"
		}
		c.regex = b.regex
	}
	return c, true, ""
}

// pathMatch writes a ServiceProfile pathRegex (which the proxy anchors as
// ^regex$) as an HTTPRoute path match on the whole path: a literal as Exact
// (when the Gateway API schema takes it), a regex as RegularExpression.
// The proxy takes a RegularExpression's leftmost-first match and requires it
// to span the path, which differs from an anchored match when an earlier
// choice can end the match early (e.g. `a*(ab)*b*` on /aabab), so a regex is
// wrapped in ^(?:...)$ unless policymatch.SpanSafe proves the two agree (the
// shapes templates produce, among others).
func pathMatch(re string) *gatewayv1.HTTPPathMatch {
	inner, whole := proxy.WholeAnchored(re)
	if !whole {
		// The proxy searches the anchored text (e.g. ^/a|/ab$ matches every
		// path starting with /a): a whole-path regex with the same language.
		v := "(?s:.*)(?:" + proxy.Anchor(re) + ")(?s:.*)"
		return &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchRegularExpression), Value: ptr(v)}
	}
	if lit, ok := literal(inner); ok && gen.ExactPathOK(lit) {
		return &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchExact), Value: ptr(lit)}
	}
	v := inner
	if !policymatch.SpanSafe(inner) {
		v = "^(?:" + inner + ")$"
	}
	return &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchRegularExpression), Value: ptr(v)}
}

// literal returns the text a regex matches when it is a plain literal.
func literal(re string) (string, bool) {
	re = strings.TrimSuffix(strings.TrimPrefix(re, "^"), "$")
	var b strings.Builder
	for i := 0; i < len(re); i++ {
		c := re[i]
		switch {
		case c == '\\':
			if i+1 >= len(re) {
				return "", false
			}
			n := re[i+1]
			if n >= 'a' && n <= 'z' || n >= 'A' && n <= 'Z' || n >= '0' && n <= '9' || n >= 0x80 {
				return "", false
			}
			b.WriteByte(n)
			i++
		case strings.IndexByte(".^$*+?()[]{}|", c) >= 0:
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// retryConditions writes the route's failure classes as the value of
// retry.linkerd.io/http: status ranges of isFailure classes, or 5xx (the
// proxy's default failure classification) when there are none.
func retryConditions(r *profile.RouteSpec) (string, string) {
	var conds []string
	note := ""
	for _, rc := range r.ResponseClasses {
		if rc == nil || !rc.IsFailure {
			continue
		}
		c := rc.Condition
		if c == nil || c.Status == nil || len(c.All)+len(c.Any) > 0 || c.Not != nil {
			note = "a failure class that is not a single status range"
			continue
		}
		lo, hi := c.Status.Min, c.Status.Max
		if lo == 0 {
			lo = 100
		}
		if hi == 0 {
			hi = 599
		}
		if lo < 100 {
			lo = 100
		}
		if hi > 599 {
			hi = 599
		}
		if lo > hi {
			continue
		}
		if lo == hi {
			conds = append(conds, fmt.Sprint(lo))
		} else {
			conds = append(conds, fmt.Sprintf("%d-%d", lo, hi))
		}
	}
	if len(conds) == 0 {
		return "5xx", note
	}
	return strings.Join(conds, ","), note
}

// Convert migrates in.Profile.
func Convert(in Input) (*Result, error) {
	sp := in.Profile
	domain := in.ClusterDomain
	if domain == "" {
		domain = profile.DefaultClusterDomain
	}
	ref, ok := profile.ParseFQDN(sp.Name, domain)
	if !ok {
		return nil, fmt.Errorf("ServiceProfile %s is not named <service>.<namespace>.svc.%s: no Service to attach routes to", sp.Name, domain)
	}
	t := gen.Target{Service: ref.Name, Namespace: ref.Namespace, ClusterDomain: domain, Port: in.Port}
	res := &Result{Target: t, Rules: make([]gen.Placed, len(sp.Spec.Routes))}
	old, err := gen.ServedProfile(sp, t)
	if err != nil {
		return nil, fmt.Errorf("the control plane cannot serve this ServiceProfile (%v): proxies do not use it today; nothing to migrate from", err)
	}
	res.Old = old
	kept := map[int]bool{}
	for _, r := range old.Routes {
		kept[r.Index] = true
	}

	// Rules in profile order, grouped into routes by retry conditions.
	type rule struct {
		idx   int
		rule  gatewayv1.HTTPRouteRule
		class gen.Class
	}
	var rules []rule
	for i, r := range sp.Spec.Routes {
		if r == nil {
			continue
		}
		name := quote(r.Name)
		if !kept[i] {
			res.Changes = append(res.Changes, fmt.Sprintf("route %s: the proxy drops it today (see `kubectl profiles check`): not converted, its requests keep going elsewhere", name))
			continue
		}
		cs, why := dnf(r.Condition)
		if why != "" {
			res.Changes = append(res.Changes, fmt.Sprintf("route %s: not converted: %s; its requests go to the catch-all rule or get a 404 (write the HTTPRoute rule by hand)", name, why))
			continue
		}
		var hr gatewayv1.HTTPRouteRule
		var uncompiled []string // the report's lines for matches left out
		for _, c := range cs {
			m := gatewayv1.HTTPRouteMatch{}
			if c.method != "" {
				if !template.GatewayMethod(c.method) {
					why = fmt.Sprintf("method %s is not one the Gateway API can match", c.method)
					break
				}
				m.Method = ptr(gatewayv1.HTTPMethod(c.method))
			}
			if c.regex != "" {
				m.Path = pathMatch(c.regex)
				// The controller drops the whole HTTPRoute, the other
				// rules with it, for one regex it cannot compile (§6.3).
				if *m.Path.Type == gatewayv1.PathMatchRegularExpression {
					if err := rustregex.Check(*m.Path.Value); err != nil {
						uncompiled = append(uncompiled, uncompiledRegex(r, c.regex, err, in.NoCatchAll))
						continue
					}
				}
			}
			hr.Matches = append(hr.Matches, m)
		}
		if why != "" {
			res.Changes = append(res.Changes, fmt.Sprintf("route %s: not converted: %s", name, why))
			continue
		}
		if len(hr.Matches) == 0 {
			res.Changes = append(res.Changes, fmt.Sprintf("route %s: not converted: %s", name, strings.Join(uncompiled, "; and ")))
			continue
		}
		for _, u := range uncompiled {
			res.Changes = append(res.Changes, fmt.Sprintf("route %s: match left out (the rule keeps its other matches): %s", name, u))
		}
		var class gen.Class
		if r.Timeout != "" {
			d, err := gen.GatewayDuration(r.Timeout)
			switch {
			case err != nil:
				res.Changes = append(res.Changes, fmt.Sprintf("route %s: timeout not converted: %v", name, err))
			case in.RuleTimeouts:
				hr.Timeouts = &gatewayv1.HTTPRouteTimeouts{Request: ptr(gatewayv1.Duration(d))}
			default:
				class.Timeout = d
			}
		}
		if r.IsRetryable {
			var note string
			class.Retry, note = retryConditions(r)
			if note != "" {
				res.Changes = append(res.Changes, fmt.Sprintf("route %s: %s is ignored for retries (retry.linkerd.io/http takes status codes and ranges only)", name, note))
			}
		}
		rules = append(rules, rule{i, hr, class})
	}

	// A catch-all when the profile's routes leave requests to the default
	// route.
	catchAll := false
	if !in.NoCatchAll {
		eng := lang.NewEngine(0)
		var conds []lang.Cond
		for _, rl := range rules {
			conds = append(conds, ruleCond(eng, rl.rule))
		}
		cov := eng.Covered(lang.True(), conds)
		catchAll = !(cov.Decided && cov.Covered)
	}

	var placed []gen.Placed
	if in.Kind == KindGRPCRoute {
		var grs []gatewayv1.GRPCRouteRule
		var classes []gen.Class
		var conv []rule
		for _, rl := range rules {
			var gr gatewayv1.GRPCRouteRule
			why := ""
			for _, m := range rl.rule.Matches {
				gm, w := grpcMatch(m)
				if w != "" {
					why = w
					break
				}
				gr.Matches = append(gr.Matches, gm)
			}
			name := quote(sp.Spec.Routes[rl.idx].Name)
			if why != "" {
				res.Changes = append(res.Changes, fmt.Sprintf("route %s: not converted to a GRPCRoute rule: %s", name, why))
				continue
			}
			if rl.rule.Timeouts != nil {
				rl.class.Timeout = string(*rl.rule.Timeouts.Request)
			}
			if rl.class.Retry != "" {
				rl.class.Retry = GRPCRetryConditions
			}
			grs = append(grs, gr)
			classes = append(classes, rl.class)
			conv = append(conv, rl)
		}
		if len(conv) < len(rules) && !in.NoCatchAll {
			catchAll = true // the dropped rules' requests need somewhere to go
		}
		rules = conv
		if catchAll {
			grs = append(grs, gatewayv1.GRPCRouteRule{})
			classes = append(classes, gen.Class{})
		}
		res.GRPCRoutes, placed = gen.GRPCClassRoutes(t, grs, classes)
	} else {
		var hrs []gatewayv1.HTTPRouteRule
		var classes []gen.Class
		for _, rl := range rules {
			hrs = append(hrs, rl.rule)
			classes = append(classes, rl.class)
		}
		if catchAll {
			// Like the profile's default route: no retry, no timeout.
			hrs = append(hrs, gatewayv1.HTTPRouteRule{Matches: []gatewayv1.HTTPRouteMatch{{
				Path: &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchPathPrefix), Value: ptr("/")}}}})
			classes = append(classes, gen.Class{})
		}
		res.HTTPRoutes, placed = gen.RunRoutes(t, hrs, classes)
	}
	written := counts{}
	for k, rl := range rules {
		res.Rules[rl.idx] = placed[k]
		if rl.class.Timeout != "" || rl.rule.Timeouts != nil {
			written.timeouts++
		}
		if rl.class.Retry != "" {
			written.retries++
		}
	}
	if catchAll {
		res.CatchAll = placed[len(placed)-1]
	}
	svcAnn := map[string]string(nil)
	if in.Service != nil {
		svcAnn = in.Service.Annotations
	}
	res.New = gen.Simulate(t, svcAnn, res.HTTPRoutes, res.GRPCRoutes)
	if res.New.Policy != nil {
		if res.matcher, err = policymatch.New(res.New.Policy); err != nil {
			res.Changes = append(res.Changes, fmt.Sprintf("the proxy would reject the routes (%v): requests are not replayed against them", err))
		}
	}
	res.unservedChanges()
	res.routingChanges(sp)
	res.staticChanges(in, catchAll, written)
	return res, nil
}

// counts are the retries and timeouts written into the routes.
type counts struct{ retries, timeouts int }

// unservedChanges reports every written route the policy controller would
// not serve (diag/policy's model): the last check on the output, so that
// no route it drops is printed without saying so.
func (r *Result) unservedChanges() {
	for _, v := range r.New.Routes {
		switch v.Reason {
		case policy.ReasonServed:
		case policy.ReasonConversion:
			r.Changes = append(r.Changes, fmt.Sprintf("%s %s: the policy controller drops the whole route (%s): requests its rules should take go to the other routes or get a 404; fix it before applying (and report it: migrate should not write it)", v.Kind, v.Name, v.Detail))
		default:
			r.Changes = append(r.Changes, fmt.Sprintf("%s %s: the policy controller would not serve it (%s %s): requests its rules should take go to the other routes or get a 404", v.Kind, v.Name, v.Reason, v.Detail))
		}
	}
}

// uncompiledRegex says what happens to a match whose path regex the policy
// controller's Rust regex cannot compile, today (the proxy's ServiceProfile
// route) and after migration (the match is left out).
func uncompiledRegex(r *profile.RouteSpec, regex string, err error, noCatchAll bool) string {
	why := err.Error()
	if e, ok := err.(*rustregex.Error); ok {
		why = e.Message
	}
	s := fmt.Sprintf("path regex %q does not compile in Rust regex (%s), and the policy controller would drop the whole HTTPRoute, with its other rules, for it; ", regex, why)
	switch {
	case rustregex.Check(proxy.Anchor(regex)) == nil:
		s += "today the proxy compiles it and the route matches it"
	case regexIn(r.Condition, regex, "") == "any":
		return s + "today the proxy cannot compile it either and drops that alternative, so the requests only it would match already miss this route, and still do after migration (fix the regex in the profile and migrate again)"
	default:
		s += "today the proxy cannot compile it either and ignores that condition, so the route takes every request its other conditions match"
		if c := r.Condition; c.Method != "" && c.PathRegex == regex && c.All == nil && c.Any == nil {
			s += fmt.Sprintf(" (every %s request)", strings.ToUpper(c.Method))
		}
	}
	s += "; after migration they go to the most specific other rule that matches them"
	if noCatchAll {
		s += ", else get a 404 (--no-catch-all)"
	} else {
		s += ", else to the catch-all rule"
	}
	return s + " (fix the regex in the profile and migrate again)"
}

// regexIn tells where the proxy meets path regex re in condition m: "all"
// when it is one condition of several that must all hold, "any" when it is
// an alternative, "" when it is the whole condition (or absent).
func regexIn(m *profile.RequestMatch, re, parent string) string {
	if m == nil {
		return ""
	}
	if m.PathRegex == re {
		if m.Method != "" || m.All != nil || m.Any != nil || m.Not != nil {
			return "all"
		}
		return parent
	}
	for _, c := range m.All {
		if w := regexIn(c, re, "all"); w != "" {
			return w
		}
	}
	for _, c := range m.Any {
		if w := regexIn(c, re, "any"); w != "" {
			return w
		}
	}
	return ""
}

func ruleCond(eng *lang.Engine, r gatewayv1.HTTPRouteRule) lang.Cond {
	var or []lang.Cond
	for _, m := range r.Matches {
		var and []lang.Cond
		if m.Method != nil {
			and = append(and, lang.Method(string(*m.Method)))
		}
		if m.Path != nil && m.Path.Value != nil {
			switch *m.Path.Type {
			case gatewayv1.PathMatchExact:
				and = append(and, lang.Exact(*m.Path.Value))
			case gatewayv1.PathMatchPathPrefix:
				and = append(and, lang.Prefix(*m.Path.Value))
			default:
				v := *m.Path.Value
				and = append(and, eng.Path(proxy.Anchor(v)))
			}
		}
		or = append(or, lang.And(and...))
	}
	return lang.Or(or...)
}

func parentRef(t gen.Target) gatewayv1.ParentReference {
	ref := gatewayv1.ParentReference{Group: ptr(gatewayv1.Group("core")), Kind: ptr(gatewayv1.Kind("Service")), Name: gatewayv1.ObjectName(t.Service)}
	if t.Port != 0 {
		ref.Port = ptr(gatewayv1.PortNumber(t.Port))
	}
	return ref
}

func ptr[T any](v T) *T { return &v }

func quote(s string) string { return fmt.Sprintf("%q", s) }
