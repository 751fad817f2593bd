package tapclient

import (
	"net/netip"
	"testing"
)

// Len is the number of open requests (for tests: the binary never asks).
func (c *Correlator) Len() int { return len(c.open) }

// Evicted counts requests dropped to respect the bound.
func (c *Correlator) Evicted() uint64 { return c.evicted }

func ev(dir Direction, kind Kind, ip string, base uint32, stream uint64) *Event {
	e := &Event{Direction: dir, Kind: kind, ID: StreamID{base, stream}, TappedIP: netip.MustParseAddr(ip)}
	return e
}

func TestCorrelator(t *testing.T) {
	c := NewCorrelator(10)
	reqA := ev(DirectionInbound, KindRequest, "10.0.0.1", 1, 0)
	reqB := ev(DirectionInbound, KindRequest, "10.0.0.2", 1, 0)  // same id, other pod
	reqC := ev(DirectionOutbound, KindRequest, "10.0.0.1", 1, 0) // same id and pod, other direction
	for _, r := range []*Event{reqA, reqB, reqC} {
		if got := c.Observe(r); got != r {
			t.Fatalf("request returns itself, got %v", got)
		}
	}
	if got := c.Observe(ev(DirectionInbound, KindResponse, "10.0.0.2", 1, 0)); got != reqB {
		t.Fatalf("response matched %+v, want reqB", got)
	}
	if got := c.Observe(ev(DirectionOutbound, KindEnd, "10.0.0.1", 1, 0)); got != reqC {
		t.Fatalf("end matched %+v, want reqC", got)
	}
	if got := c.Observe(ev(DirectionOutbound, KindEnd, "10.0.0.1", 1, 0)); got != nil {
		t.Fatalf("second end matched %+v", got)
	}
	if got := c.Observe(ev(DirectionInbound, KindEnd, "10.0.0.9", 1, 0)); got != nil {
		t.Fatal("end of an unseen request matched")
	}
	if c.Len() != 2 {
		t.Fatalf("open = %d, want 2", c.Len())
	}
}

func TestCorrelatorBounded(t *testing.T) {
	c := NewCorrelator(3)
	for i := uint64(0); i < 5; i++ {
		c.Observe(ev(DirectionInbound, KindRequest, "10.0.0.1", 1, i))
	}
	if c.Len() != 3 || c.Evicted() != 2 {
		t.Fatalf("len %d evicted %d", c.Len(), c.Evicted())
	}
	// The two oldest were evicted; the newest three remain.
	for i := uint64(0); i < 5; i++ {
		got := c.Observe(ev(DirectionInbound, KindEnd, "10.0.0.1", 1, i))
		if (got != nil) != (i >= 2) {
			t.Fatalf("stream %d: matched=%v", i, got != nil)
		}
	}
	if c.Len() != 0 {
		t.Fatalf("len %d after ends", c.Len())
	}
	// A reused id replaces the old request without growing.
	c.Observe(ev(DirectionInbound, KindRequest, "10.0.0.1", 1, 0))
	r2 := ev(DirectionInbound, KindRequest, "10.0.0.1", 1, 0)
	c.Observe(r2)
	if c.Len() != 1 || c.Observe(ev(DirectionInbound, KindResponse, "10.0.0.1", 1, 0)) != r2 {
		t.Fatal("reused id not replaced")
	}
	if NewCorrelator(0).max != DefaultMaxOpen {
		t.Fatal("default bound")
	}
}
