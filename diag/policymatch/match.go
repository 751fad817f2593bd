// Package policymatch picks, for one HTTP request, the HTTPRoute or
// GRPCRoute rule a Linkerd proxy routes it by on the policy path (client
// policy), or says that the proxy answers it with a 404 itself (no rule
// matches). It models linkerd2-proxy's linkerd/http/route (find, the
// request-match summaries and their order) as described in
// shared/reference/policy-api.md §11:
//
//   - a route whose hostnames do not match the request's host is skipped;
//   - each route's best rule is the best of its matches' summaries (a rule
//     without matches has the default summary, like PathPrefix /);
//   - candidates are compared by (host rank, rule summary): host Exact beats
//     Suffix beats no hostnames, longer patterns win within a kind; HTTP
//     summaries by path length (Exact/PathPrefix: the value's length, a
//     RegularExpression: the whole path's), then header count, query-param
//     count, method present; gRPC by service characters, method characters,
//     header count;
//   - ties keep the first: the earlier route in the policy's order, and
//     within a route the earlier rule.
//
// Pure: no network. Matching does not allocate, except to confirm a regex
// that matched the whole string when the anchored test alone cannot tell
// (alternations, lazy or overlapping repetitions: see SpanSafe).
package policymatch

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/rustregex"
)

// Header is one request header; Bin marks a value that is not UTF-8 (the
// proxy's header regexes skip those).
type Header struct {
	Name, Value string
	Bin         bool
}

// Request is what the proxy matches on.
type Request struct {
	Method string
	// Authority is the request's host[:port] (the URI authority, or the
	// Host header for HTTP/1); the port is ignored.
	Authority string
	// Path is the URI path without the query string.
	Path string
	// Query is the raw query string; QueryKnown says whether it is known
	// (the tap API reports the path only, so it usually is not).
	Query      string
	QueryKnown bool
	Headers    []Header
}

// Outcome says how a request was routed.
type Outcome uint8

const (
	// NoRoute: no rule matches; the proxy answers 404 itself (gRPC: 200
	// with grpc-status 5 NOT_FOUND) and no route metrics record it.
	NoRoute Outcome = iota
	// Matched: Route and Rule name the rule.
	Matched
	// Undecided: a rule whose outcome cannot be computed from what is
	// known (a query-param match without the query string, or a regex Go
	// reads differently from the proxy's Rust regex) could win; Route and
	// Rule name it.
	Undecided
)

func (o Outcome) String() string {
	switch o {
	case Matched:
		return "matched"
	case Undecided:
		return "undecided"
	}
	return "no-route"
}

// Result is the routing of one request.
type Result struct {
	Outcome Outcome
	// Route and Rule index the policy's routes and that route's rules
	// (valid unless Outcome is NoRoute).
	Route, Rule int
}

// Matcher matches requests against one policy's HTTP or gRPC routes. It
// is safe for concurrent use.
type Matcher struct {
	grpc   bool
	routes []route
	src    []policy.Route
}

type route struct {
	hosts []host
	rules []rule
}

type host struct {
	suffix bool
	// exact: the whole pattern; suffix: ".example.com" (with the dot).
	pat string
	// trailingDot: the pattern ends with '.', so the request's is kept.
	trailingDot bool
}

type rule struct {
	matches []match // none: the default summary
}

type pathKind uint8

const (
	pathNone pathKind = iota
	pathExact
	pathPrefix
	pathRegex
)

type match struct {
	path    pathKind
	value   string         // exact value or trimmed prefix
	full    *regexp.Regexp // ^(?:re)$: a fast, allocation-free filter
	re      *regexp.Regexp // ^(?:re): its leftmost-first match must span
	lit     string         // every whole-path match starts with this
	unknown bool           // Go cannot tell what the proxy does with it
	headers []valueMatch
	query   []valueMatch
	method  string
	// gRPC.
	service, rpcMethod string
}

type valueMatch struct {
	name  string
	exact string
	full  *regexp.Regexp // nil: exact
	re    *regexp.Regexp // confirms full (nil: full decides alone)
	// unknown: a regex Go reads differently (passes; the match is unsure).
	unknown bool
}

// New compiles the HTTP (or, for a gRPC policy, gRPC) routes the proxy
// matches requests against: p.Routes. Routes whose matches the proxy
// itself could not build are the proxy's problem (policy.ProxyRejects);
// a regex Go reads differently from Rust makes its match Undecided
// instead of guessed.
func New(p *policy.Policy) (*Matcher, error) {
	return NewRoutes(p.Routes, p.Protocol == policy.GRPC)
}

// NewRoutes compiles routes; grpc selects gRPC matching.
func NewRoutes(routes []policy.Route, grpc bool) (*Matcher, error) {
	m := &Matcher{grpc: grpc, src: routes, routes: make([]route, len(routes))}
	for i, r := range routes {
		for _, h := range r.Hosts {
			m.routes[i].hosts = append(m.routes[i].hosts, compileHost(h))
		}
		m.routes[i].rules = make([]rule, len(r.Rules))
		for j, ru := range r.Rules {
			for _, x := range ru.Matches {
				cm, err := compileMatch(x)
				if err != nil {
					return nil, fmt.Errorf("%s rule %d: %v", RouteLabel(r), j+1, err)
				}
				m.routes[i].rules[j].matches = append(m.routes[i].rules[j].matches, cm)
			}
		}
	}
	return m, nil
}

// Routes are the routes the matcher was built from.
func (m *Matcher) Routes() []policy.Route { return m.src }

// GRPC says whether the matcher matches gRPC routes.
func (m *Matcher) GRPC() bool { return m.grpc }

// UsesHeader tells whether any match of the routes reads header name
// (so a request kept for re-matching needs only those headers).
func (m *Matcher) UsesHeader(name string) bool {
	for i := range m.routes {
		for j := range m.routes[i].rules {
			for _, x := range m.routes[i].rules[j].matches {
				for _, h := range x.headers {
					if strings.EqualFold(h.name, name) {
						return true
					}
				}
			}
		}
	}
	return false
}

// Rule is the policy rule res names (nil for NoRoute).
func (m *Matcher) Rule(res Result) *policy.Rule {
	if res.Outcome == NoRoute {
		return nil
	}
	return &m.src[res.Route].Rules[res.Rule]
}

func compileHost(h string) host {
	if rest, ok := strings.CutPrefix(h, "*."); ok {
		return host{suffix: true, pat: "." + rest, trailingDot: strings.HasSuffix(rest, ".")}
	}
	return host{pat: h, trailingDot: strings.HasSuffix(h, ".")}
}

func compileMatch(x policy.Match) (match, error) {
	var cm match
	kind, val, _ := strings.Cut(x.Path, ":")
	switch kind {
	case "":
	case "exact":
		cm.path, cm.value = pathExact, val
	case "prefix":
		cm.path, cm.value = pathPrefix, strings.TrimRight(val, "/")
		if cm.value == "" {
			cm.value = "/"
		}
	case "regex":
		cm.path = pathRegex
		var err error
		if cm.full, cm.re, cm.unknown, err = compileRegex(val); err != nil {
			return cm, fmt.Errorf("path regex %q: %v", val, err)
		}
		if cm.full != nil {
			cm.lit, _ = cm.full.LiteralPrefix()
		}
	default:
		return cm, fmt.Errorf("path match %q: unknown kind", x.Path)
	}
	for _, v := range x.Headers {
		vm, unknown, err := compileValue(v)
		if err != nil {
			return cm, fmt.Errorf("header %q: %v", v.Name, err)
		}
		vm.name = strings.ToLower(v.Name)
		cm.unknown = cm.unknown || unknown
		cm.headers = append(cm.headers, vm)
	}
	for _, v := range x.QueryParams {
		vm, unknown, err := compileValue(v)
		if err != nil {
			return cm, fmt.Errorf("query param %q: %v", v.Name, err)
		}
		cm.unknown = cm.unknown || unknown
		cm.query = append(cm.query, vm)
	}
	cm.method = x.Method
	if x.RPC != nil {
		cm.service, cm.rpcMethod = x.RPC.Service, x.RPC.Method
	}
	return cm, nil
}

func compileValue(v policy.ValueMatch) (valueMatch, bool, error) {
	vm := valueMatch{name: v.Name}
	if v.Kind != "regex" {
		vm.exact = v.Value
		return vm, false, nil
	}
	var err error
	vm.full, vm.re, vm.unknown, err = compileRegex(v.Value)
	return vm, vm.unknown, err
}

// compileRegex compiles a Rust regex for Go. unknown is set when Go reads
// it differently (then the two regexps are nil).
func compileRegex(s string) (full, re *regexp.Regexp, unknown bool, err error) {
	if err := rustregex.Check(s); err != nil {
		return nil, nil, false, fmt.Errorf("the proxy cannot compile it: %v", err)
	}
	for _, d := range rustregex.GoCompatible(s) {
		if !d.ASCIISafe {
			return nil, nil, true, nil
		}
	}
	// Anchored at the start: once the whole string matches, the leftmost
	// match starts at 0, and its end is that of ^(?:re)'s first match.
	re, err = regexp.Compile(`^(?:` + s + `)`)
	if err != nil {
		return nil, nil, true, nil
	}
	full, err = regexp.Compile(`^(?:` + s + `)$`)
	if err != nil {
		return nil, nil, true, nil
	}
	if SpanSafe(s) {
		re = nil // the anchored test decides alone
	}
	return full, re, false, nil
}

// PathRegexMatches tells whether the proxy's RegularExpression path match
// re matches path (its leftmost-first match must span the whole path).
// decided is false when Go reads re differently from the proxy's Rust
// regex: then nothing is claimed.
func PathRegexMatches(re, path string) (matches, decided bool, err error) {
	full, confirm, unknown, err := compileRegex(re)
	if err != nil || unknown {
		return false, false, err
	}
	return regexMatch(full, confirm, path), true, nil
}

// regexMatch is the proxy's test: the leftmost-first match of the regex
// in s must span all of s (so `a|ab` does not match "ab"). The anchored
// filter full rejects most strings without allocating; when it accepts,
// re (nil for span-safe regexes) confirms with FindStringIndex, which
// allocates.
func regexMatch(full, re *regexp.Regexp, s string) bool {
	if !full.MatchString(s) {
		return false
	}
	if re == nil {
		return true // SpanSafe
	}
	loc := re.FindStringIndex(s)
	return loc != nil && loc[0] == 0 && loc[1] == len(s)
}

// Match routes req.
func (m *Matcher) Match(req *Request) Result {
	host := hostOf(req.Authority)
	var best, maybe summary
	bestRoute, bestRule, maybeRoute, maybeRule := -1, -1, -1, -1
	for i := range m.routes {
		rt := &m.routes[i]
		var hs summary
		if len(rt.hosts) > 0 {
			if hs = matchHosts(rt.hosts, host); hs == 0 {
				continue
			}
		}
		for j := range rt.rules {
			s, unsure, ok := m.matchRule(&rt.rules[j], req)
			if !ok {
				continue
			}
			s |= hs
			if unsure {
				if maybeRoute < 0 || s > maybe {
					maybe, maybeRoute, maybeRule = s, i, j
				}
				continue
			}
			if bestRoute < 0 || s > best {
				best, bestRoute, bestRule = s, i, j
			}
		}
	}
	if maybeRoute >= 0 && (bestRoute < 0 || maybe > best ||
		maybe == best && (maybeRoute < bestRoute || maybeRoute == bestRoute && maybeRule < bestRule)) {
		return Result{Outcome: Undecided, Route: maybeRoute, Rule: maybeRule}
	}
	if bestRoute < 0 {
		return Result{Outcome: NoRoute, Route: -1, Rule: -1}
	}
	return Result{Outcome: Matched, Route: bestRoute, Rule: bestRule}
}

// summary packs a candidate's rank so that a greater value is a better
// match: host kind (2 bits) and length (14 bits) on top, then the rule
// summary (48 bits).
type summary uint64

const (
	hostShift = 48
	hostExact = 2
	hostSufx  = 1
)

func clamp(n, bits int) uint64 {
	if max := 1<<bits - 1; n > max {
		return uint64(max)
	}
	return uint64(n)
}

func hostSummary(kind uint64, n int) summary {
	return summary((kind<<14 | clamp(n, 14)) << hostShift)
}

// httpSummary: path length (24 bits), headers (8), query params (8),
// method (1).
func httpSummary(path, headers, query int, method bool) summary {
	s := clamp(path, 24)<<17 | clamp(headers, 8)<<9 | clamp(query, 8)<<1
	if method {
		s |= 1
	}
	return summary(s)
}

// grpcSummary: service characters (20 bits), method characters (20),
// headers (8).
func grpcSummary(service, method, headers int) summary {
	return summary(clamp(service, 20)<<28 | clamp(method, 20)<<8 | clamp(headers, 8))
}

// hostOf is the authority's host: port and IPv6 brackets removed.
func hostOf(a string) string {
	if strings.HasPrefix(a, "[") {
		if i := strings.IndexByte(a, ']'); i > 0 {
			return a[1:i]
		}
		return a
	}
	if i := strings.LastIndexByte(a, ':'); i >= 0 && strings.IndexByte(a[:i], ':') < 0 {
		return a[:i]
	}
	return a
}

// matchHosts is the best of the route's host matches (first wins ties),
// 0 when none matches.
func matchHosts(hs []host, h string) summary {
	var best summary
	if h == "" {
		return 0
	}
	for i := range hs {
		if s := hs[i].match(h); s > best {
			best = s
		}
	}
	return best
}

func (p *host) match(h string) summary {
	if !p.trailingDot {
		h = strings.TrimSuffix(h, ".")
	}
	if !p.suffix {
		if strings.EqualFold(p.pat, h) {
			return hostSummary(hostExact, len(p.pat))
		}
		return 0
	}
	// The request host must be <label(s)><pat>: at least one more label.
	if len(h) <= len(p.pat) || !strings.EqualFold(h[len(h)-len(p.pat):], p.pat) {
		return 0
	}
	return hostSummary(hostSufx, len(p.pat))
}

// matchRule is the rule's best match summary (first wins ties); unsure
// when that best one cannot be decided.
func (m *Matcher) matchRule(r *rule, req *Request) (s summary, unsure, ok bool) {
	if len(r.matches) == 0 {
		if m.grpc {
			return grpcSummary(0, 0, 0), false, true
		}
		return httpSummary(1, 0, 0, false), false, true
	}
	for i := range r.matches {
		x := &r.matches[i]
		var ms summary
		var u, hit bool
		if m.grpc {
			ms, u, hit = x.matchGRPC(req)
		} else {
			ms, u, hit = x.matchHTTP(req)
		}
		if !hit {
			continue
		}
		if !ok || ms > s {
			s, unsure, ok = ms, u, true
		}
	}
	return s, unsure, ok
}

func (x *match) matchHTTP(req *Request) (summary, bool, bool) {
	if x.method != "" && x.method != req.Method {
		return 0, false, false
	}
	unsure := x.unknown
	plen := 1
	p := req.Path
	switch x.path {
	case pathExact:
		if p != x.value {
			return 0, false, false
		}
		plen = len(x.value)
	case pathPrefix:
		if x.value != "/" {
			t := strings.TrimRight(p, "/")
			if !strings.HasPrefix(t, x.value) || len(t) > len(x.value) && t[len(x.value)] != '/' {
				return 0, false, false
			}
		}
		plen = len(x.value)
	case pathRegex:
		if x.full != nil && (!strings.HasPrefix(p, x.lit) || !regexMatch(x.full, x.re, p)) {
			return 0, false, false
		}
		plen = len(p)
	}
	for i := range x.headers {
		h := &x.headers[i]
		if !h.matchHeader(req.Headers) {
			return 0, false, false
		}
	}
	if len(x.query) > 0 {
		if !req.QueryKnown {
			unsure = true
		} else {
			for i := range x.query {
				if !x.query[i].matchQuery(req.Query) {
					return 0, false, false
				}
			}
		}
	}
	return httpSummary(plen, len(x.headers), len(x.query), x.method != ""), unsure, true
}

func (v *valueMatch) matchHeader(hs []Header) bool {
	if v.unknown {
		return true // the match is unsure already
	}
	for i := range hs {
		h := &hs[i]
		if !strings.EqualFold(h.Name, v.name) {
			continue
		}
		if v.full == nil {
			if h.Value == v.exact {
				return true
			}
			continue
		}
		if !h.Bin && regexMatch(v.full, v.re, h.Value) {
			return true
		}
	}
	return false
}

// matchQuery: any occurrence of the name (form-urlencoded) may match.
func (v *valueMatch) matchQuery(q string) bool {
	if v.unknown {
		return true
	}
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		if kv == "" {
			continue
		}
		k, val, _ := strings.Cut(kv, "=")
		if formDecode(k) != v.name {
			continue
		}
		val = formDecode(val)
		if v.full == nil {
			if val == v.exact {
				return true
			}
			continue
		}
		if regexMatch(v.full, v.re, val) {
			return true
		}
	}
	return false
}

// formDecode decodes application/x-www-form-urlencoded text ('+' is a
// space, %XX a byte; bad escapes are kept as they are). It allocates only
// when s holds an escape.
func formDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func (x *match) matchGRPC(req *Request) (summary, bool, bool) {
	if req.Method != "POST" {
		return 0, false, false
	}
	p := req.Path
	if !strings.HasPrefix(p, "/") {
		return 0, false, false
	}
	svc, rest, ok := strings.Cut(p[1:], "/")
	if !ok {
		return 0, false, false
	}
	meth, _, _ := strings.Cut(rest, "/")
	if x.service != "" && x.service != svc || x.rpcMethod != "" && x.rpcMethod != meth {
		return 0, false, false
	}
	for i := range x.headers {
		if !x.headers[i].matchHeader(req.Headers) {
			return 0, false, false
		}
	}
	return grpcSummary(len(x.service), len(x.rpcMethod), len(x.headers)), x.unknown, true
}

// RouteLabel names a route for messages: "HTTPRoute ns/name" or
// "default http".
func RouteLabel(r policy.Route) string {
	if r.Default != "" {
		return "default " + r.Default
	}
	return fmt.Sprintf("%s %s/%s", r.Kind, r.Namespace, r.Name)
}

// RouteID is the rule as tap prints it: <kind>/<namespace>/<name>#rule<i>
// (i from 1), or default/<name> for a synthetic route.
func RouteID(r policy.Route, rule int) string {
	if r.Default != "" {
		return "default/" + r.Default
	}
	return fmt.Sprintf("%s/%s/%s#rule%d", r.Kind, r.Namespace, r.Name, rule+1)
}

// BackendFailure says what share of the rule's requests fail on an
// invalid backend (§3.3: a missing Service, a backendRef without port, an
// unsupported kind): the invalid weight over the total weight, and the
// first message. For firstAvailable, the first backend decides.
func BackendFailure(r *policy.Rule) (failing, total uint32, msg string) {
	if r == nil {
		return 0, 0, ""
	}
	if r.Distribution == "firstAvailable" {
		if len(r.Backends) > 0 && r.Backends[0].Invalid != "" {
			return 1, 1, r.Backends[0].Invalid
		}
		return 0, 1, ""
	}
	for _, b := range r.Backends {
		total += b.Weight
		if b.Invalid != "" {
			failing += b.Weight
			if msg == "" {
				msg = b.Invalid
			}
		}
	}
	return failing, total, msg
}
