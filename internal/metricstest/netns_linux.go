package metricstest

import (
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Netns is a network namespace joined to the test's namespace by a veth
// pair: the host end has .1 of a /28 in 10.250.0.0/16, the namespace end
// the other addresses, which exist only on this machine. The API server
// (in the host namespace) reaches them through the veth; it refuses to
// proxy to loopback addresses, which is why tests need this.
type Netns struct {
	Name   string
	Host   string // the host end's address
	prefix string // "10.250.N."
	next   int
	fd     int
	nsIf   string
}

// NewNetns creates the namespace (root needed, as in CI) and removes it when
// the test ends. It fails the test, with what to do, when it cannot.
func NewNetns(t testing.TB) *Netns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("metricstest: creating a network namespace needs root (CI runs as root): run the end-to-end tests as root, e.g. sudo -E go test ./plugin/routes/")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatalf("metricstest: the `ip` command (iproute2) is needed to create a network namespace: install iproute2")
	}
	var b [2]byte
	_, _ = rand.Read(b[:])
	id := fmt.Sprintf("%02x%02x", b[0], b[1])
	subnet := -1
	routes, _ := exec.Command("ip", "-4", "route", "show").CombinedOutput()
	for i := 0; i < 256; i++ {
		n := (int(b[0]) + i) % 256
		if !strings.Contains(string(routes), fmt.Sprintf("10.250.%d.", n)) {
			subnet = n
			break
		}
	}
	if subnet < 0 {
		t.Fatalf("metricstest: no free 10.250.N.0/28 subnet for the test network namespace")
	}
	ns := &Netns{Name: "kp-routes-" + id, prefix: fmt.Sprintf("10.250.%d.", subnet), next: 2, fd: -1}
	ns.Host = ns.prefix + "1"
	hostIf, nsIf := "kpr"+id+"h", "kpr"+id+"n"
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("metricstest: cannot set up the test network namespace: ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	run("netns", "add", ns.Name)
	t.Cleanup(func() {
		if ns.fd >= 0 {
			_ = unix.Close(ns.fd)
		}
		// Deleting the namespace also deletes the veth pair.
		if out, err := exec.Command("ip", "netns", "del", ns.Name).CombinedOutput(); err != nil {
			t.Errorf("metricstest: cannot remove network namespace %s: %v: %s", ns.Name, err, out)
		}
		_ = exec.Command("ip", "link", "del", hostIf).Run()
	})
	run("link", "add", hostIf, "type", "veth", "peer", "name", nsIf)
	run("link", "set", nsIf, "netns", ns.Name)
	run("addr", "add", ns.Host+"/28", "dev", hostIf)
	run("link", "set", hostIf, "up")
	run("netns", "exec", ns.Name, "ip", "link", "set", "lo", "up")
	run("netns", "exec", ns.Name, "ip", "link", "set", nsIf, "up")
	ns.nsIf = nsIf
	fd, err := unix.Open("/run/netns/"+ns.Name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("metricstest: cannot open network namespace %s: %v", ns.Name, err)
	}
	ns.fd = fd
	return ns
}

// NewAddr adds one more address inside the namespace (at most 13) and
// returns it, e.g. for one more pod IP.
func (ns *Netns) NewAddr(t testing.TB) string {
	t.Helper()
	if ns.next > 14 {
		t.Fatalf("metricstest: no more addresses in %s0/28", ns.prefix)
	}
	addr := fmt.Sprintf("%s%d", ns.prefix, ns.next)
	ns.next++
	if out, err := exec.Command("ip", "netns", "exec", ns.Name, "ip", "addr", "add", addr+"/28", "dev", ns.nsIf).CombinedOutput(); err != nil {
		t.Fatalf("metricstest: cannot add %s in network namespace %s: %v: %s", addr, ns.Name, err, out)
	}
	return addr
}

// Listen opens a TCP listener on addr inside the namespace. The socket
// stays in the namespace; it can be served from any goroutine.
func (ns *Netns) Listen(addr string) (net.Listener, error) {
	type result struct {
		l   net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// A thread that entered another namespace must not run other
		// goroutines: it is unlocked only once back in the original one,
		// otherwise it stays locked and dies with this goroutine.
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("cannot open this thread's network namespace: %v", err)}
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(ns.fd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("cannot enter network namespace %s: %v", ns.Name, err)}
			return
		}
		l, lerr := net.Listen("tcp", addr)
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			ch <- result{l: l, err: lerr}
			return // thread stays locked: it exits with the goroutine
		}
		runtime.UnlockOSThread()
		ch <- result{l: l, err: lerr}
	}()
	r := <-ch
	return r.l, r.err
}

// Serve starts s on addr:port inside the namespace and stops it when the
// test ends.
func (ns *Netns) Serve(t testing.TB, s *Server, addr string, port int) {
	t.Helper()
	l, err := ns.Listen(fmt.Sprintf("%s:%d", addr, port))
	if err != nil {
		t.Fatalf("metricstest: cannot listen on %s:%d in %s: %v", addr, port, ns.Name, err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close(); _ = l.Close() })
}
