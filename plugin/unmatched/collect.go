package unmatched

import (
	"strings"
	"sync/atomic"

	"github.com/kubectl-profiles/kubectl-profiles/diag/template"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapprofile"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// Bounds that keep memory flat however long a run is.
const (
	// maxServices is how many services get their own groups; requests for
	// further ones are counted as dropped.
	maxServices = 16
	// maxPending is how many unmatched requests may wait for their
	// response; beyond that the oldest is counted with no status.
	maxPending = 10000
)

// Service names one Service whose requests are grouped.
type Service struct {
	Name, Namespace string
}

// counters are read by the progress line from another goroutine.
type counters struct {
	events, requests, matched, unmatched, other, dropped atomic.Int64
}

// collector turns classified events into per-service groups.
type collector struct {
	want     tapclient.Direction
	only     *Service // --service / --to svc/X
	groupers map[Service]*template.Grouper
	order    []Service
	pending  map[tapclient.Key]pending
	ring     []ringSlot
	ringPos  int
	seq      uint64
	c        counters
	// tally counts the requests classified, and why others could not be.
	tally tapprofile.Tally
	// hasRoutes: the Service's profile had routes (requests were Unmatched
	// rather than NoRoutes).
	hasRoutes map[Service]bool
	// lookup is the profile lookup of the Service's first unmatched
	// request: the profile in effect for it is the base of -o yaml.
	lookup map[Service]tapprofile.Key
	// policy: lookups in policy mode, with the requests kept to verify
	// the proposed route.
	policy map[tapprofile.Key]*policyState
}

type pending struct {
	g            *template.Grouper
	method, path string
	seq          uint64
}

type ringSlot struct {
	key tapclient.Key
	seq uint64
}

func newCollector(want tapclient.Direction, only *Service) *collector {
	return &collector{want: want, only: only, groupers: map[Service]*template.Grouper{},
		pending: map[tapclient.Key]pending{}, ring: make([]ringSlot, maxPending),
		hasRoutes: map[Service]bool{}, lookup: map[Service]tapprofile.Key{}, policy: map[tapprofile.Key]*policyState{}}
}

// request handles a request event and its classification.
func (c *collector) request(ev *tapclient.Event, res tapprofile.Result) {
	svc := Service{Name: res.Key.Service, Namespace: res.Key.Namespace}
	if res.Status == tapprofile.PolicyMatched && res.Matcher.Routes()[res.Match.Route].Default != "" {
		// Client policy without user routes: the default route takes every
		// request, as a Service without ServiceProfile routes. Counted as
		// unmatched, with a ServiceProfile proposed, as before policy mode.
		res.Status = tapprofile.NoRoutes
	}
	switch res.Status {
	case tapprofile.Unmatched, tapprofile.NoRoutes, tapprofile.PolicyNoRoute:
		if c.only != nil && svc != *c.only {
			break
		}
		// A request no route can be made for (a path no request can have,
		// a method no route can name) would get a route that matches no
		// request: it is not grouped, and counted with the requests not
		// classified, with the reason.
		if why := template.Unroutable(ev.Method, ev.Path); why != "" {
			res.Status, res.Reason = tapprofile.Unknown, why
		}
	}
	c.tally.Add(res)
	switch res.Status {
	case tapprofile.Unknown:
		return
	case tapprofile.Matched:
		c.c.matched.Add(1)
		return
	}
	if c.only != nil && svc != *c.only {
		c.c.other.Add(1)
		return
	}
	if res.Status == tapprofile.PolicyMatched || res.Status == tapprofile.PolicyNoRoute {
		c.keepPolicy(ev, res)
	}
	if res.Status == tapprofile.PolicyMatched {
		c.c.matched.Add(1)
		return
	}
	g := c.groupers[svc]
	if g == nil {
		if len(c.groupers) >= maxServices {
			c.c.dropped.Add(1)
			return
		}
		svc = Service{Name: strings.Clone(svc.Name), Namespace: strings.Clone(svc.Namespace)}
		g = template.NewGrouper(template.Options{})
		c.groupers[svc] = g
		c.order = append(c.order, svc)
		c.lookup[svc] = res.Key
	}
	if res.Status == tapprofile.Unmatched {
		c.hasRoutes[svc] = true
	}
	c.c.unmatched.Add(1)
	c.hold(tapclient.KeyOf(ev), g, ev.Method, ev.Path)
}

// hold keeps an unmatched request until its response gives the status.
// Only what templating needs of the path is kept (see template.MaxPathLen).
func (c *collector) hold(k tapclient.Key, g *template.Grouper, method, path string) {
	if old, ok := c.pending[k]; ok { // a reused id: the old request never got a response
		old.g.Add(old.method, old.path, 0)
	}
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if len(path) > template.MaxPathLen+1 {
		path = path[:template.MaxPathLen+1]
	}
	slot := &c.ring[c.ringPos]
	if p, ok := c.pending[slot.key]; ok && p.seq == slot.seq {
		p.g.Add(p.method, p.path, 0)
		delete(c.pending, slot.key)
	}
	c.seq++
	*slot = ringSlot{key: k, seq: c.seq}
	c.ringPos = (c.ringPos + 1) % len(c.ring)
	c.pending[k] = pending{g: g, method: strings.Clone(method), path: strings.Clone(path), seq: c.seq}
}

// response handles rsp and end events: the first one seen for a held
// request gives its status (0 for an end without a response: reset).
func (c *collector) response(ev *tapclient.Event) {
	k := tapclient.KeyOf(ev)
	p, ok := c.pending[k]
	if !ok {
		return
	}
	delete(c.pending, k)
	status := 0
	if ev.Kind == tapclient.KindResponse {
		status = int(ev.HTTPStatus)
	}
	p.g.Add(p.method, p.path, status)
}

// flush counts requests still waiting for a response, with no status,
// oldest first so output does not depend on map order.
func (c *collector) flush() {
	for i := range c.ring {
		slot := &c.ring[(c.ringPos+i)%len(c.ring)]
		if p, ok := c.pending[slot.key]; ok && p.seq == slot.seq {
			p.g.Add(p.method, p.path, 0)
			delete(c.pending, slot.key)
		}
	}
}
