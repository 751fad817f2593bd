package policytest_test

import (
	"context"
	"encoding/binary"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	lnet "github.com/linkerd/linkerd2-proxy-api/go/net"
	pb "github.com/linkerd/linkerd2-proxy-api/go/outbound"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-profiles/kubectl-profiles/internal/policytest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	os.Exit(testenv.Run(m, testenv.Options{ExtraCRDs: policytest.CRDs()}, &env))
}

const conf = `
apiVersion: v1
kind: Namespace
metadata: {name: pconf}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: pconf}
spec:
  ports: [{name: http, port: 80}]
`

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// start applies the manifests and returns a client of a fresh server.
func start(t *testing.T, opts policytest.Options, manifests ...string) pb.OutboundPoliciesClient {
	t.Helper()
	testenv.SkipIfShort(t)
	if err := env.Apply(ctxFor(t), manifests...); err != nil {
		t.Fatal(err)
	}
	srv, err := policytest.Start(env.Clientset, env.Dynamic, "127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewOutboundPoliciesClient(conn)
}

func addr(ip string, port uint32) *pb.TrafficSpec_Addr {
	a := netip.MustParseAddr(ip)
	if a.Is4() {
		b := a.As4()
		return &pb.TrafficSpec_Addr{Addr: &lnet.TcpAddress{Ip: &lnet.IPAddress{Ip: &lnet.IPAddress_Ipv4{Ipv4: binary.BigEndian.Uint32(b[:])}}, Port: port}}
	}
	b := a.As16()
	return &pb.TrafficSpec_Addr{Addr: &lnet.TcpAddress{Ip: &lnet.IPAddress{Ip: &lnet.IPAddress_Ipv6{Ipv6: &lnet.IPv6{First: binary.BigEndian.Uint64(b[:8]), Last: binary.BigEndian.Uint64(b[8:])}}}, Port: port}}
}

func clusterIP(t *testing.T, ns, name string) string {
	s, err := env.Clientset.CoreV1().Services(ns).Get(ctxFor(t), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s.Spec.ClusterIP
}

const okWorkload = `{"ns":"pconf","pod":"p"}`

// Reference §2.1: workload forms and the required target.
func TestWorkloadAndTarget(t *testing.T) {
	c := start(t, policytest.Options{}, conf)
	auth := &pb.TrafficSpec_Authority{Authority: "web.pconf.svc.cluster.local:80"}
	cases := []struct {
		workload string
		target   bool
		code     codes.Code
		msg      string
	}{
		{okWorkload, true, codes.OK, ""},
		{`{"ns":"pconf","external_workload":"vm"}`, true, codes.OK, ""},
		{"pconf:diagnostics", true, codes.OK, ""},
		{`{"ns":"pconf"}`, true, codes.InvalidArgument, "Invalid workload"},
		{"pconf:", true, codes.InvalidArgument, "Invalid workload"},
		{":pod", true, codes.InvalidArgument, "Invalid workload"},
		{"pconf", true, codes.InvalidArgument, "Invalid workload"},
		{okWorkload, false, codes.InvalidArgument, "target is required"},
	}
	for _, tc := range cases {
		spec := &pb.TrafficSpec{SourceWorkload: tc.workload}
		if tc.target {
			spec.Target = auth
		}
		_, err := c.Get(ctxFor(t), spec)
		if status.Code(err) != tc.code || !strings.Contains(status.Convert(err).Message(), tc.msg) {
			t.Errorf("%q target=%v: %v, want %s %q", tc.workload, tc.target, err, tc.code, tc.msg)
		}
	}
}

// Reference §2.2: authority forms; no existence or port check.
func TestAuthorityForms(t *testing.T) {
	c := start(t, policytest.Options{}, conf)
	cases := []struct {
		authority string
		code      codes.Code
		port      uint32
	}{
		{"web.pconf.svc:80", codes.OK, 80},
		{"web.pconf.svc.cluster.local:80", codes.OK, 80},
		{"web.pconf.svc.cluster.local.:80", codes.OK, 80},
		{"web.pconf.svc.cluster.local", codes.OK, 80},
		{"web.pconf.svc.cluster.local:9999", codes.OK, 9999}, // undefined port: normal policy
		{"nope.pconf.svc.cluster.local:80", codes.OK, 80},    // no such Service: default policy
		{"web.pconf:80", codes.NotFound, 0},                  // not <name>.<ns>.svc
		{"web.pconf.cluster.local:80", codes.NotFound, 0},    //
		{"web.pconf.svc.cluster.local:x", codes.InvalidArgument, 0},
	}
	for _, tc := range cases {
		m, err := c.Get(ctxFor(t), &pb.TrafficSpec{SourceWorkload: okWorkload, Target: &pb.TrafficSpec_Authority{Authority: tc.authority}})
		if status.Code(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.authority, err, tc.code)
			continue
		}
		if tc.code != codes.OK {
			continue
		}
		if r := m.GetMetadata().GetResource(); r.GetPort() != tc.port || r.GetKind() != "Service" || m.GetProtocol().GetDetect() == nil {
			t.Errorf("%s: %v", tc.authority, m)
		}
	}
	_, err := c.Get(ctxFor(t), &pb.TrafficSpec{SourceWorkload: okWorkload, Target: &pb.TrafficSpec_Authority{Authority: "web.pconf:80"}})
	if !strings.Contains(status.Convert(err).Message(), "authority must be of the form <name>.<namespace>.svc.<domain>") {
		t.Errorf("NotFound message: %v", err)
	}
}

// Reference §2.2, §10: addr lookups.
func TestAddrForms(t *testing.T) {
	c := start(t, policytest.Options{}, conf)
	ip := clusterIP(t, "pconf", "web")
	get := func(a *pb.TrafficSpec_Addr) (*pb.OutboundPolicy, error) {
		return c.Get(ctxFor(t), &pb.TrafficSpec{SourceWorkload: okWorkload, Target: a})
	}
	m, err := get(addr(ip, 80))
	if err != nil || m.GetProtocol().GetDetect() == nil || m.GetMetadata().GetResource().GetName() != "web" {
		t.Errorf("ClusterIP:80: %v %v", m, err)
	}
	m, err = get(addr(ip, 9999))
	routes := m.GetProtocol().GetOpaque().GetRoutes()
	if err != nil || len(routes) != 1 || routes[0].GetMetadata().GetDefault() != "undefined-port" ||
		routes[0].GetRules()[0].GetBackends().GetEmpty() == nil || routes[0].GetRules()[0].GetFilters()[0].GetForbidden() == nil ||
		m.GetMetadata().GetResource().GetPort() != 9999 {
		t.Errorf("undefined port: %v %v", m, err)
	}
	if _, err := get(addr("10.96.255.254", 80)); status.Code(err) != codes.NotFound || status.Convert(err).Message() != "No such service" {
		t.Errorf("cluster IP without Service: %v", err)
	}
	m, err = get(addr("8.8.8.8", 443))
	if err != nil || m.GetMetadata().GetDefault() != "egress-fallback" || m.GetProtocol().GetDetect() == nil {
		t.Errorf("outside the cluster networks: %v %v", m, err)
	}
	for _, p := range []uint32{0, 70000} {
		if _, err := get(addr(ip, p)); status.Code(err) != codes.InvalidArgument {
			t.Errorf("port %d: %v", p, err)
		}
	}
}

// Reference §3.1, §3.3, §3.5: the default policy in proto terms.
func TestDefaultPolicy(t *testing.T) {
	c := start(t, policytest.Options{}, conf)
	m, err := c.Get(ctxFor(t), &pb.TrafficSpec{SourceWorkload: okWorkload, Target: addr(clusterIP(t, "pconf", "web"), 80)})
	if err != nil {
		t.Fatal(err)
	}
	d := m.GetProtocol().GetDetect()
	if d.GetTimeout().AsDuration() != 10*time.Second {
		t.Errorf("detect timeout %v", d.GetTimeout())
	}
	h1, h2 := d.GetHttp1().GetRoutes(), d.GetHttp2().GetRoutes()
	if len(h1) != 1 || len(h2) != 1 || h1[0].GetMetadata().GetDefault() != "http" || h2[0].GetMetadata().GetDefault() != "http" {
		t.Fatalf("default http route: %v %v", h1, h2)
	}
	rule := h1[0].GetRules()[0]
	if rule.GetMatches()[0].GetPath().GetPrefix() != "/" || rule.GetRetry() != nil || rule.GetAllowL5DRequestHeaders() {
		t.Errorf("rule %v", rule)
	}
	b := rule.GetBackends().GetFirstAvailable().GetBackends()[0].GetBackend()
	if b.GetQueue().GetCapacity() != 100 || b.GetQueue().GetFailfastTimeout().AsDuration() != 3*time.Second ||
		b.GetBalancer().GetDiscovery().GetDst().GetPath() != "web.pconf.svc.cluster.local:80" ||
		b.GetBalancer().GetPeakEwma().GetDefaultRtt().AsDuration() != 30*time.Millisecond || b.GetBalancer().GetPeakEwma().GetDecay().AsDuration() != 10*time.Second {
		t.Errorf("default backend %v", b)
	}
	if o := d.GetOpaque().GetRoutes(); len(o) != 1 || o[0].GetMetadata().GetDefault() != "opaq" {
		t.Errorf("opaq route %v", o)
	}
}

// Reference §4: Watch sends the current state first and stays open.
func TestWatchFirstMessage(t *testing.T) {
	c := start(t, policytest.Options{}, conf)
	ctx, cancel := context.WithCancel(ctxFor(t))
	defer cancel()
	stream, err := c.Watch(ctx, &pb.TrafficSpec{SourceWorkload: okWorkload, Target: &pb.TrafficSpec_Authority{Authority: "web.pconf.svc.cluster.local:80"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := stream.Recv()
	if err != nil || m.GetProtocol().GetDetect() == nil {
		t.Fatalf("first message: %v %v", m, err)
	}
	_, err = c.Watch(ctx, &pb.TrafficSpec{SourceWorkload: "bad"})
	if err == nil {
		s, _ := c.Watch(ctx, &pb.TrafficSpec{SourceWorkload: "bad"})
		_, err = s.Recv()
	}
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad Watch: %v", err)
	}
}
