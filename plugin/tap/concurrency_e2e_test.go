package tap_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/kubectl-profiles/kubectl-profiles/internal/clitest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/desttest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/testenv"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapcapture"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// countingProxy forwards GetProfile to the test destination and records
// the most lookups it ever had in flight at once. A lookup counts while its
// stream is open: the client cancels a stream (RST_STREAM) before it opens
// the next one on the same connection, and the server cancels the stream's
// context when it reads that frame, so a finished lookup never overlaps the
// next one here.
type countingProxy struct {
	pb.UnimplementedDestinationServer
	up pb.DestinationClient

	mu         sync.Mutex
	open       map[context.Context]bool
	max, total int
}

func (p *countingProxy) GetProfile(req *pb.GetDestination, stream pb.Destination_GetProfileServer) error {
	ctx := stream.Context()
	p.mu.Lock()
	n := 1
	for c := range p.open {
		if c.Err() == nil {
			n++
		}
	}
	p.open[ctx] = true
	p.total++
	p.max = max(p.max, n)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.open, ctx)
		p.mu.Unlock()
	}()
	up, err := p.up.GetProfile(ctx, req)
	if err != nil {
		return err
	}
	for {
		m, err := up.Recv()
		if err != nil {
			return err
		}
		if err := stream.Send(m); err != nil {
			return err
		}
	}
}

func (p *countingProxy) stats() (max, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m, t := p.max, p.total
	p.max, p.total = 0, 0
	return m, t
}

// A capture naming 40 Services whose profiles the destination cannot
// translate (so it stays silent, as the real one does): the lookups run
// concurrently, at most --concurrency at a time, counted at the server, and
// the output keeps the capture's order. Before, they ran one after the
// other (40 x --timeout).
func TestFileLookupsRunConcurrently(t *testing.T) {
	testenv.SkipIfShort(t)
	const services, concurrency = 40, 8
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	manifests := []string{"apiVersion: v1\nkind: Namespace\nmetadata: {name: silent}\n"}
	for i := 0; i < services; i++ {
		manifests = append(manifests, fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: svc%[1]d, namespace: silent}
spec: {ports: [{port: 80}]}
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: svc%[1]d.silent.svc.cluster.local, namespace: silent}
spec:
  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 1, ttl: later}
  routes: [{name: r, condition: {pathRegex: /}}]
`, i))
	}
	if err := env.Apply(ctx, manifests...); err != nil {
		t.Fatal(err)
	}
	dest, err := desttest.Start(ctx, env.Clientset, env.Dynamic, "127.0.0.1:0", desttest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dest.Stop()
	conn, err := grpc.NewClient(dest.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Wait until the test destination has seen the last profile (the
	// informer delivers them in order): it is silent for it.
	for silent := false; !silent; {
		lctx, lcancel := context.WithTimeout(ctx, time.Second)
		stream, err := pb.NewDestinationClient(conn).GetProfile(lctx, &pb.GetDestination{
			Path: fmt.Sprintf("svc%d.silent.svc.cluster.local:80", services-1), ContextToken: `{"ns":"silent"}`})
		if err == nil {
			_, err = stream.Recv()
		}
		silent = lctx.Err() != nil
		lcancel()
		if ctx.Err() != nil {
			t.Fatalf("the test destination never went silent: %v", err)
		}
	}

	proxy := &countingProxy{up: pb.NewDestinationClient(conn), open: map[context.Context]bool{}}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	pb.RegisterDestinationServer(gs, proxy)
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()

	// Inbound requests to each Service (a full name, as the server-side
	// proxy discovers it), each with its response.
	var b []byte
	for i := 0; i < services; i++ {
		req := tapclient.Event{Direction: tapclient.DirectionInbound, Kind: tapclient.KindRequest,
			ID:          tapclient.StreamID{Base: 1, Stream: uint64(i)},
			Source:      tapclient.Endpoint{IP: netip.MustParseAddr("10.42.0.20"), Port: 51000},
			Destination: tapclient.Endpoint{IP: netip.MustParseAddr("10.42.0.12"), Port: 80, Labels: map[string]string{"namespace": "silent"}},
			Method:      "GET", Authority: fmt.Sprintf("svc%d.silent.svc.cluster.local", i), Path: "/x"}
		rsp := req
		rsp.Kind, rsp.HTTPStatus = tapclient.KindResponse, 200
		for _, ev := range []*tapclient.Event{&req, &rsp} {
			if b, err = tapcapture.AppendEvent(b, ev, "", nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	capture := filepath.Join(t.TempDir(), "capture.json")
	if err := os.WriteFile(capture, b, 0o644); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--file", capture, "--kubeconfig", env.Kubeconfig, "--destination-addr", lis.Addr().String(),
		"--timeout", "1s", "--concurrency", fmt.Sprint(concurrency)}

	var start time.Time
	check := func(cmd string) {
		t.Helper()
		elapsed := time.Since(start) // logged only: speed is not asserted
		max, total := proxy.stats()
		if total != services {
			t.Errorf("%s: %d lookups, want %d", cmd, total, services)
		}
		if max < 2 || max > concurrency {
			t.Errorf("%s: at most %d lookups in flight at once, want 2..%d (concurrent, bounded)", cmd, max, concurrency)
		}
		t.Logf("%s: %d lookups, at most %d at once, %s", cmd, total, max, elapsed.Round(100*time.Millisecond))
	}

	start = time.Now()
	out, errOut, code := clitest.Run("", append([]string{"tap"}, flags...)...)
	if code != 0 {
		t.Fatalf("tap: exit %d\n%s", code, errOut)
	}
	check("tap")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2*services+1 {
		t.Fatalf("tap: %d lines, want %d\n%s", len(lines), 2*services+1, out)
	}
	for i := 0; i < services; i++ { // the capture's order
		for j, kind := range []string{"req", "rsp"} {
			if l := lines[2*i+j]; !strings.HasPrefix(l, fmt.Sprintf("%s id=1:%d ", kind, i)) || !strings.HasSuffix(l, " rt_route=?") {
				t.Fatalf("tap line %d: %q", 2*i+j, l)
			}
		}
	}
	concl := fmt.Sprintf("%d of %d requests could not be classified: profile lookup silent: %d (rt_route=?)", services, services, services)
	if lines[2*services] != "# "+concl || !strings.Contains(errOut, concl) {
		t.Errorf("tap conclusion: %q\nstderr:\n%s", lines[2*services], errOut)
	}

	start = time.Now()
	_, errOut, code = clitest.Run("", append([]string{"unmatched"}, flags...)...)
	check("unmatched")
	if code != 1 || !strings.Contains(errOut, fmt.Sprintf("error: none of the %d requests could be classified (profile lookup silent: %d)", services, services)) {
		t.Errorf("unmatched: exit %d\n%s", code, errOut)
	}
}
