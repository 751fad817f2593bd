//go:build !linux

package metricstest

import (
	"net"
	"testing"
)

// Netns needs Linux network namespaces.
type Netns struct{ Name string }

// NewNetns fails the test: network namespaces are Linux-only.
func NewNetns(t testing.TB) *Netns {
	t.Helper()
	t.Fatalf("metricstest: the end-to-end tests need a Linux network namespace (root, iproute2); run them on Linux as CI does")
	return nil
}

// NewAddr is unreachable (NewNetns fails).
func (ns *Netns) NewAddr(t testing.TB) string { t.Helper(); t.FailNow(); return "" }

// Listen is unreachable (NewNetns fails).
func (ns *Netns) Listen(addr string) (net.Listener, error) { return nil, net.ErrClosed }

// Serve is unreachable (NewNetns fails).
func (ns *Netns) Serve(t testing.TB, s *Server, addr string, port int) { t.Helper(); t.FailNow() }
