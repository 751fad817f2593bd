package desttest_test

// Conformance of the test destination with the documented behaviour of
// Linkerd's destination service (see README "Test control plane"). Each case
// names the documented rule it pins down.

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/kubectl-profiles/kubectl-profiles/internal/desttest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, testenv.Options{}, &env)) }

const base = `
apiVersion: v1
kind: Namespace
metadata: {name: conf}
---
apiVersion: v1
kind: Namespace
metadata: {name: client}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: conf}
spec:
  ports: [{name: http, port: 80}, {name: alt, port: 8080}]
`

const serverSP = `
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: web.conf.svc.cluster.local, namespace: conf}
spec:
  routes: [{name: server, condition: {pathRegex: /s}}]
`

const clientSP = `
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: web.conf.svc.cluster.local, namespace: client}
spec:
  routes: [{name: client, condition: {pathRegex: /c}}]
`

func start(t *testing.T) pb.DestinationClient {
	t.Helper()
	testenv.SkipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := env.Apply(ctx, base); err != nil {
		t.Fatal(err)
	}
	srv, err := desttest.Start(ctx, env.Clientset, env.Dynamic, "127.0.0.1:0", desttest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewDestinationClient(conn)
}

// first returns the first message within d, or the stream error; nil, nil
// when the server stayed silent.
func first(t *testing.T, c pb.DestinationClient, path, token string, d time.Duration) (*pb.DestinationProfile, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := c.GetProfile(ctx, &pb.GetDestination{Path: path, ContextToken: token})
	if err != nil {
		return nil, err
	}
	type result struct {
		m   *pb.DestinationProfile
		err error
	}
	ch := make(chan result, 1)
	go func() { m, err := stream.Recv(); ch <- result{m, err} }()
	select {
	case r := <-ch:
		return r.m, r.err
	case <-time.After(d):
		return nil, nil
	}
}

func route(m *pb.DestinationProfile) string {
	if len(m.GetRoutes()) == 0 {
		return ""
	}
	return m.GetRoutes()[0].GetMetricsLabels()["route"]
}

func TestPathForms(t *testing.T) {
	c := start(t)
	tests := []struct {
		path string
		code codes.Code // OK = a profile is sent
	}{
		{"web.conf.svc.cluster.local:80", codes.OK},
		{"web.conf.svc.cluster.local", codes.OK}, // §1.3: no port means 80
		{"web.conf.svc.cluster.local:0", codes.InvalidArgument},
		{"web.conf.svc.cluster.local:70000", codes.InvalidArgument},
		{"web.conf.svc.cluster.local.:80", codes.InvalidArgument}, // trailing dot
		{"web.conf.svc:80", codes.InvalidArgument},                // short names
		{"web:80", codes.InvalidArgument},
		{"web.conf.svc.other.domain:80", codes.InvalidArgument},
		{"a.b.web.conf.svc.cluster.local:80", codes.InvalidArgument}, // more than one extra label
		{"nope.conf.svc.cluster.local:80", codes.Unknown},            // §1.3: missing Service is Unknown
	}
	for _, tt := range tests {
		m, err := first(t, c, tt.path, "", 3*time.Second)
		if got := status.Code(err); got != tt.code {
			t.Errorf("%s: code %s (%v), want %s", tt.path, got, err, tt.code)
		}
		if tt.code == codes.OK && m == nil {
			t.Errorf("%s: nothing sent", tt.path)
		}
		if tt.code == codes.Unknown && !strings.Contains(status.Convert(err).Message(), `service "nope" not found`) {
			t.Errorf("%s: message %q", tt.path, status.Convert(err).Message())
		}
	}
}

func TestPortNotOnServiceIsEmptyProfile(t *testing.T) {
	c := start(t)
	m, err := first(t, c, "web.conf.svc.cluster.local:9999", "", 3*time.Second)
	if err != nil || m == nil {
		t.Fatalf("got %v %v", m, err)
	}
	if m.GetFullyQualifiedName() != "" || m.GetRetryBudget() != nil || m.GetParentRef() != nil {
		t.Errorf("§1.3: the profile for a port not on the Service is empty, got %v", m)
	}
}

func TestSelectionAndFallbackOnDelete(t *testing.T) {
	c := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := env.Apply(ctx, serverSP, clientSP); err != nil {
		t.Fatal(err)
	}
	defer env.Delete(ctx, serverSP, clientSP)
	// The informers see the objects eventually; poll instead of sleeping.
	waitFor(t, func() bool {
		m, err := first(t, c, "web.conf.svc.cluster.local:80", `{"ns":"client"}`, 3*time.Second)
		return err == nil && route(m) == "client"
	})

	for _, tok := range []string{`{"ns":"client"}`, "ns:client"} { // §1.2: JSON and legacy tokens
		m, err := first(t, c, "web.conf.svc.cluster.local:80", tok, 3*time.Second)
		if err != nil || route(m) != "client" {
			t.Errorf("token %s: route %q err %v, want the client-namespace profile", tok, route(m), err)
		}
	}
	for _, tok := range []string{"", `{"ns":"conf"}`, "garbage:token:x"} {
		m, err := first(t, c, "web.conf.svc.cluster.local:80", tok, 3*time.Second)
		if err != nil || route(m) != "server" {
			t.Errorf("token %q: route %q err %v, want the service-namespace profile", tok, route(m), err)
		}
	}

	// §2 [verified] sequence on one stream: client SP → server SP → default.
	sctx, scancel := context.WithCancel(context.Background())
	defer scancel()
	stream, err := c.GetProfile(sctx, &pb.GetDestination{Path: "web.conf.svc.cluster.local:80", ContextToken: `{"ns":"client"}`})
	if err != nil {
		t.Fatal(err)
	}
	next := func() *pb.DestinationProfile {
		m, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if got := route(next()); got != "client" {
		t.Fatalf("first = %q", got)
	}
	if err := env.Delete(ctx, clientSP); err != nil {
		t.Fatal(err)
	}
	if got := route(next()); got != "server" {
		t.Fatalf("after deleting the client SP = %q, want server", got)
	}
	if err := env.Delete(ctx, serverSP); err != nil {
		t.Fatal(err)
	}
	if m := next(); len(m.GetRoutes()) != 0 || m.GetRetryBudget().GetRetryRatio() != 0.2 {
		t.Fatalf("after deleting both, want the default profile, got %v", m)
	}
}

func TestSilentOnUntranslatableProfile(t *testing.T) {
	c := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bad := strings.Replace(serverSP, "routes:", "retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 1, ttl: later}\n  routes:", 1)
	if err := env.Apply(ctx, bad); err != nil {
		t.Fatal(err)
	}
	defer env.Delete(ctx, bad)
	// Before the informer sees the object the default profile is sent; once
	// it does, nothing is.
	waitFor(t, func() bool {
		m, err := first(t, c, "web.conf.svc.cluster.local:80", "", 1500*time.Millisecond)
		if err != nil {
			t.Fatalf("§2: a profile that fails translation is not an error: %v", err)
		}
		return m == nil
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 15s")
		}
	}
}
