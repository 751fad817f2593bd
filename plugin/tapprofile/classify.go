package tapprofile

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"

	"github.com/kubectl-profiles/kubectl-profiles/diag/proxy"
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

// Source answers profile lookups. It is called at most once per Key, from
// its own goroutine, with a context that ends after the lookup timeout.
// note, when not empty, is reported once (e.g. "no --profile file for this
// service").
type Source interface {
	Profile(ctx context.Context, k Key) (dp *pb.DestinationProfile, note string, err error)
}

// Defaults for Classifier.
const (
	DefaultTimeout    = 5 * time.Second
	DefaultMaxLookups = 1024
)

// Classifier classifies request events. Each distinct Key is looked up once
// in its own goroutine; the first event needing it waits at most Timeout
// (plus a little) for the answer, later ones never wait. Failed and silent
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
	// Warn receives one-line messages, each at most once (nil: dropped).
	Warn func(string)

	cache   map[Key]*entry
	last    *entry
	warned  map[string]bool
	full    bool
	pending sync.WaitGroup
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
		return Result{Status: Unknown, Reason: "no Service name in the request"}
	}
	e := c.entry(ctx, k)
	if e == nil {
		return Result{Status: Unknown, Key: k, HasKey: true, Reason: "too many distinct services"}
	}
	if !c.wait(ctx, e) {
		return Result{Status: Unknown, Key: e.key, HasKey: true, Reason: "profile lookup still pending"}
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

// entry finds or starts the lookup for k; nil when the cache is full.
func (c *Classifier) entry(ctx context.Context, k Key) *entry {
	if c.last != nil && c.last.key == k {
		return c.last
	}
	if e, ok := c.cache[k]; ok { // no allocation: lookups by value
		c.last = e
		return e
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
		return nil
	}
	k.Service, k.Namespace, k.ClientNamespace = strings.Clone(k.Service), strings.Clone(k.Namespace), strings.Clone(k.ClientNamespace)
	timeout := c.timeout()
	e := &entry{key: k, done: make(chan struct{}), deadline: time.Now().Add(timeout + timeout/10 + 100*time.Millisecond),
		fqdn: k.FQDN(c.Resolver.ClusterDomain), path: k.Path(c.Resolver.ClusterDomain)}
	c.cache[k] = e
	c.last = e
	c.pending.Add(1)
	go c.fetch(ctx, e, timeout)
	return e
}

func (c *Classifier) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Classifier) fetch(ctx context.Context, e *entry, timeout time.Duration) {
	defer c.pending.Done()
	defer close(e.done)
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dp, note, err := c.Source.Profile(lctx, e.key)
	e.note, e.err = note, err
	if err != nil {
		e.reason = "profile lookup failed"
		return
	}
	if dp == nil {
		e.reason = "no profile"
		return
	}
	e.prof, e.drops = proxy.Convert(dp)
}

// wait blocks until e is answered, its deadline passes or ctx ends, and
// reports the answer the first time it is seen.
func (c *Classifier) wait(ctx context.Context, e *entry) bool {
	select {
	case <-e.done:
	default:
		d := time.Until(e.deadline)
		if d <= 0 {
			return false
		}
		t := time.NewTimer(d)
		select {
		case <-e.done:
			t.Stop()
		case <-t.C:
			c.warn(fmt.Sprintf("profile lookup of %s (client namespace %q) did not answer in time: its requests are not classified until it does", e.path, e.key.ClientNamespace))
			return false
		case <-ctx.Done():
			t.Stop()
			return false
		}
	}
	if !e.seen {
		e.seen = true
		c.report(e)
	}
	return true
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
