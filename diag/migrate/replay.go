package migrate

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/diag/gen"
	"github.com/kubectl-profiles/kubectl-profiles/diag/lang"
	"github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/policymatch"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/proxy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
)

// Outcome is what happens to one request under one rule set.
type Outcome struct {
	// Route is the profile route's name, "(default route)" for the
	// profile's implicit default, "(catch-all rule)", or "" for a 404.
	Route string
	// Index is the profile route index the request is handled as (-1 for
	// the default route and the catch-all, -2 for a 404).
	Index   int
	Retry   string // "" when not retried
	Timeout string // "" when none
	// Undecided: the proxy may route the request by this rule, but
	// whether it does cannot be computed (a query-param match without the
	// query string, or a regex Go reads differently from the proxy's).
	Undecided bool
}

// NotFound reports a 404 from the proxy.
func (o Outcome) NotFound() bool { return o.Index == -2 }

func (o Outcome) String() string {
	if o.NotFound() {
		return "404 (no rule matches)"
	}
	s := fmt.Sprintf("route %q", o.Route)
	if o.Index == -1 {
		s = o.Route
	}
	if o.Retry != "" {
		s += ", " + o.Retry
	}
	if o.Timeout != "" {
		s += ", timeout " + o.Timeout
	}
	if o.Undecided {
		s = "possibly " + s + " (cannot be decided: a query-param match without the query string, or a regex Go reads differently from the proxy)"
	}
	return s
}

// OldOutcome is what the proxy does with the request under the
// ServiceProfile (first match, budgeted retries).
func (r *Result) OldOutcome(method, path string) Outcome {
	idx, name, ok := r.Old.Match(method, path)
	if !ok {
		return Outcome{Route: "(default route)", Index: -1}
	}
	o := Outcome{Route: name, Index: idx}
	for _, rt := range r.Old.Routes {
		if rt.Index != idx {
			continue
		}
		if rt.Retries {
			o.Retry = "retried within the retry budget"
		}
		if rt.HasTimeout && rt.Timeout > 0 {
			o.Timeout = rt.Timeout.String()
		}
	}
	return o
}

// NewOutcome is what the proxy does with the request under the HTTPRoutes
// (the controller's policy and the proxy's precedence, diag/policymatch).
func (r *Result) NewOutcome(req policymatch.Request) Outcome {
	if r.matcher == nil {
		return Outcome{Index: -2}
	}
	routes := r.matcher.Routes()
	hit := r.matcher.Match(&req)
	if hit.Outcome == policymatch.NoRoute {
		return Outcome{Index: -2}
	}
	name := routes[hit.Route].Name
	o := Outcome{Index: -1, Route: "(catch-all rule)", Undecided: hit.Outcome == policymatch.Undecided}
	if routes[hit.Route].Default != "" {
		o.Route = "(default route)"
	}
	for i, p := range r.Rules {
		if p.Route == name && p.Rule == hit.Rule {
			o.Index = i
			o.Route = r.routeName(i)
		}
	}
	rule := routes[hit.Route].Rules[hit.Rule]
	if rule.Retry != nil && len(rule.Retry.Conditions) > 0 && rule.Retry.Limit > 0 {
		o.Retry = fmt.Sprintf("retried on %s (at most %d time(s))", strings.Join(rule.Retry.Conditions, ","), rule.Retry.Limit)
	}
	if rule.Timeouts.Request != "" {
		d, err := time.ParseDuration(rule.Timeouts.Request)
		if err != nil {
			d, err = policy.ParseDuration(rule.Timeouts.Request)
		}
		if err == nil && d > 0 {
			o.Timeout = d.String()
		}
	}
	return o
}

func (r *Result) routeName(i int) string {
	for _, rt := range r.Old.Routes {
		if rt.Index == i {
			return rt.Name
		}
	}
	return fmt.Sprintf("routes[%d]", i)
}

// Diff is one request whose handling changes.
type Diff struct {
	Method, Path string
	Old, New     Outcome
	// What lists the changes: route, retry, timeout, 404.
	What []string
}

// Compare replays one request through both rule sets.
func (r *Result) Compare(req policymatch.Request) (Diff, bool) {
	d := Diff{Method: req.Method, Path: req.Path, Old: r.OldOutcome(req.Method, req.Path), New: r.NewOutcome(req)}
	switch {
	case d.New.Undecided:
		d.What = append(d.What, "undecided")
	case d.New.NotFound():
		d.What = append(d.What, "404")
	case d.Old.Index != d.New.Index:
		d.What = append(d.What, "route")
	}
	if !d.New.NotFound() {
		if (d.Old.Retry == "") != (d.New.Retry == "") {
			d.What = append(d.What, "retry")
		}
		if d.Old.Timeout != d.New.Timeout {
			d.What = append(d.What, "timeout")
		}
	}
	return d, len(d.What) > 0
}

// Line renders a diff for the report.
func (d Diff) Line() string {
	return fmt.Sprintf("%s %s: %s: today %s; after migration %s", d.Method, d.Path, strings.Join(d.What, ", "), d.Old, d.New)
}

// routingChanges finds requests routed differently: an example request
// of every route, and one of every pair of overlapping routes (diag/lang),
// replayed through both rule sets.
func (r *Result) routingChanges(sp *profile.ServiceProfile) {
	eng := lang.NewEngine(0)
	var conds []lang.Cond
	var idx []int
	for i, rt := range sp.Spec.Routes {
		if rt == nil {
			continue
		}
		cs, why := dnf(rt.Condition)
		if why != "" {
			continue
		}
		var or []lang.Cond
		for _, c := range cs {
			var and []lang.Cond
			if c.method != "" {
				and = append(and, lang.Method(c.method))
			}
			if c.regex != "" {
				and = append(and, eng.Path(proxy.Anchor(c.regex)))
			}
			or = append(or, lang.And(and...))
		}
		conds = append(conds, lang.Or(or...))
		idx = append(idx, i)
	}
	var reqs []lang.Request
	for _, c := range conds {
		if req, ok, _ := eng.Example(c); ok {
			reqs = append(reqs, req)
		}
	}
	index := lang.NewIndex(conds)
	for j := range conds {
		for _, i := range index.Earlier(j) {
			if req, ok, _ := eng.Overlap(conds[i], conds[j]); ok {
				reqs = append(reqs, req)
			}
		}
	}
	seen := map[string]bool{}
	for _, q := range reqs {
		method := q.Method
		if method == "" {
			method = "GET"
		}
		d, changed := r.Compare(policymatch.Request{Method: method, Path: q.Path})
		if !changed {
			continue
		}
		key := fmt.Sprint(d.Old.Index, d.New.Index, d.What)
		if seen[key] {
			continue
		}
		seen[key] = true
		r.Changes = append(r.Changes, d.Line()+r.consequence(d))
	}
}

func (r *Result) consequence(d Diff) string {
	switch {
	case d.New.NotFound():
		return " (no rule matches: the proxy answers 404 itself)"
	case d.Old.Index >= 0 && d.Old.Index < len(r.Rules) && r.Rules[d.Old.Index].Route == "":
		return fmt.Sprintf(" (route %q is not converted)", d.Old.Route)
	case d.Old.Index != d.New.Index:
		return " (first match becomes the most specific match: a method, or a longer path match, now wins)"
	}
	return ""
}

// staticChanges adds the differences that hold whatever the requests.
// written counts the retries and timeouts the routes carry (an invalid
// timeout, or a route left out, has its own line).
func (r *Result) staticChanges(in Input, catchAll bool, written counts) {
	sp := in.Profile
	retryable, classes := 0, 0
	for _, rt := range sp.Spec.Routes {
		if rt == nil {
			continue
		}
		if rt.IsRetryable {
			retryable++
		}
		if len(rt.ResponseClasses) > 0 {
			classes++
		}
	}
	add := func(format string, args ...any) { r.Changes = append(r.Changes, fmt.Sprintf(format, args...)) }
	if catchAll && in.Kind == KindGRPCRoute {
		add("requests no route matches: today the profile's default route; after migration the catch-all rule (a GRPCRoute rule without matches) added at the end (without it, --no-catch-all, they would get gRPC status NOT_FOUND)")
	} else if catchAll {
		add("requests no route matches: today the profile's default route (no rt_route label, no retry, no timeout); after migration the catch-all rule (PathPrefix /) added at the end (without it, --no-catch-all, they would get a 404)")
	} else if in.NoCatchAll && in.Kind == KindGRPCRoute {
		add("requests no route matches: today the profile's default route; after migration the proxy answers gRPC status NOT_FOUND (no catch-all rule, --no-catch-all)")
	} else if in.NoCatchAll {
		add("requests no route matches: today the profile's default route; after migration a 404 from the proxy (no catch-all rule, --no-catch-all)")
	}
	if retryable > 0 {
		def := translate.DefaultRetryBudget()
		budget := fmt.Sprintf("the default budget (retryRatio %g, minRetriesPerSecond %d, ttl %s)", def.GetRetryRatio(), def.GetMinRetriesPerSecond(), def.GetTtl().AsDuration())
		if b := sp.Spec.RetryBudget; b != nil {
			budget = fmt.Sprintf("retryRatio %g, minRetriesPerSecond %d, ttl %s", b.RetryRatio, b.MinRetriesPerSecond, b.TTL)
		}
		add("retry budget: no equivalent: %s is gone; each request is retried at most retry.linkerd.io/limit times (%s) instead, which can multiply load on a failing service", budget, gen.HTTPRetryAnnotations[policy.AnnotationRetryLimit])
	}
	switch {
	case written.retries > 0 && in.Kind == KindGRPCRoute:
		add("isRetryable on %d route(s) becomes %s=%s on the %s route(s): only requests with bodies up to 64 KiB are retried", written.retries, policy.AnnotationRetryGRPC, GRPCRetryConditions, gen.RetrySuffix)
	case written.retries > 0:
		add("isRetryable on %d route(s) becomes %s on the %s route(s): the statuses the route classed as failures (5xx by default); only requests with bodies up to 64 KiB are retried", written.retries, policy.AnnotationRetryHTTP, gen.RetrySuffix)
	}
	switch {
	case written.timeouts > 0 && in.RuleTimeouts:
		add("timeout on %d route(s) becomes rules[].timeouts.request (--rule-timeouts): honoured by Linkerd 2.20 or later only; earlier control planes ignore it", written.timeouts)
	case written.timeouts > 0:
		add("timeout on %d route(s) becomes the route annotation %s (Linkerd 2.16+): a request timeout covering all retries; rules with different timeouts go to different routes", written.timeouts, policy.AnnotationTimeoutRequest)
	}
	if classes > 0 {
		add("responseClasses on %d route(s): no equivalent for metrics: HTTPRoute metrics classify responses by status (5xx) and gRPC status only", classes)
	}
	if len(sp.Spec.DstOverrides) > 0 {
		add("dstOverrides (traffic split) not converted: write them as backendRefs with weights on the rules")
	}
	add("inbound per-route metrics disappear: the server's proxies no longer label requests with rt_route (route_* series from the ServiceProfile); clients get outbound_http_route_* series (outbound_grpc_route_* for GRPCRoutes) labelled route_name=<route name> instead")
	for _, ns := range in.Overrides {
		add("clients in namespace %s use their own ServiceProfile %s/%s (a client-side override) and keep using it until it is deleted too: migrate it separately, as routes in %s (consumer routes apply only to clients in their namespace, in addition to the Service's own routes)", ns, ns, sp.Name, ns)
	}
	if in.OverridesUnknown != "" {
		add("client-side overrides not checked: %s", in.OverridesUnknown)
	}
	if in.Service != nil {
		var own []string
		for k, v := range in.Service.Annotations {
			if strings.HasPrefix(k, "retry.linkerd.io/") || strings.HasPrefix(k, "timeout.linkerd.io/") {
				own = append(own, k+"="+v)
			}
		}
		sort.Strings(own)
		if len(own) > 0 {
			add("the Service's own %s start to apply to every rule without its own retry or timeout settings, including the catch-all rule (ignored while the ServiceProfile is in use)", strings.Join(own, ", "))
		}
	}
	accrual := ""
	if in.Service != nil {
		accrual = in.Service.Annotations[policy.AnnotationFailureAccrual]
	}
	switch {
	case accrual != "":
		add("circuit breaking starts to apply: the Service sets %s=%s, which proxies ignore while the ServiceProfile is in use", policy.AnnotationFailureAccrual, accrual)
	case in.Service != nil:
		add("circuit breaking: the Service sets no %s, so none applies before or after", policy.AnnotationFailureAccrual)
	default:
		add("circuit breaking starts to apply if the Service sets %s (ignored while the ServiceProfile is in use; not checked: no Service read with -f)", policy.AnnotationFailureAccrual)
	}
	if in.Kind == KindGRPCRoute {
		add("a GRPCRoute hides every HTTPRoute on the same Service port, and makes the proxy speak HTTP/2 to it without protocol detection: HTTP/1 clients of that port break")
	}
	add("running proxies switch only after a restart: a client keeps using the ServiceProfile until its pod restarts or it sends nothing to the Service for 5s")
	for _, p := range r.New.Problems {
		add("Service annotation problem: %s", p)
	}
}
