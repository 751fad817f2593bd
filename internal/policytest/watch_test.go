package policytest_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	pb "github.com/linkerd/linkerd2-proxy-api/go/outbound"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/kubectl-profiles/kubectl-profiles/internal/policytest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/testenv"
)

// routesOf names the http1 routes of a message, with their first rule's
// request timeout: "default:http" or "HTTPRoute:w1/r:1s".
func routesOf(m *pb.OutboundPolicy) string {
	var out []string
	for _, r := range m.GetProtocol().GetDetect().GetHttp1().GetRoutes() {
		md := r.GetMetadata()
		name := "default:" + md.GetDefault()
		if res := md.GetResource(); res != nil {
			name = res.GetKind() + ":" + res.GetNamespace() + "/" + res.GetName()
			if rs := r.GetRules(); len(rs) > 0 && rs[0].GetTimeouts().GetRequest() != nil {
				name += ":" + rs[0].GetTimeouts().GetRequest().AsDuration().String()
			}
		}
		out = append(out, name)
	}
	return strings.Join(out, ",")
}

// Reference §4: the first message at once; then one only when the computed
// policy changes (never the same policy twice, unrelated changes send
// nothing); an end with OK when the watch is reinitialised.
func TestWatchUpdates(t *testing.T) {
	testenv.SkipIfShort(t)
	ctx := ctxFor(t)
	route := func(timeout string) string {
		return routeYAML(gw, httpKind, "w1", "r", "w1", "timeout.linkerd.io/request: "+timeout, "accepted", "  - matches: [{path: {type: PathPrefix, value: /a}}]\n")
	}
	other := svcYAML("w1", "other", "", "[{name: http, port: 80}]")
	if err := env.Apply(ctx, ns("w1"), svcYAML("w1", "web", "", "[{name: http, port: 80}]"), other); err != nil {
		t.Fatal(err)
	}
	srv, err := policytest.Start(env.Clientset, env.Dynamic, "127.0.0.1:0", policytest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := pb.NewOutboundPoliciesClient(conn)
	spec := &pb.TrafficSpec{SourceWorkload: `{"ns":"w1","pod":"p"}`, Target: addr(clusterIP(t, "w1", "web"), 80)}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.Watch(wctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	var last *pb.OutboundPolicy
	next := func(want string) {
		t.Helper()
		m, err := stream.Recv()
		if err != nil {
			t.Fatalf("want %s, stream ended: %v", want, err)
		}
		if proto.Equal(m, last) {
			t.Errorf("the same policy was sent twice: %s", routesOf(m))
		}
		last = m
		if got := routesOf(m); got != want {
			t.Fatalf("routes %s, want %s", got, want)
		}
	}
	next("default:http")
	// Steps: each a change that alters the policy, preceded by one that
	// does not (another Service's annotation): the next message must be
	// the altered policy, not a repeat.
	steps := []struct {
		do   func() error
		want string
	}{
		{func() error { return env.Apply(ctx, route("1s")) }, "HTTPRoute:w1/r:1s"},
		{func() error { return env.Apply(ctx, route("2s")) }, "HTTPRoute:w1/r:2s"},
		{func() error { return env.Delete(ctx, route("2s")) }, "default:http"},
	}
	for i, s := range steps {
		if err := env.Apply(ctx, svcYAML("w1", "other", "step: \""+string(rune('a'+i))+"\"", "[{name: http, port: 80}]")); err != nil {
			t.Fatal(err)
		}
		if err := s.do(); err != nil {
			t.Fatal(err)
		}
		next(s.want)
	}
	srv.EndWatches()
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("after EndWatches: %v, want the stream ended with OK", err)
	}
	// A new subscription works and starts from the current state.
	stream, err = c.Watch(wctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	last = nil
	next("default:http")
}
