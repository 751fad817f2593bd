package tapclient

import "net/netip"

// Key identifies one request across its req/rsp/end events. Stream ids
// are only unique per proxy, so the key also holds the direction and the
// tapped pod's address.
type Key struct {
	Direction Direction
	Tapped    netip.Addr
	ID        StreamID
}

// KeyOf returns the correlation key of ev.
func KeyOf(ev *Event) Key {
	return Key{Direction: ev.Direction, Tapped: ev.TappedIP, ID: ev.ID}
}

// DefaultMaxOpen is the Correlator bound used when NewCorrelator gets 0.
const DefaultMaxOpen = 10000

// Correlator ties response and end events to the request event that opened
// them. It holds at most max open requests; beyond that the oldest is
// evicted (its later events then find no request), so memory stays bounded
// even when ends are lost. Not safe for concurrent use.
type Correlator struct {
	max     int
	open    map[Key]*entry
	head    *entry // oldest
	tail    *entry // newest
	evicted uint64
}

type entry struct {
	key        Key
	req        *Event
	prev, next *entry
}

// NewCorrelator returns a Correlator holding at most max open requests.
func NewCorrelator(max int) *Correlator {
	if max <= 0 {
		max = DefaultMaxOpen
	}
	return &Correlator{max: max, open: make(map[Key]*entry)}
}

// Observe records ev and returns the request event it belongs to: ev itself
// for a request, the stored request for a response, and for an end the
// stored request, which is then forgotten. It returns nil when the request
// was never seen (the tap started mid-request) or was evicted.
func (c *Correlator) Observe(ev *Event) *Event {
	k := KeyOf(ev)
	switch ev.Kind {
	case KindRequest:
		if old, ok := c.open[k]; ok {
			c.unlink(old) // a reused id: the new request wins
		}
		e := &entry{key: k, req: ev}
		c.open[k] = e
		c.push(e)
		for len(c.open) > c.max {
			c.evicted++
			c.unlink(c.head)
		}
		return ev
	case KindResponse:
		if e, ok := c.open[k]; ok {
			return e.req
		}
	case KindEnd:
		if e, ok := c.open[k]; ok {
			c.unlink(e)
			return e.req
		}
	}
	return nil
}

func (c *Correlator) push(e *entry) {
	e.prev = c.tail
	if c.tail != nil {
		c.tail.next = e
	} else {
		c.head = e
	}
	c.tail = e
}

func (c *Correlator) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = nil, nil
	delete(c.open, e.key)
}
