package desttest_test

// Conformance of the test destination with the documented behaviour of
// Linkerd's destination service (see README "Test control plane"). Each case
// names the documented rule it pins down.

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

// profileJSON is the expected DestinationProfile for svc.conf port 80 with a
// ServiceProfile in namespace conf, in protojson, around the given routes,
// retry budget and overrides (§3.5 refs, §4 translation).
func profileJSON(svc string, port int, routes, budget, dsts string) string {
	return fmt.Sprintf(`{"fullyQualifiedName":"%[1]s.conf.svc.cluster.local","routes":[%[3]s],"retryBudget":%[4]s,"dstOverrides":[%[5]s],
 "parentRef":{"resource":{"group":"core","kind":"Service","name":"%[1]s","namespace":"conf","port":%[2]d}},
 "profileRef":{"resource":{"group":"linkerd.io","kind":"ServiceProfile","name":"%[1]s.conf.svc.cluster.local","namespace":"conf"}}}`,
		svc, port, routes, budget, dsts)
}

const defaultBudget = `{"retryRatio":0.2,"minRetriesPerSecond":10,"ttl":"10s"}`

func wantProfile(t *testing.T, name, want string, got *pb.DestinationProfile) {
	t.Helper()
	var w pb.DestinationProfile
	if err := protojson.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad expectation: %v", name, err)
	}
	if !proto.Equal(&w, got) {
		t.Errorf("%s:\n got %s\nwant %s", name, protojson.Format(got), protojson.Format(&w))
	}
}

func svcManifest(name string, ports string, extra string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: conf%s}\nspec:\n  ports: %s\n", name, extra, ports)
}

func spManifest(svc, spec string) string {
	return fmt.Sprintf("apiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: %s.conf.svc.cluster.local, namespace: conf}\nspec:\n%s", svc, spec)
}

// served polls until a fresh subscription's first message satisfies ok.
func served(t *testing.T, c pb.DestinationClient, path string, ok func(*pb.DestinationProfile) bool) *pb.DestinationProfile {
	t.Helper()
	var m *pb.DestinationProfile
	waitFor(t, func() bool {
		var err error
		m, err = first(t, c, path, "", 3*time.Second)
		return err == nil && m != nil && ok(m)
	})
	return m
}

func hasProfileRef(m *pb.DestinationProfile) bool {
	return m.GetProfileRef().GetResource().GetName() != ""
}

// §3.1: the default profile, exactly.
func TestDefaultProfile(t *testing.T) {
	c := start(t)
	m, err := first(t, c, "web.conf.svc.cluster.local:8080", "", 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	wantProfile(t, "default", `{"fullyQualifiedName":"web.conf.svc.cluster.local",
	 "retryBudget":{"retryRatio":0.2,"minRetriesPerSecond":10,"ttl":"10s"},
	 "parentRef":{"resource":{"group":"core","kind":"Service","name":"web","namespace":"conf","port":8080}},
	 "profileRef":{"resource":{"group":"linkerd.io"}}}`, m)
}

// §4: the translation, field by field.
func TestTranslation(t *testing.T) {
	c := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cases := []struct {
		name, spec, routes, budget, dsts string
	}{
		{
			// Set fields in the order all, any, method, not, pathRegex,
			// wrapped in `all`; an empty list is still set; methods are
			// upper-cased, the nine registered ones become the enum.
			name: "request-order",
			spec: `  routes:
  - name: r
    condition:
      pathRegex: /books/\d+
      method: get
      any: [{method: purge}, {pathRegex: /x}]
      all: []
`,
			routes: `{"condition":{"all":{"matches":[{"all":{}},{"any":{"matches":[{"method":{"unregistered":"PURGE"}},{"path":{"regex":"/x"}}]}},
			  {"method":{"registered":"GET"}},{"path":{"regex":"/books/\\d+"}}]}},"metricsLabels":{"route":"r"}}`,
			budget: defaultBudget,
		},
		{
			// One field alone is not wrapped; pathRegex is verbatim.
			name:   "single-field",
			spec:   "  routes:\n  - {name: only, condition: {pathRegex: '^/a(b'}, isRetryable: true}\n  - {name: m, condition: {method: Delete}}\n",
			routes: `{"condition":{"path":{"regex":"^/a(b"}},"metricsLabels":{"route":"only"},"isRetryable":true},{"condition":{"method":{"registered":"DELETE"}},"metricsLabels":{"route":"m"}}`,
			budget: defaultBudget,
		},
		{
			// Response classes: all, any, status, not; a one-sided and an
			// empty range are accepted.
			name: "response-order",
			spec: `  routes:
  - name: r
    condition: {method: GET}
    responseClasses:
    - condition: {not: {status: {min: 502, max: 502}}, status: {min: 500}, any: [{status: {min: 503, max: 504}}]}
      isFailure: true
    - condition: {status: {}}
`,
			routes: `{"condition":{"method":{"registered":"GET"}},"metricsLabels":{"route":"r"},"responseClasses":[
			  {"condition":{"all":{"matches":[{"any":{"matches":[{"status":{"min":503,"max":504}}]}},{"status":{"min":500}},{"not":{"status":{"min":502,"max":502}}}]}},"isFailure":true},
			  {"condition":{"status":{}}}]}`,
			budget: defaultBudget,
		},
		{
			// Timeouts: parsed as Go durations; one that does not parse is
			// dropped (the profile is still sent); zero is no timeout.
			name: "timeouts",
			spec: `  routes:
  - {name: a, condition: {method: GET}, timeout: 1.5s}
  - {name: b, condition: {method: GET}, timeout: abc}
  - {name: c, condition: {method: GET}, timeout: 0s}
  - {name: d, condition: {method: GET}, timeout: "10"}
`,
			routes: `{"condition":{"method":{"registered":"GET"}},"metricsLabels":{"route":"a"},"timeout":"1.500s"},
			  {"condition":{"method":{"registered":"GET"}},"metricsLabels":{"route":"b"}},
			  {"condition":{"method":{"registered":"GET"}},"metricsLabels":{"route":"c"}},
			  {"condition":{"method":{"registered":"GET"}},"metricsLabels":{"route":"d"}}`,
			budget: defaultBudget,
		},
		{
			// A retry budget replaces the default; ttl 0s is no ttl.
			name:   "budget-zero-ttl",
			spec:   "  routes: []\n  retryBudget: {retryRatio: 0.5, minRetriesPerSecond: 3, ttl: 0s}\n",
			budget: `{"retryRatio":0.5,"minRetriesPerSecond":3}`,
		},
		{
			name:   "budget",
			spec:   "  routes: []\n  retryBudget: {retryRatio: 1.5, minRetriesPerSecond: 0, ttl: 1m30s}\n",
			budget: `{"retryRatio":1.5,"ttl":"90s"}`,
		},
		{
			// Weights in decimillis (1 -> 10000); an authority without a
			// port gets the requested one; weight 0 passes.
			name: "overrides",
			spec: `  routes: []
  dstOverrides:
  - {authority: v2.conf.svc.cluster.local:8080, weight: 500m}
  - {authority: v1, weight: 1}
  - {authority: v0, weight: 0}
  - {authority: "::1", weight: 100}
`,
			budget: defaultBudget,
			dsts:   `{"authority":"v2.conf.svc.cluster.local:8080","weight":5000},{"authority":"v1:80","weight":10000},{"authority":"v0:80"},{"authority":"[::1]:80","weight":1000000}`,
		},
	}
	for i, tc := range cases {
		svc := fmt.Sprintf("tr%d", i)
		if err := env.Apply(ctx, svcManifest(svc, "[{port: 80}]", ""), spManifest(svc, tc.spec)); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	for i, tc := range cases {
		svc := fmt.Sprintf("tr%d", i)
		m := served(t, c, svc+".conf.svc.cluster.local:80", hasProfileRef)
		wantProfile(t, tc.name, profileJSON(svc, 80, tc.routes, tc.budget, tc.dsts), m)
	}
}

// §4: profiles the translator fails on are never sent (the stream stays
// open and silent); their near misses are served.
func TestUnservable(t *testing.T) {
	c := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cases := []struct {
		name, spec string
		served     bool
	}{
		{"empty condition", "  routes: [{name: r, condition: {}}]\n", false},
		{"empty child of all", "  routes: [{name: r, condition: {all: [{}]}}]\n", false},
		{"empty child of any", "  routes: [{name: r, condition: {method: GET, any: [{pathRegex: /a}, {}]}}]\n", false},
		{"empty response condition", "  routes: [{name: r, condition: {method: GET}, responseClasses: [{condition: {}}]}]\n", false},
		{"empty response not", "  routes: [{name: r, condition: {method: GET}, responseClasses: [{condition: {not: {}}}]}]\n", false},
		{"status min above 599", "  routes: [{name: r, condition: {method: GET}, responseClasses: [{condition: {status: {min: 600}}}]}]\n", false},
		{"status max below 100", "  routes: [{name: r, condition: {method: GET}, responseClasses: [{condition: {status: {max: 99}}}]}]\n", false},
		{"status max below min", "  routes: [{name: r, condition: {method: GET}, responseClasses: [{condition: {status: {min: 500, max: 400}}}]}]\n", false},
		{"empty ttl", "  routes: []\n  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 1, ttl: \"\"}\n", false},
		// near misses
		{"empty all list", "  routes: [{name: r, condition: {all: []}}]\n", true},
		{"status max only", "  routes: [{name: r, condition: {method: GET}, responseClasses: [{condition: {status: {max: 599}}}]}]\n", true},
		{"status 599..599", "  routes: [{name: r, condition: {method: GET}, responseClasses: [{condition: {status: {min: 599, max: 599}}}]}]\n", true},
		{"negative ratio", "  routes: []\n  retryBudget: {retryRatio: -1, minRetriesPerSecond: 1, ttl: 1s}\n", true},
	}
	for i, tc := range cases {
		svc := fmt.Sprintf("un%d", i)
		if err := env.Apply(ctx, svcManifest(svc, "[{port: 80}]", ""), spManifest(svc, tc.spec)); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	for i, tc := range cases {
		path := fmt.Sprintf("un%d.conf.svc.cluster.local:80", i)
		if tc.served {
			served(t, c, path, hasProfileRef)
			continue
		}
		// Before the informer sees the object the default profile is sent;
		// once it does, nothing is.
		waitFor(t, func() bool {
			m, err := first(t, c, path, "", time.Second)
			if err != nil {
				t.Fatalf("%s: not an error: %v", tc.name, err)
			}
			return m == nil
		})
	}
}

// §5.3: a ServiceProfile the controller's Go type cannot decode (a list under
// a request `not`, as the CRD allows) is not used: the default profile is
// served.
func TestUndecodableProfileIsIgnored(t *testing.T) {
	c := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := env.Apply(ctx, svcManifest("nd", "[{port: 80}]", ""), spManifest("nd", "  routes: [{name: r, condition: {not: [{method: GET}]}}]\n")); err != nil {
		t.Fatal(err)
	}
	if err := env.Apply(ctx, svcManifest("nd2", "[{port: 80}]", ""), spManifest("nd2", "  routes: [{name: r, condition: {method: GET}}]\n")); err != nil {
		t.Fatal(err)
	}
	// Once the later object is served, the informer has seen both.
	served(t, c, "nd2.conf.svc.cluster.local:80", hasProfileRef)
	m, err := first(t, c, "nd.conf.svc.cluster.local:80", "", 3*time.Second)
	if err != nil || m == nil || hasProfileRef(m) || len(m.GetRoutes()) != 0 {
		t.Errorf("got %v %v, want the default profile", m, err)
	}
}

// §1.3: the port check comes before the ExternalName check.
func TestExternalName(t *testing.T) {
	c := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ext := "apiVersion: v1\nkind: Service\nmetadata: {name: ext, namespace: conf}\nspec: {type: ExternalName, externalName: example.com, ports: [{port: 80}]}\n"
	if err := env.Apply(ctx, ext); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		_, err := first(t, c, "ext.conf.svc.cluster.local:80", "", 3*time.Second)
		return status.Code(err) == codes.InvalidArgument
	})
	m, err := first(t, c, "ext.conf.svc.cluster.local:81", "", 3*time.Second)
	if err != nil || m == nil || m.GetFullyQualifiedName() != "" {
		t.Errorf("port not on an ExternalName Service: got %v %v, want one empty profile", m, err)
	}
}

// §1.3: a ClusterIP lookup is a lookup of its Service, with the FQN filled in.
func TestClusterIPLookup(t *testing.T) {
	c := start(t)
	svc, err := env.Clientset.CoreV1().Services("conf").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := first(t, c, net.JoinHostPort(svc.Spec.ClusterIP, "8080"), "", 3*time.Second)
	if err != nil || m.GetFullyQualifiedName() != "web.conf.svc.cluster.local" || m.GetParentRef().GetResource().GetPort() != 8080 {
		t.Errorf("got %v %v", m, err)
	}
}

// §3.2: opaque_protocol follows the Service's annotation (ports, ranges,
// names of the Service's ports), else the default opaque ports; a change of
// the annotation is sent on an open stream.
func TestOpaquePorts(t *testing.T) {
	c := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ports := "[{name: http, port: 80}, {name: db, port: 3306}, {name: admin, port: 7000}, {name: x, port: 8081}]"
	if err := env.Apply(ctx,
		svcManifest("op-default", ports, ""),
		svcManifest("op-annotated", ports, ", annotations: {config.linkerd.io/opaque-ports: 'admin, 8080-8081'}"),
		svcManifest("op-empty", ports, ", annotations: {config.linkerd.io/opaque-ports: ''}"),
	); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"op-default", "op-annotated", "op-empty"} {
		knownService(t, c, svc)
	}
	want := map[string]map[string]bool{
		"op-default":   {"80": false, "3306": true, "7000": false, "8081": false},
		"op-annotated": {"80": false, "3306": false, "7000": true, "8081": true},
		"op-empty":     {"80": false, "3306": false, "7000": false, "8081": false},
	}
	for svc, byPort := range want {
		// The watcher forgets a Service's annotation when its last
		// subscriber leaves (see TestOpaquePortsAfterResubscription): hold
		// one subscription to the Service while asking about its ports.
		hctx, hcancel := context.WithCancel(ctx)
		hold, err := c.GetProfile(hctx, &pb.GetDestination{Path: svc + ".conf.svc.cluster.local:80"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hold.Recv(); err != nil {
			t.Fatal(err)
		}
		for port, opaque := range byPort {
			path := svc + ".conf.svc.cluster.local:" + port
			m, err := first(t, c, path, "", 3*time.Second)
			if err != nil || m == nil {
				t.Fatalf("%s: %v %v", path, m, err)
			}
			if m.GetOpaqueProtocol() != opaque {
				t.Errorf("%s: opaqueProtocol %v, want %v", path, m.GetOpaqueProtocol(), opaque)
			}
		}
		hcancel()
	}

	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	stream, err := c.GetProfile(sctx, &pb.GetDestination{Path: "op-annotated.conf.svc.cluster.local:80"})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := stream.Recv(); err != nil || m.GetOpaqueProtocol() {
		t.Fatalf("first: %v %v", m, err)
	}
	if err := env.Apply(ctx, svcManifest("op-annotated", ports, ", annotations: {config.linkerd.io/opaque-ports: 'http'}")); err != nil {
		t.Fatal(err)
	}
	if m, err := stream.Recv(); err != nil || !m.GetOpaqueProtocol() {
		t.Fatalf("after annotating port 80: %v %v", m, err)
	}
}

// §3.2 (upstream opaque_ports_watcher.go): the watcher drops a Service's
// entry with its last subscriber. The next subscription creates an entry
// holding the DEFAULT opaque ports and is told nothing (opaqueProtocol
// false); a second concurrent subscription is told the entry's defaults.
func TestOpaquePortsAfterResubscription(t *testing.T) {
	c := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := env.Apply(ctx, svcManifest("resub", "[{name: db, port: 3306}, {name: web, port: 80}]", ", annotations: {config.linkerd.io/opaque-ports: '80'}")); err != nil {
		t.Fatal(err)
	}
	knownService(t, c, "resub")
	// The first subscription sees the annotation: 80 opaque.
	m, err := first(t, c, "resub.conf.svc.cluster.local:80", "", 3*time.Second)
	if err != nil || !m.GetOpaqueProtocol() {
		t.Fatalf("first subscription: %v %v", m, err)
	}
	// Hold one subscription open once the entry is gone.
	var holdCancel context.CancelFunc
	defer func() {
		if holdCancel != nil {
			holdCancel()
		}
	}()
	waitFor(t, func() bool {
		sctx, scancel := context.WithCancel(ctx)
		s, err := c.GetProfile(sctx, &pb.GetDestination{Path: "resub.conf.svc.cluster.local:80"})
		if err == nil {
			if m, err := s.Recv(); err == nil && !m.GetOpaqueProtocol() {
				holdCancel = scancel
				return true
			}
		}
		scancel()
		return false
	})
	// While it is open, the entry holds the defaults: 3306 opaque, 80 not,
	// although the annotation says the opposite.
	m3306, err := first(t, c, "resub.conf.svc.cluster.local:3306", "", 3*time.Second)
	if err != nil || !m3306.GetOpaqueProtocol() {
		t.Errorf("3306 during the held subscription: %v %v, want opaque (defaults)", m3306, err)
	}
	m80, err := first(t, c, "resub.conf.svc.cluster.local:80", "", 3*time.Second)
	if err != nil || m80.GetOpaqueProtocol() {
		t.Errorf("80 during the held subscription: %v %v, want not opaque (defaults)", m80, err)
	}
}

// knownService waits until the server knows svc, without subscribing to it
// (a port not on the Service gets an empty profile and touches no watcher).
func knownService(t *testing.T, c pb.DestinationClient, svc string) {
	t.Helper()
	waitFor(t, func() bool {
		m, err := first(t, c, svc+".conf.svc.cluster.local:1", "", 3*time.Second)
		return err == nil && m != nil
	})
}
