package tapprofile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/policymatch"
	"github.com/kubectl-profiles/kubectl-profiles/diag/proxy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/report"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// Status says how a request was classified.
type Status uint8

const (
	// Unknown: no profile could be determined (no Service name in the
	// request, a failed or silent lookup, or the rsp/end of a request the
	// tap never saw).
	Unknown Status = iota
	// NoRoutes: the proxy has no ServiceProfile routes to apply (no
	// ServiceProfile, or one without routes), so there is no rt_route.
	NoRoutes
	// Unmatched: the profile has routes and none matches; the request
	// gets the default route, with no rt_route.
	Unmatched
	// Matched: Route is the rt_route.
	Matched
	// PolicyMatched: the proxy routes the request by client policy
	// (HTTPRoute/GRPCRoute, or the default route); PolicyRoute names the
	// rule. There is no rt_route.
	PolicyMatched
	// PolicyNoRoute: client policy with routes, none of which matches: the
	// proxy answers 404 itself (gRPC: grpc-status 5).
	PolicyNoRoute
)

func (s Status) String() string {
	switch s {
	case NoRoutes:
		return "no-routes"
	case Unmatched:
		return "unmatched"
	case Matched:
		return "matched"
	case PolicyMatched:
		return "policy-matched"
	case PolicyNoRoute:
		return "policy-404"
	}
	return "unknown"
}

// Result is the classification of one request.
type Result struct {
	Status Status
	// Route is the rt_route name when Matched.
	Route      string
	RouteIndex int
	// Key is the lookup used; valid unless Status is Unknown with HasKey
	// false.
	Key    Key
	HasKey bool
	// Reason says why Status is Unknown.
	Reason string
	// Mode is the API whose routes the proxy uses ("" when not known).
	Mode dpolicy.Mode
	// PolicyRoute names the policy rule (PolicyMatched) as
	// <kind>/<namespace>/<name>#rule<i> (policymatch.RouteID); for an
	// Unknown result with ReasonUndecided, the rule that could win.
	PolicyRoute string
	// BackendFailure is set when the rule's backends include an invalid
	// one (§3.3): "1/4 of requests: Service not found books-v2".
	BackendFailure string
	// Matcher and Match locate the rule (policy results).
	Matcher *policymatch.Matcher
	Match   policymatch.Result
}

// Reasons a request is Unknown (Result.Reason).
const (
	ReasonNoService = "no Service name in the request"
	ReasonTooMany   = "too many distinct services"
	ReasonFailed    = "profile lookup failed"
	ReasonSilent    = "profile lookup silent"
	ReasonNoProfile = "no profile"
	ReasonStopped   = "stopped before the profile lookup answered"
	// Policy path.
	ReasonPolicyFailed = "policy lookup failed"
	ReasonUndecided    = "the rule depends on the query string (not in the tap) or a regex Go reads differently"
	ReasonOpaque       = "the proxy treats the target as opaque (no HTTP routing)"
)

// PolicySource answers client-policy lookups (the OutboundPolicies API, or
// route files) for the same Keys, under the same rules as Source. A nil
// policy with a nil error is the controller's NotFound: no client policy.
type PolicySource interface {
	Policy(ctx context.Context, k Key) (pol *dpolicy.Policy, note string, err error)
}

// Source answers profile lookups. It is called at most once per Key, from
// its own goroutine, with a context that ends after the lookup timeout.
// note, when not empty, is reported once (e.g. "no --profile file for this
// service").
type Source interface {
	Profile(ctx context.Context, k Key) (dp *pb.DestinationProfile, note string, err error)
}

// Defaults for Classifier.
const (
	DefaultTimeout     = 5 * time.Second
	DefaultMaxLookups  = 1024
	DefaultConcurrency = 32
)

// Classifier classifies request events. Each distinct Key is looked up once
// in its own goroutine, at most Concurrency at a time; the first event
// needing it waits at most Timeout (plus a little) for the answer, later
// ones never wait. Prefetch starts lookups ahead of Classify, so a reader
// that looks ahead (a capture file) waits for many lookups at once instead
// of one after the other. Failed and silent
// lookups are remembered as Unknown and reported once through Warn. The
// cache holds at most MaxLookups keys, so memory stays bounded whatever
// authorities the traffic carries. Classify is not safe for concurrent use.
type Classifier struct {
	Resolver Resolver
	// Source answers profile lookups; nil means no ServiceProfiles (route
	// files alone stand for the cluster).
	Source Source
	// Policies answers client-policy lookups of outbound requests; nil
	// means ServiceProfiles alone (the proxy's policy is not consulted).
	Policies PolicySource
	// Timeout bounds one lookup (DefaultTimeout when zero).
	Timeout time.Duration
	// MaxLookups bounds the cache (DefaultMaxLookups when zero).
	MaxLookups int
	// Concurrency bounds the lookups in flight (DefaultConcurrency when
	// zero).
	Concurrency int
	// Warn receives one-line messages, each at most once (nil: dropped).
	Warn func(string)

	cache   map[Key]*entry
	last    *entry
	warned  map[string]bool
	full    bool
	pending sync.WaitGroup
	slots   chan struct{} // one per lookup in flight
	req     policymatch.Request
}

type entry struct {
	key      Key
	done     chan struct{}
	deadline time.Time
	// Set before done is closed.
	prof   *proxy.Profile
	drops  []proxy.Drop
	note   string
	err    error
	seen   bool // results reported through Warn
	reason string
	fqdn   string
	path   string
	// Policy path (outbound, with Policies set).
	decision *dpolicy.Decision
	matcher  *policymatch.Matcher
	polNote  string
	polErr   error
}

// Classify classifies request event ev. ctx ends waits early (Ctrl-C).
func (c *Classifier) Classify(ctx context.Context, ev *tapclient.Event) Result {
	k, ok := c.Resolver.Lookup(ev)
	if !ok {
		return Result{Status: Unknown, Reason: ReasonNoService}
	}
	e, reason := c.entry(ctx, k, true)
	if e == nil {
		return Result{Status: Unknown, Key: k, HasKey: true, Reason: reason}
	}
	if reason := c.wait(ctx, e); reason != "" {
		return Result{Status: Unknown, Key: e.key, HasKey: true, Reason: reason}
	}
	if e.prof == nil {
		return Result{Status: Unknown, Key: e.key, HasKey: true, Reason: e.reason}
	}
	if e.decision != nil {
		return c.classifyPolicy(e, ev)
	}
	if k.Inbound && len(e.prof.Routes) == 0 || !k.Inbound && !e.prof.UsesProfileRoutes() {
		return Result{Status: NoRoutes, Key: e.key, HasKey: true}
	}
	idx, name, ok := e.prof.Match(ev.Method, ev.Path)
	if !ok {
		return Result{Status: Unmatched, RouteIndex: -1, Key: e.key, HasKey: true}
	}
	return Result{Status: Matched, Route: name, RouteIndex: idx, Key: e.key, HasKey: true}
}

// Prefetch starts the lookup that request event ev needs, unless it was
// started already, the event names no Service, or no slot is free: it
// returns false only in that last case (try again after Classify).
func (c *Classifier) Prefetch(ctx context.Context, ev *tapclient.Event) bool {
	k, ok := c.Resolver.Lookup(ev)
	if !ok {
		return true
	}
	e, reason := c.entry(ctx, k, false)
	return e != nil || reason != errNoSlot
}

const errNoSlot = "no free lookup slot"

// entry finds or starts the lookup for k. When it returns nil, reason says
// why: the cache is full, ctx ended while waiting for a slot, or (block
// false) no slot is free.
func (c *Classifier) entry(ctx context.Context, k Key, block bool) (*entry, string) {
	if c.last != nil && c.last.key == k {
		return c.last, ""
	}
	if e, ok := c.cache[k]; ok { // no allocation: lookups by value
		c.last = e
		return e, ""
	}
	max := c.MaxLookups
	if max <= 0 {
		max = DefaultMaxLookups
	}
	if c.cache == nil {
		c.cache = make(map[Key]*entry)
	}
	if len(c.cache) >= max {
		if !c.full {
			c.full = true
			c.warn(fmt.Sprintf("more than %d distinct services in the traffic: requests to further ones are not classified", max))
		}
		return nil, ReasonTooMany
	}
	if c.slots == nil {
		n := c.Concurrency
		if n <= 0 {
			n = DefaultConcurrency
		}
		c.slots = make(chan struct{}, n)
	}
	select {
	case c.slots <- struct{}{}:
	default:
		if !block {
			return nil, errNoSlot
		}
		select {
		case c.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ReasonStopped
		}
	}
	k.Service, k.Namespace, k.ClientNamespace = strings.Clone(k.Service), strings.Clone(k.Namespace), strings.Clone(k.ClientNamespace)
	timeout := c.timeout()
	e := &entry{key: k, done: make(chan struct{}), deadline: time.Now().Add(timeout + timeout/2 + time.Second),
		fqdn: k.FQDN(c.Resolver.ClusterDomain), path: k.Path(c.Resolver.ClusterDomain)}
	c.cache[k] = e
	c.last = e
	c.pending.Add(1)
	go c.fetch(ctx, e, timeout)
	return e, ""
}

func (c *Classifier) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// fetch runs one lookup. The source bounds it by the Classifier's timeout
// (Destination) or by ctx's deadline, a little later, whichever it uses.
func (c *Classifier) fetch(ctx context.Context, e *entry, timeout time.Duration) {
	defer c.pending.Done()
	defer close(e.done)
	defer func() { <-c.slots }()
	lctx, cancel := context.WithTimeout(ctx, timeout+timeout/4+500*time.Millisecond)
	defer cancel()
	// Both lookups at once, as the proxy resolves both.
	usePolicy := c.Policies != nil && !e.key.Inbound
	type polAnswer struct {
		pol  *dpolicy.Policy
		note string
		err  error
	}
	polc := make(chan polAnswer, 1)
	if usePolicy {
		go func() {
			pol, note, err := c.Policies.Policy(lctx, e.key)
			polc <- polAnswer{pol, note, err}
		}()
	}
	var dp *pb.DestinationProfile
	var note string
	var err error
	if c.Source != nil {
		dp, note, err = c.Source.Profile(lctx, e.key)
	}
	e.note, e.err = note, err
	if usePolicy {
		defer func() { <-polc }() // every early return still waits for it
	}
	switch {
	case err != nil && ctx.Err() != nil:
		e.reason, e.err = ReasonStopped, nil // Ctrl-C or the end of the run: not a failure
		return
	case errors.Is(err, report.ErrSilent):
		e.reason = ReasonSilent
		return
	case err != nil:
		e.reason = ReasonFailed
		return
	case dp == nil && !usePolicy:
		e.reason = ReasonNoProfile
		return
	}
	e.prof, e.drops = proxy.Convert(dp)
	if !usePolicy {
		return
	}
	a := <-polc
	polc <- a // for the deferred receive
	pol, pnote, perr := a.pol, a.note, a.err
	e.polNote = pnote
	switch {
	case perr != nil && ctx.Err() != nil:
		e.prof, e.reason = nil, ReasonStopped
		return
	case perr != nil:
		if d := dpolicy.Decide(dp, nil); dp != nil && d.Mode == dpolicy.ModeServiceProfile {
			e.decision = &d // the profile decides whatever the policy says (protocol aside)
			return
		}
		e.polErr, e.prof, e.reason = perr, nil, ReasonPolicyFailed
		return
	}
	d := dpolicy.Decide(dp, pol)
	e.decision = &d
	if d.Mode == dpolicy.ModePolicy && pol != nil && len(pol.Routes) > 0 {
		m, merr := policymatch.New(pol)
		if merr != nil {
			e.polErr, e.prof, e.reason = merr, nil, ReasonPolicyFailed
			e.decision = nil
			return
		}
		e.matcher = m
	}
}

// classifyPolicy classifies ev for a target whose mode was decided with
// both APIs' answers.
func (c *Classifier) classifyPolicy(e *entry, ev *tapclient.Event) Result {
	res := Result{Key: e.key, HasKey: true, Mode: e.decision.Mode}
	if e.decision.Mode == dpolicy.ModeServiceProfile {
		if !e.prof.UsesProfileRoutes() {
			res.Status = NoRoutes
			return res
		}
		idx, name, ok := e.prof.Match(ev.Method, ev.Path)
		if !ok {
			res.Status, res.RouteIndex = Unmatched, -1
			return res
		}
		res.Status, res.Route, res.RouteIndex = Matched, name, idx
		return res
	}
	if e.decision.Protocol == dpolicy.Opaque || e.decision.Protocol == dpolicy.TLS {
		res.Status, res.Reason = Unknown, ReasonOpaque
		return res
	}
	if e.matcher == nil {
		res.Status = NoRoutes // no client policy: forwarded to the original destination
		return res
	}
	PolicyRequest(&c.req, ev)
	m := e.matcher.Match(&c.req)
	c.req.Headers = c.req.Headers[:0]
	res.Matcher, res.Match = e.matcher, m
	switch m.Outcome {
	case policymatch.NoRoute:
		res.Status, res.RouteIndex = PolicyNoRoute, -1
		return res
	case policymatch.Undecided:
		res.Status, res.Reason = Unknown, ReasonUndecided
		res.PolicyRoute = policymatch.RouteID(e.matcher.Routes()[m.Route], m.Rule)
		return res
	}
	res.Status, res.RouteIndex = PolicyMatched, m.Route
	res.PolicyRoute = policymatch.RouteID(e.matcher.Routes()[m.Route], m.Rule)
	if failing, total, msg := policymatch.BackendFailure(e.matcher.Rule(m)); failing > 0 {
		res.BackendFailure = fmt.Sprintf("%d/%d of requests: %s", failing, total, msg)
	}
	return res
}

// wait blocks until e is answered, its deadline passes or ctx ends, and
// reports the answer the first time it is seen. It returns "" once e is
// answered, else why the request is not classified.
func (c *Classifier) wait(ctx context.Context, e *entry) string {
	select {
	case <-e.done:
	default:
		d := time.Until(e.deadline)
		if d <= 0 {
			return ReasonSilent
		}
		t := time.NewTimer(d)
		select {
		case <-e.done:
			t.Stop()
		case <-t.C:
			c.warn(fmt.Sprintf("profile lookup of %s (client namespace %q) did not answer in time: its requests are not classified until it does", e.path, e.key.ClientNamespace))
			return ReasonSilent
		case <-ctx.Done():
			t.Stop()
			return ReasonStopped
		}
	}
	if !e.seen {
		e.seen = true
		c.report(e)
	}
	return ""
}

func (c *Classifier) report(e *entry) {
	if e.note != "" {
		c.warn(e.note)
	}
	if e.polNote != "" {
		c.warn(e.polNote)
	}
	if e.polErr != nil {
		c.warn(fmt.Sprintf("no client policy for %s as seen from namespace %q: %s: its requests are not classified",
			e.path, e.key.ClientNamespace, oneLine(e.polErr.Error())))
	}
	if e.err != nil {
		c.warn(fmt.Sprintf("no profile for %s as seen from namespace %q: %s: its requests are not classified",
			e.path, e.key.ClientNamespace, oneLine(e.err.Error())))
	}
	for _, d := range e.drops {
		c.warn(fmt.Sprintf("profile %s: the proxy drops %s", e.fqdn, d))
	}
}

func (c *Classifier) warn(msg string) {
	if c.Warn == nil {
		return
	}
	if c.warned == nil {
		c.warned = map[string]bool{}
	}
	if c.warned[msg] || len(c.warned) > 10000 {
		return
	}
	c.warned[msg] = true
	c.Warn(msg)
}

// Wait waits for lookups still running (they end within their timeout).
func (c *Classifier) Wait() { c.pending.Wait() }

// Lookups is the number of distinct lookups started.
func (c *Classifier) Lookups() int { return len(c.cache) }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// PolicyRequest fills req with what the proxy matches a tapped request on:
// method, authority, path and headers (binary values as bytes). It reuses
// req's header slice and keeps references into ev: clone what outlives ev.
func PolicyRequest(req *policymatch.Request, ev *tapclient.Event) {
	req.Method, req.Authority, req.Path = ev.Method, ev.Authority, ev.Path
	req.Headers = req.Headers[:0]
	for i := range ev.Headers {
		h := &ev.Headers[i]
		if h.ValueBin != nil {
			req.Headers = append(req.Headers, policymatch.Header{Name: h.Name, Value: string(h.ValueBin), Bin: true})
			continue
		}
		req.Headers = append(req.Headers, policymatch.Header{Name: h.Name, Value: h.Value})
	}
}
