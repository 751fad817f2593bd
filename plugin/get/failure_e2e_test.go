package get_test

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"google.golang.org/grpc"
	grpccodes "google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// misbehaving is a destination that answers GetProfile with faults: an
// error status, a stream closed without a message, or dying mid-run.
type misbehaving struct {
	pb.UnimplementedDestinationServer
	srv    *grpc.Server
	answer func(path string, d *misbehaving) error // nil error: close the stream with OK, no message
	once   sync.Once
}

func (d *misbehaving) GetProfile(req *pb.GetDestination, stream pb.Destination_GetProfileServer) error {
	return d.answer(req.GetPath(), d)
}

// die stops the server: every open stream and the connection go away.
func (d *misbehaving) die() { d.once.Do(func() { go d.srv.Stop() }) }

func startMisbehaving(t *testing.T, answer func(path string, d *misbehaving) error) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &misbehaving{srv: grpc.NewServer(), answer: answer}
	pb.RegisterDestinationServer(d.srv, d)
	go func() { _ = d.srv.Serve(lis) }()
	t.Cleanup(d.srv.Stop)
	return lis.Addr().String()
}

// A failed lookup never looks like success: an error finding on its port,
// no route "ok", one stderr line, exit 4 — for get and for audits.
func TestFailedLookupsAreNotSuccess(t *testing.T) {
	setup(t)
	faults := map[string]func(string, *misbehaving) error{
		"unavailable":   func(string, *misbehaving) error { return status.Error(grpccodes.Unavailable, "overloaded") },
		"internal":      func(string, *misbehaving) error { return status.Error(grpccodes.Internal, "boom") },
		"closed stream": func(string, *misbehaving) error { return nil },
		"dies mid-run": func(_ string, d *misbehaving) error {
			d.die()
			time.Sleep(time.Second) // held open until the server dies
			return nil
		},
	}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			addr := startMisbehaving(t, fault)
			out, errOut, code := run(t, "get", "--destination-addr", addr, "--timeout", "3s", "svc/webapp", "-n", "books")
			if code != 4 {
				t.Fatalf("exit %d, want 4: %s", code, errOut)
			}
			if !strings.Contains(out, "lookup-failed") || !strings.Contains(out, "LOOKUP        failed: ") {
				t.Errorf("report does not say the lookup failed:\n%s", out)
			}
			for _, line := range strings.Split(out, "\n") {
				if strings.HasSuffix(strings.TrimSpace(line), " ok") {
					t.Errorf("a route is ok although nothing was served: %q", line)
				}
			}
			if !strings.HasPrefix(errOut, "error: 2 of 2 lookups failed") || strings.Count(errOut, "\n") != 1 {
				t.Errorf("stderr = %q", errOut)
			}
			if name == "dies mid-run" {
				return // the connection is gone for the audit too
			}
			table, errOut, code := run(t, "get", "--destination-addr", addr, "--timeout", "3s", "-n", "books")
			if code != 4 || !strings.Contains(errOut, " failed\n") || !strings.Contains(errOut, "error: ") {
				t.Errorf("audit: exit %d stderr %q", code, errOut)
			}
			for _, line := range strings.Split(strings.TrimSpace(table), "\n")[1:] {
				if strings.Contains(line, "failed") && strings.HasSuffix(strings.TrimSpace(line), " -") {
					t.Errorf("a failed lookup without findings: %q", line)
				}
			}
		})
	}
}

// Ctrl-C during get svc/x: no report, exit 130.
func TestInterruptedGet(t *testing.T) {
	setup(t)
	addr := startMisbehaving(t, func(string, *misbehaving) error {
		_ = syscall.Kill(syscall.Getpid(), syscall.SIGINT) // the user presses Ctrl-C while the lookup hangs
		time.Sleep(5 * time.Second)
		return nil
	})
	out, errOut, code := run(t, "get", "--destination-addr", addr, "--timeout", "10s", "svc/plain", "-n", "books")
	if code != 130 || out != "" || !strings.Contains(errOut, "interrupted") {
		t.Errorf("exit %d stdout %q stderr %q", code, out, errOut)
	}
}

const edgeFixtures = `
apiVersion: v1
kind: Namespace
metadata: {name: edge}
---
apiVersion: v1
kind: Service
metadata: {name: extnoports, namespace: edge}
spec: {type: ExternalName, externalName: example.invalid}
---
apiVersion: v1
kind: Service
metadata: {name: headless, namespace: edge}
spec: {clusterIP: None, selector: {app: x}}
---
apiVersion: v1
kind: Service
metadata: {name: dns, namespace: edge}
spec:
  ports:
  - {name: dns-tcp, port: 53, protocol: TCP}
  - {name: dns-udp, port: 53, protocol: UDP}
  - {name: mdns, port: 5353, protocol: UDP}
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: dns.edge.svc.cluster.local, namespace: edge}
spec:
  routes: [{name: r, condition: {pathRegex: /r}}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: extnoports.edge.svc.cluster.local, namespace: edge}
spec:
  routes: [{name: r, condition: {pathRegex: /r}}]
`

// Services without ports and non-TCP ports are said, not dropped; a port on
// TCP and UDP is looked up once.
func TestWhatIsNotLookedUpEndToEnd(t *testing.T) {
	setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := env.Apply(ctx, edgeFixtures); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := get(t, "svc/dns", "svc/extnoports", "svc/headless", "-n", "edge")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "not-looked-up", out)
	js, _, _ := get(t, "svc/headless", "-n", "edge", "-o", "json")
	var r struct {
		Ports       []json.RawMessage
		NotLookedUp []struct{ Reason string }
	}
	if err := json.Unmarshal([]byte(js), &r); err != nil || r.Ports == nil || len(r.NotLookedUp) != 1 || !strings.Contains(js, `"ports": []`) {
		t.Errorf("headless JSON: %v\n%s", err, js)
	}
	table, errOut, code := get(t, "-n", "edge", "--all-services")
	if code != 0 {
		t.Fatalf("audit exit %d: %s", code, errOut)
	}
	golden(t, "not-looked-up-audit", table)
	if !strings.Contains(errOut, "3 not looked up") {
		t.Errorf("summary = %q", errOut)
	}
}

// An audit looks up as --from-namespace (and --from) when given.
func TestAuditFromNamespace(t *testing.T) {
	setup(t)
	out, errOut, code := get(t, "-n", "books", "--from-namespace", "foobar", "--from", "deploy/traffic", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var reports []jsonReport
	if err := json.Unmarshal([]byte(out), &reports); err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if r.Client.Namespace != "foobar" || r.Client.Pod != "traffic-5d9c7b-x2x4q" {
			t.Errorf("%s: client %+v", r.Service.Name, r.Client)
		}
		if r.Service.Name == "webapp" && r.Ports[0].InEffect.Source != "client-namespace" {
			t.Errorf("webapp from foobar: %+v", r.Ports[0].InEffect)
		}
	}
	_, errOut, code = get(t, "-n", "books", "--from", "deploy/traffic")
	if code != 2 || !strings.Contains(errOut, "--from in an audit needs --from-namespace") {
		t.Errorf("--from alone in an audit: exit %d %q", code, errOut)
	}
}

// A --cluster-domain other than the control plane's is said once, with the
// fix, and the correctly named profile is not called a near miss.
func TestClusterDomainMismatchEndToEnd(t *testing.T) {
	setup(t)
	out, errOut, code := get(t, "svc/webapp", "-n", "books", "--cluster-domain", "example.org")
	if code != 4 || !strings.Contains(errOut, "run again with --cluster-domain cluster.local") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d stderr %q", code, errOut)
	}
	if strings.Contains(out, "name-near-miss") || strings.Contains(out, "rename") {
		t.Errorf("advises renaming a correct profile:\n%s", out)
	}
}

func TestTimeoutIsNamed(t *testing.T) {
	setup(t)
	_, errOut, code := run(t, "get", "--destination-addr", dest.Addr(), "--timeout", "1ns", "svc/webapp", "-n", "books")
	if code != 1 || !strings.Contains(errOut, "--timeout 1ns") {
		t.Errorf("exit %d stderr %q", code, errOut)
	}
}
