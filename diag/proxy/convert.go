// Package proxy converts a served DestinationProfile the way linkerd2-proxy
// does and answers which route a request would get and how a response would
// be classified.
//
// It models linkerd2-proxy at HEAD 29637b64 (service-profiles/src/proto.rs
// convert_profile and friends, service-profiles/src/http.rs,
// app/outbound/src/http/logical/profile.rs, app/core/src/classify.rs). Every
// piece that drops something records a Drop, because the proxy drops
// silently (at most a warning in its own log).
package proxy

import (
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/linkerd/linkerd2-proxy-api/go/destination"
	"github.com/linkerd/linkerd2-proxy-api/go/http_types"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/kubectl-profiles/kubectl-profiles/diag/rustregex"
)

// Profile is what the proxy keeps of a DestinationProfile.
type Profile struct {
	// FullyQualifiedName as sent; NameOK says whether the proxy can parse
	// it as a DNS name (linkerd_dns_name::Name::from_str).
	FullyQualifiedName string
	NameOK             bool
	OpaqueProtocol     bool
	// Routes the proxy keeps, in profile order.
	Routes []Route
	// RetryBudget is nil when absent or rejected.
	RetryBudget *RetryBudget
	// Targets are the dst_overrides kept.
	Targets []Target
}

// Route is one kept route.
type Route struct {
	// Index is the route's position in the served profile.
	Index int
	// Name is metrics_labels["route"] (rt_route in tap and metrics).
	Name   string
	Labels map[string]string
	// ResponseClasses kept, in order.
	ResponseClasses []ResponseClass
	IsRetryable     bool
	// Retries is true when the route is retryable and a budget was kept.
	Retries bool
	// Timeout is set when HasTimeout (a zero timeout is kept as zero).
	Timeout    time.Duration
	HasTimeout bool
	// GoDifferences lists path-regex constructs where Go's regexp (used for
	// Match) may disagree with the proxy's Rust regex.
	GoDifferences []rustregex.Difference
	// Unmatchable is set when a kept regex cannot be compiled by Go or Go
	// reads it differently even on ASCII paths (see GoDifferences); Match
	// then treats that path condition as never matching, so its answer for
	// this route is unknown rather than wrong. Differences marked ASCIISafe
	// (Unicode \d, \w, \s, \b) do not set it: request paths are normally
	// ASCII (percent-encoded).
	Unmatchable bool

	cond *matcher
}

// ResponseClass is one kept response class.
type ResponseClass struct {
	Index     int // position in the route's response_classes
	IsFailure bool
	cond      *statusMatcher
}

// RetryBudget is a kept retry budget.
type RetryBudget struct {
	RetryRatio          float32
	MinRetriesPerSecond uint32
	TTL                 time.Duration
}

// Target is a kept dst_override.
type Target struct {
	Authority string
	Weight    uint32
}

// UsesProfileRoutes reports whether an outbound proxy routes with this
// profile at all: only if, after conversion, it has routes or dst_overrides
// AND its fully_qualified_name parses (should_override_policy in
// app/outbound/src/http/logical/profile.rs). Otherwise the proxy uses the
// policy controller's OutboundPolicies routes, no request gets rt_route from
// this profile, and Match's answer is moot.
func (p *Profile) UsesProfileRoutes() bool {
	return p != nil && p.NameOK && (len(p.Routes) > 0 || len(p.Targets) > 0)
}

// Convert applies the proxy's conversion rules to dp and returns what it
// keeps and what it drops. A nil dp gives an empty profile.
func Convert(dp *destination.DestinationProfile) (*Profile, []Drop) {
	c := &converter{}
	p := &Profile{
		FullyQualifiedName: dp.GetFullyQualifiedName(),
		NameOK:             validDNSName(dp.GetFullyQualifiedName()),
		OpaqueProtocol:     dp.GetOpaqueProtocol(),
	}
	if !p.NameOK && (len(dp.GetRoutes()) > 0 || len(dp.GetDstOverrides()) > 0) {
		c.drop(-1, "", "fully_qualified_name", "does not parse as a DNS name, so the proxy ignores this profile's routes and dst_overrides and uses policy routes")
	}
	if rb := dp.GetRetryBudget(); rb != nil {
		p.RetryBudget = c.retryBudget(rb)
	}
	for i, r := range dp.GetRoutes() {
		if rt, ok := c.route(i, r, p.RetryBudget != nil); ok {
			p.Routes = append(p.Routes, rt)
		}
	}
	for i, d := range dp.GetDstOverrides() {
		if t, ok := c.target(i, d); ok {
			p.Targets = append(p.Targets, t)
		}
	}
	return p, c.drops
}

type converter struct {
	drops []Drop
	// route being converted, for drop records
	curRoute int
	name     string
}

func (c *converter) drop(route int, name, field, reason string) {
	c.drops = append(c.drops, Drop{Route: route, RouteName: name, Field: field, Reason: reason})
}

// retryBudget models convert_retry_budget.
func (c *converter) retryBudget(rb *destination.RetryBudget) *RetryBudget {
	bad := func(reason string) *RetryBudget {
		c.drop(-1, "", "retry_budget", reason+"; retryable routes get no retries")
		return nil
	}
	if rb.GetMinRetriesPerSecond() > math.MaxInt32 {
		return bad("min_retries_per_second is above 2147483647")
	}
	ratio := rb.GetRetryRatio()
	if !(ratio >= 0 && ratio <= 1000) { // also rejects NaN
		return bad("retry_ratio must be within 0..=1000")
	}
	ttl := rb.GetTtl()
	if ttl == nil {
		return bad("ttl is missing")
	}
	if ttl.GetNanos() > 1_000_000_000 {
		return bad("ttl nanos exceed one second")
	}
	if ttl.GetSeconds() < 0 || ttl.GetNanos() < 0 {
		return bad("ttl is negative")
	}
	d, ok := protoDuration(ttl)
	if !ok || d < time.Second || d > 60*time.Second {
		return bad("ttl must be within 1s..=60s")
	}
	return &RetryBudget{RetryRatio: ratio, MinRetriesPerSecond: rb.GetMinRetriesPerSecond(), TTL: d}
}

// protoDuration converts like prost-types' TryFrom<Duration> for
// std::time::Duration: normalise (carry nanos into seconds), fail if
// negative. Durations beyond what Go can hold are clamped.
func protoDuration(d *durationpb.Duration) (time.Duration, bool) {
	total := new(big.Int).Mul(big.NewInt(d.GetSeconds()), big.NewInt(1_000_000_000))
	total.Add(total, big.NewInt(int64(d.GetNanos())))
	if total.Sign() < 0 {
		return 0, false
	}
	if !total.IsInt64() {
		return time.Duration(math.MaxInt64), true
	}
	return time.Duration(total.Int64()), true
}

// route models convert_route.
func (c *converter) route(i int, r *destination.Route, haveBudget bool) (Route, bool) {
	labels := r.GetMetricsLabels()
	name := labels["route"]
	c.curRoute, c.name = i, name
	rt := Route{Index: i, Name: name, Labels: labels, IsRetryable: r.GetIsRetryable()}
	if r.GetCondition() == nil {
		c.drop(i, name, "condition", "route has no condition; the proxy drops the route")
		return rt, false
	}
	m, ok := c.reqMatch(r.GetCondition(), &rt, "condition")
	if !ok {
		c.drop(i, name, "condition", "condition cannot be converted; the proxy drops the route")
		return rt, false
	}
	rt.cond = m
	for j, rc := range r.GetResponseClasses() {
		field := "response_classes[" + strconv.Itoa(j) + "]"
		if rc.GetCondition() == nil {
			c.drop(i, name, field, "response class has no condition; dropped")
			continue
		}
		sm, ok := c.rspMatch(rc.GetCondition(), field+".condition")
		if !ok {
			c.drop(i, name, field, "response class condition cannot be converted; dropped")
			continue
		}
		rt.ResponseClasses = append(rt.ResponseClasses, ResponseClass{Index: j, IsFailure: rc.GetIsFailure(), cond: sm})
	}
	if rt.IsRetryable {
		if haveBudget {
			rt.Retries = true
		} else {
			c.drop(i, name, "is_retryable", "route is retryable but the profile has no usable retry_budget; no retries")
		}
	}
	if t := r.GetTimeout(); t != nil {
		if d, ok := protoDuration(t); ok {
			rt.Timeout, rt.HasTimeout = d, true
		} else {
			c.drop(i, name, "timeout", "timeout is negative; ignored")
		}
	}
	return rt, true
}

// reqMatch models convert_req_match. It records drops for children that
// disappear (all/any) and returns false when m itself fails.
func (c *converter) reqMatch(m *destination.RequestMatch, rt *Route, field string) (*matcher, bool) {
	switch x := m.GetMatch().(type) {
	case *destination.RequestMatch_All:
		out := &matcher{kind: mAll}
		for k, child := range x.All.GetMatches() {
			f := field + ".all[" + strconv.Itoa(k) + "]"
			if cm, ok := c.reqMatch(child, rt, f); ok {
				out.subs = append(out.subs, cm)
			} else {
				c.drop(c.curRoute, c.name, f, "cannot be converted; dropped from 'all' (fewer conditions to meet)")
			}
		}
		sortByCost(out.subs)
		return out, true
	case *destination.RequestMatch_Any:
		out := &matcher{kind: mAny}
		for k, child := range x.Any.GetMatches() {
			f := field + ".any[" + strconv.Itoa(k) + "]"
			if cm, ok := c.reqMatch(child, rt, f); ok {
				out.subs = append(out.subs, cm)
			} else {
				c.drop(c.curRoute, c.name, f, "cannot be converted; dropped from 'any' (one alternative fewer)")
			}
		}
		if len(out.subs) == 0 {
			c.drop(c.curRoute, c.name, field+".any", "'any' has no usable alternative, so it never matches")
		}
		sortByCost(out.subs)
		return out, true
	case *destination.RequestMatch_Not:
		inner, ok := c.reqMatch(x.Not, rt, field+".not")
		if !ok {
			c.drop(c.curRoute, c.name, field+".not", "cannot be converted, so the enclosing 'not' fails too")
			return nil, false
		}
		return &matcher{kind: mNot, subs: []*matcher{inner}}, true
	case *destination.RequestMatch_Path:
		return c.pathMatch(x.Path.GetRegex(), rt, field+".path")
	case *destination.RequestMatch_Method:
		method, ok := convertMethod(x.Method)
		if !ok {
			c.drop(c.curRoute, c.name, field+".method", "method is missing or not a valid HTTP method token")
			return nil, false
		}
		return &matcher{kind: mMethod, method: method}, true
	}
	c.drop(c.curRoute, c.name, field, "request match has no field set")
	return nil, false
}

func sortByCost(ms []*matcher) {
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].cost() < ms[j].cost() })
}

// pathMatch models the Path arm: trim, anchor textually, compile with the
// Rust crate's rules.
func (c *converter) pathMatch(regex string, rt *Route, field string) (*matcher, bool) {
	anchored := Anchor(regex)
	if err := rustregex.Check(anchored); err != nil {
		c.drop(c.curRoute, c.name, field, "regex "+quote(regex)+" does not compile in the proxy: "+describeRegexErr(err, regex, anchored))
		return nil, false
	}
	m, goErr := compilePath(anchored)
	structural := false
	for _, d := range rustregex.GoCompatible(anchored) {
		rt.GoDifferences = append(rt.GoDifferences, d)
		structural = structural || !d.ASCIISafe
	}
	// Go either cannot compile it or reads it differently even on ASCII
	// paths: do not pretend to know what the proxy matches.
	if goErr != nil || structural {
		rt.Unmatchable = true
		return &matcher{kind: mNever}, true
	}
	return m, true
}

// Anchor is the regex the proxy compiles for a pathRegex: it trims Unicode
// whitespace (Rust str::trim) and adds ^ and $ unless the text already
// starts with '^' / ends with '$'. This is textual: `\$` at the end counts
// as ending with '$', and `^a|b` is not wrapped in a group.
func Anchor(regex string) string {
	re := strings.TrimSpace(regex)
	if !strings.HasPrefix(re, "^") {
		re = "^" + re
	}
	if !strings.HasSuffix(re, "$") {
		re += "$"
	}
	return re
}

// TopLevelAlternation tells whether re has a '|' outside any group or
// character class.
func TopLevelAlternation(re string) bool {
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

// WholeAnchored tells whether the regex the proxy compiles for a pathRegex
// (Anchor) matches whole paths only, and returns the part between its
// anchors: it starts with '^', ends with an unescaped '$' and has no
// top-level '|'. Otherwise the proxy's search can match paths that merely
// start or end like the regex (see regex-partly-anchored).
func WholeAnchored(regex string) (inner string, ok bool) {
	a := Anchor(regex)
	if TopLevelAlternation(a) || len(a) < 2 {
		return "", false
	}
	body := a[1 : len(a)-1]
	escapes := 0
	for i := len(body) - 1; i >= 0 && body[i] == '\\'; i-- {
		escapes++
	}
	if escapes%2 == 1 {
		return "", false // the final '$' is a literal dollar sign
	}
	return body, true
}

func describeRegexErr(err error, orig, anchored string) string {
	e, ok := err.(*rustregex.Error)
	if !ok {
		return err.Error()
	}
	// Map the offset back to the regex as written (before trim and '^').
	lead := len(orig) - len(strings.TrimLeftFunc(orig, unicode.IsSpace))
	off := e.Offset
	if !strings.HasPrefix(strings.TrimSpace(orig), "^") {
		off--
	}
	off += lead
	if off < 0 {
		off = 0
	}
	s := e.Message + " at offset " + strconv.Itoa(off)
	if e.Kind == "size-limit" {
		s = e.Message
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

var registeredMethods = map[http_types.HttpMethod_Registered]string{
	http_types.HttpMethod_GET: "GET", http_types.HttpMethod_POST: "POST", http_types.HttpMethod_PUT: "PUT",
	http_types.HttpMethod_DELETE: "DELETE", http_types.HttpMethod_PATCH: "PATCH", http_types.HttpMethod_OPTIONS: "OPTIONS",
	http_types.HttpMethod_CONNECT: "CONNECT", http_types.HttpMethod_HEAD: "HEAD", http_types.HttpMethod_TRACE: "TRACE",
}

// convertMethod models TryFrom<HttpMethod> for http::Method: a known
// registered value, or an unregistered string that is a valid token.
func convertMethod(m *http_types.HttpMethod) (string, bool) {
	switch t := m.GetType().(type) {
	case *http_types.HttpMethod_Registered_:
		s, ok := registeredMethods[t.Registered]
		return s, ok
	case *http_types.HttpMethod_Unregistered:
		return t.Unregistered, isToken(t.Unregistered)
	}
	return "", false
}

// ValidMethod reports whether http::Method accepts s: a non-empty token.
// A request never has any other method.
func ValidMethod(s string) bool { return isToken(s) }

// isToken: RFC 9110 token characters, which is what http::Method accepts.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// rspMatch models convert_rsp_match.
func (c *converter) rspMatch(m *destination.ResponseMatch, field string) (*statusMatcher, bool) {
	switch x := m.GetMatch().(type) {
	case *destination.ResponseMatch_All, *destination.ResponseMatch_Any:
		kind, seq, name := mAll, (*destination.ResponseMatch_Seq)(nil), "all"
		if a, ok := x.(*destination.ResponseMatch_All); ok {
			seq = a.All
		} else {
			kind, seq, name = mAny, x.(*destination.ResponseMatch_Any).Any, "any"
		}
		out := &statusMatcher{kind: kind}
		for k, child := range seq.GetMatches() {
			f := field + "." + name + "[" + strconv.Itoa(k) + "]"
			if sm, ok := c.rspMatch(child, f); ok {
				out.subs = append(out.subs, sm)
			} else {
				c.drop(c.curRoute, c.name, f, "cannot be converted; dropped from '"+name+"'")
			}
		}
		if len(out.subs) == 0 {
			c.drop(c.curRoute, c.name, field+"."+name, "'"+name+"' has no usable child, so it fails too")
			return nil, false
		}
		return out, true
	case *destination.ResponseMatch_Not:
		inner, ok := c.rspMatch(x.Not, field+".not")
		if !ok {
			return nil, false
		}
		return &statusMatcher{kind: mNot, subs: []*statusMatcher{inner}}, true
	case *destination.ResponseMatch_Status:
		// http::StatusCode::from_u16 after `as u16` (which truncates).
		lo, hi := uint16(x.Status.GetMin()), uint16(x.Status.GetMax())
		if lo < 100 || lo > 999 || hi < 100 || hi > 999 {
			c.drop(c.curRoute, c.name, field+".status", "status range "+strconv.Itoa(int(x.Status.GetMin()))+".."+strconv.Itoa(int(x.Status.GetMax()))+
				" needs both min and max within 100..999 (a one-sided range is dropped by the proxy)")
			return nil, false
		}
		return &statusMatcher{kind: mStatus, lo: lo, hi: hi}, true
	}
	c.drop(c.curRoute, c.name, field, "response match has no field set")
	return nil, false
}

// target models convert_dst_override.
func (c *converter) target(i int, d *destination.WeightedDst) (Target, bool) {
	field := "dst_overrides[" + strconv.Itoa(i) + "]"
	if d.GetWeight() == 0 {
		c.drop(-1, "", field, "weight 0; dropped")
		return Target{}, false
	}
	if !validNameAddr(d.GetAuthority()) {
		c.drop(-1, "", field, "authority "+quote(d.GetAuthority())+" is not name:port with a DNS name; dropped")
		return Target{}, false
	}
	return Target{Authority: d.GetAuthority(), Weight: d.GetWeight()}, true
}

// validNameAddr models NameAddr::from_str: split at the last ':', the port
// must parse as u16 and the host must be a valid DNS name.
func validNameAddr(s string) bool {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return false
	}
	// Rust's u16 parse: optional leading '+', then digits (leading zeros
	// allowed), value <= 65535.
	port := strings.TrimPrefix(s[i+1:], "+")
	if port == "" {
		return false
	}
	n := 0
	for j := 0; j < len(port); j++ {
		if port[j] < '0' || port[j] > '9' {
			return false
		}
		if n = n*10 + int(port[j]-'0'); n > 65535 {
			return false
		}
	}
	host := s[:i]
	return host != "" && validDNSName(host)
}

// validDNSName models the proxy's DNS name check (linkerd_dns_name,
// is_valid_dns_id): at most 253 bytes; labels of [A-Za-z0-9_-] up to 63
// bytes, not starting or ending with '-', no empty labels except that a
// trailing dot is allowed; the last label must not be all digits (so IP
// addresses are refused).
func validDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	labelLen := 0
	allNumeric := false
	endsWithHyphen := false
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b == '-':
			if labelLen == 0 {
				return false
			}
			allNumeric, endsWithHyphen = false, true
			labelLen++
		case b >= '0' && b <= '9':
			if labelLen == 0 {
				allNumeric = true
			}
			endsWithHyphen = false
			labelLen++
		case (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || b == '_':
			allNumeric, endsWithHyphen = false, false
			labelLen++
		case b == '.':
			if endsWithHyphen || labelLen == 0 {
				return false
			}
			labelLen = 0
		default:
			return false
		}
		if labelLen > 63 {
			return false
		}
	}
	return !endsWithHyphen && !allNumeric
}

func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return "\"" + strings.ReplaceAll(s, "\"", "\\\"") + "\""
}
