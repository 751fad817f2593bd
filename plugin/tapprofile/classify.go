package tapprofile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"

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
)

func (s Status) String() string {
	switch s {
	case NoRoutes:
		return "no-routes"
	case Unmatched:
		return "unmatched"
	case Matched:
		return "matched"
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
}

// Reasons a request is Unknown (Result.Reason).
const (
	ReasonNoService = "no Service name in the request"
	ReasonTooMany   = "too many distinct services"
	ReasonFailed    = "profile lookup failed"
	ReasonSilent    = "profile lookup silent"
	ReasonNoProfile = "no profile"
	ReasonStopped   = "stopped before the profile lookup answered"
)

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
	Source   Source
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
	dp, note, err := c.Source.Profile(lctx, e.key)
	e.note, e.err = note, err
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
	case dp == nil:
		e.reason = ReasonNoProfile
		return
	}
	e.prof, e.drops = proxy.Convert(dp)
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
