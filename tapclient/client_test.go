package tapclient_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/internal/taptest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/tapwire"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
	"k8s.io/client-go/rest"
)

var web = tapclient.Target{Namespace: "emojivoto", Type: "deployment", Name: "web"}

func u32(v uint32) *uint32 { return &v }

// exchange builds the req/rsp/end events of one outbound request from web.
func exchange(base uint32, stream uint64, method, path string, dstLabels map[string]string) []tapclient.Event {
	src := tapclient.Endpoint{IP: netip.MustParseAddr("10.42.0.15"), Port: 54312,
		Labels: map[string]string{"deployment": "web", "namespace": "emojivoto", "pod": "web-1", "tls": "loopback"}}
	dst := tapclient.Endpoint{IP: netip.MustParseAddr("10.42.0.9"), Port: 8080, Labels: dstLabels}
	id := tapclient.StreamID{Base: base, Stream: stream}
	common := tapclient.Event{Direction: tapclient.DirectionOutbound, ID: id, Source: src, Destination: dst,
		TappedIP: src.IP, RouteLabels: map[string]string{"route": method + " " + path}, RouteMetaPresent: true}
	req, rsp, end := common, common, common
	req.Kind, req.Method, req.Scheme, req.Authority, req.Path = tapclient.KindRequest, method, "HTTP", "voting-svc.emojivoto:8080", path
	req.Headers = []tapclient.Header{{Name: ":method", Value: method}, {Name: "x-bin", ValueBin: []byte{0xff}}}
	rsp.Kind, rsp.HTTPStatus, rsp.Latency = tapclient.KindResponse, 200, 2735*time.Microsecond
	rsp.Headers = []tapclient.Header{{Name: ":status", Value: "200"}}
	end.Kind, end.Latency, end.Duration, end.ResponseBytes, end.GRPCStatus = tapclient.KindEnd, 3*time.Millisecond, 41*time.Microsecond, 154, u32(0)
	end.Trailers = []tapclient.Header{{Name: "grpc-status", Value: "0"}}
	return []tapclient.Event{req, rsp, end}
}

var voting = map[string]string{"deployment": "voting", "namespace": "emojivoto", "service": "voting-svc", "tls": "true"}
var books = map[string]string{"deployment": "books", "namespace": "booksapp", "service": "books", "tls": "true"}

func newClient(t *testing.T, srv *taptest.Server, user string) *tapclient.Client {
	t.Helper()
	c, err := tapclient.New(srv.RESTConfig(user))
	if err != nil {
		t.Fatal(err)
	}
	c.HeaderWait = 200 * time.Millisecond
	return c
}

func startServer(t *testing.T, opts taptest.Options) *taptest.Server {
	t.Helper()
	srv := taptest.New(opts)
	t.Cleanup(srv.Close)
	return srv
}

func collect(t *testing.T, s *tapclient.Stream) []tapclient.Event {
	t.Helper()
	s.SetIdleTimeout(5 * time.Second)
	var out []tapclient.Event
	for {
		ev, err := s.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, *ev)
	}
}

func TestWatchDecodesAllFields(t *testing.T) {
	srv := startServer(t, taptest.Options{})
	want := exchange(3, 7, "POST", "/emojivoto.v1.VotingService/VoteDoughnut", voting)
	srv.Set(web, taptest.Tap{Events: want, End: true})
	c := newClient(t, srv, "alice")

	s, err := c.Watch(context.Background(), tapclient.Request{Target: web, MaxRPS: 100, ExtractHeaders: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := collect(t, s)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events differ\n got %+v\nwant %+v", got, want)
	}
	seen := srv.Requests()
	if len(seen) != 1 || seen[0].User != "alice" || seen[0].Request.MaxRPS != 100 || !seen[0].Request.ExtractHeaders {
		t.Fatalf("server saw %+v", seen)
	}
}

func TestWatchWithoutHeaderExtraction(t *testing.T) {
	srv := startServer(t, taptest.Options{})
	srv.Set(web, taptest.Tap{Events: exchange(1, 0, "GET", "/a", voting), End: true})
	s, err := newClient(t, srv, "alice").Watch(context.Background(), tapclient.Request{Target: web})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range collect(t, s) {
		if ev.Headers != nil || ev.Trailers != nil {
			t.Fatalf("headers without ExtractHeaders: %+v", ev)
		}
	}
}

func TestWatchFilters(t *testing.T) {
	srv := startServer(t, taptest.Options{})
	var evs []tapclient.Event
	evs = append(evs, exchange(1, 0, "GET", "/books/1.json", books)...)
	evs = append(evs, exchange(1, 1, "POST", "/emojivoto.v1.VotingService/VoteDoughnut", voting)...)
	evs = append(evs, exchange(1, 2, "GET", "/emojivoto.v1.VotingService/Leaderboard", voting)...)
	srv.Set(web, taptest.Tap{Events: evs, End: true})
	c := newClient(t, srv, "alice")
	to := tapclient.Target{Namespace: "emojivoto", Type: "service", Name: "voting-svc"}
	tests := []struct {
		name    string
		req     tapclient.Request
		streams []uint64
	}{
		{"none", tapclient.Request{Target: web}, []uint64{0, 1, 2}},
		{"method", tapclient.Request{Target: web, Method: "get"}, []uint64{0, 2}},
		{"path prefix", tapclient.Request{Target: web, Path: "/emojivoto"}, []uint64{1, 2}},
		{"authority", tapclient.Request{Target: web, Authority: "nope:80"}, nil},
		{"destination", tapclient.Request{Target: web, To: &to}, []uint64{1, 2}},
		{"destination and method", tapclient.Request{Target: web, To: &to, Method: "POST"}, []uint64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := c.Watch(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for _, ev := range collect(t, s) {
				if ev.Kind == tapclient.KindRequest {
					got = append(got, ev.ID.Stream)
				}
			}
			if !reflect.DeepEqual(got, tt.streams) {
				t.Fatalf("requests %v, want %v", got, tt.streams)
			}
		})
	}
}

func TestWatchServerErrors(t *testing.T) {
	srv := startServer(t, taptest.Options{})
	broken := tapclient.Target{Namespace: "emojivoto", Type: "deployment", Name: "t4"}
	srv.Set(broken, taptest.Tap{Error: "no pods to tap for type=\"deployment\" name=\"t4\"\n1 pods found with tap disabled"})
	c := newClient(t, srv, "alice")

	_, err := c.Watch(context.Background(), tapclient.Request{Target: tapclient.Target{Namespace: "emojivoto", Type: "deployment", Name: "nope"}})
	var te *tapclient.Error
	if !errors.As(err, &te) || te.Reason != tapclient.ReasonServer {
		t.Fatalf("unknown target: %v", err)
	}
	if te.Message != "no pods to tap for type=\"deployment\" name=\"nope\"\n" {
		t.Fatalf("message %q", te.Message)
	}
	_, err = c.Watch(context.Background(), tapclient.Request{Target: broken})
	if reasonOf(err) != tapclient.ReasonServer || !strings.Contains(err.Error(), "tap disabled") {
		t.Fatalf("scripted error: %v", err)
	}
	if _, err := c.Watch(context.Background(), tapclient.Request{Target: web, LabelSelector: "a in (("}); reasonOf(err) != tapclient.ReasonServer {
		t.Fatalf("bad selector: %v", err)
	}
}

func TestWatchForbiddenJSON(t *testing.T) {
	srv := startServer(t, taptest.Options{Authorize: func(a taptest.Attributes) bool {
		return a.User == "admin" && a.Resource == "deployments" && a.Verb == "watch" && a.Subresource == "tap"
	}})
	srv.Set(web, taptest.Tap{End: true})
	for _, user := range []string{"bob", ""} {
		_, err := newClient(t, srv, user).Watch(context.Background(), tapclient.Request{Target: web})
		var te *tapclient.Error
		if !errors.As(err, &te) || te.Reason != tapclient.ReasonForbidden || te.Code != 403 {
			t.Fatalf("user %q: %v", user, err)
		}
		for _, want := range []string{"tap authorization failed", `"deployments/tap"`, "in namespace emojivoto", tapclient.DefaultTapAdminClusterRole} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("user %q: %q lacks %q", user, err, want)
			}
		}
	}
	s, err := newClient(t, srv, "admin").Watch(context.Background(), tapclient.Request{Target: web})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestWatchOversizeFrame(t *testing.T) {
	srv := startServer(t, taptest.Options{})
	srv.Set(web, taptest.Tap{Events: exchange(1, 0, "GET", "/a", voting)[:1], Raw: []byte{0xff, 0xff, 0xff, 0xff, 1, 2}})
	s, err := newClient(t, srv, "alice").Watch(context.Background(), tapclient.Request{Target: web})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Next(); err != nil {
		t.Fatalf("first event: %v", err)
	}
	_, err = s.Next()
	if !errors.Is(err, tapclient.ErrFrameTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if _, again := s.Next(); again != err {
		t.Fatalf("error not sticky: %v", again)
	}
}

func TestWatchTruncatedStream(t *testing.T) {
	srv := startServer(t, taptest.Options{})
	srv.Set(web, taptest.Tap{Raw: []byte{10, 0, 0, 0, 1, 2}, End: true})
	s, err := newClient(t, srv, "alice").Watch(context.Background(), tapclient.Request{Target: web})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v", err)
	}
}

func TestWatchMidStreamAPIError(t *testing.T) {
	srv := startServer(t, taptest.Options{})
	var raw strings.Builder
	_ = tapwire.WriteFrame(&raw, tapwire.EncodeAPIError("rpc error: stream closed"))
	srv.Set(web, taptest.Tap{Events: exchange(1, 0, "GET", "/a", voting)[:1], Raw: []byte(raw.String())})
	s, err := newClient(t, srv, "alice").Watch(context.Background(), tapclient.Request{Target: web})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, _ = s.Next()
	if _, err := s.Next(); reasonOf(err) != tapclient.ReasonServer || !strings.Contains(err.Error(), "stream closed") {
		t.Fatalf("err = %v", err)
	}
}

func TestIdleTimeout(t *testing.T) {
	for _, flush := range []bool{false, true} {
		name := "headers held back (real server)"
		if flush {
			name = "headers flushed"
		}
		t.Run(name, func(t *testing.T) {
			srv := startServer(t, taptest.Options{})
			evs := exchange(1, 0, "GET", "/a", voting)[:1]
			srv.Set(web, taptest.Tap{Events: evs, Interval: 600 * time.Millisecond, FlushHeaders: flush})
			c := newClient(t, srv, "alice")
			start := time.Now()
			s, err := c.Watch(context.Background(), tapclient.Request{Target: web})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if !flush && time.Since(start) < c.HeaderWait {
				t.Fatalf("Watch returned before headers or HeaderWait: %v", time.Since(start))
			}
			s.SetIdleTimeout(150 * time.Millisecond)
			if _, err := s.Next(); err != tapclient.ErrIdle {
				t.Fatalf("first Next: %v, want ErrIdle", err)
			}
			// The stream survives idleness: keep waiting and get the event.
			s.SetIdleTimeout(5 * time.Second)
			ev, err := s.Next()
			if err != nil || ev.Path != "/a" {
				t.Fatalf("after idle: %+v %v", ev, err)
			}
		})
	}
}

func TestContextCancelEndsCleanly(t *testing.T) {
	srv := startServer(t, taptest.Options{})
	srv.Set(web, taptest.Tap{}) // silent forever
	c := newClient(t, srv, "alice")
	ctx, cancel := context.WithCancel(context.Background())
	s, err := c.Watch(ctx, tapclient.Request{Target: web})
	if err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	done := make(chan error, 1)
	go func() { _, err := s.Next(); done <- err }()
	select {
	case err := <-done:
		if err != io.EOF {
			t.Fatalf("Next after cancel: %v, want io.EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not return after cancel")
	}

	// A context that is already done never reaches the server.
	if _, err := c.Watch(ctx, tapclient.Request{Target: web}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch with cancelled ctx: %v", err)
	}
}

func TestCloseUnblocksNext(t *testing.T) {
	srv := startServer(t, taptest.Options{})
	srv.Set(web, taptest.Tap{FlushHeaders: true})
	s, err := newClient(t, srv, "alice").Watch(context.Background(), tapclient.Request{Target: web})
	if err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(50 * time.Millisecond); s.Close() }()
	if _, err := s.Next(); err != io.EOF {
		t.Fatalf("Next after Close: %v", err)
	}
}

func TestWatchValidates(t *testing.T) {
	srv := startServer(t, taptest.Options{})
	_, err := newClient(t, srv, "alice").Watch(context.Background(), tapclient.Request{Target: tapclient.Target{Type: "service", Name: "x", Namespace: "n"}})
	if err == nil || reasonOf(err) != "" {
		t.Fatalf("invalid request: %v", err)
	}
	if len(srv.Requests()) != 0 {
		t.Fatal("invalid request reached the server")
	}
}

// A kubeconfig request timeout must not cut a tap stream short.
func TestConfigTimeoutDoesNotCutStream(t *testing.T) {
	srv := startServer(t, taptest.Options{})
	srv.Set(web, taptest.Tap{Events: exchange(1, 0, "GET", "/a", voting), Interval: 150 * time.Millisecond, FlushHeaders: true, End: true})
	cfg := srv.RESTConfig("alice")
	cfg.Timeout = 200 * time.Millisecond
	c, err := tapclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Watch(context.Background(), tapclient.Request{Target: web})
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(t, s); len(got) != 3 {
		t.Fatalf("got %d events over 450ms with a 200ms config timeout", len(got))
	}
}

// TestWatchAgainstAHungServer: an API server that accepts the connection
// but never completes TLS must not look like a quiet tap.
func TestWatchAgainstAHungServer(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	c, err := tapclient.New(&rest.Config{Host: "https://" + lis.Addr().String(), TLSClientConfig: rest.TLSClientConfig{Insecure: true}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	req := tapclient.Request{Target: tapclient.Target{Namespace: "ns", Type: "deployment", Name: "web"}}
	_, err = c.Watch(ctx, req)
	if !errors.Is(err, tapclient.ErrNotSent) {
		t.Fatalf("err = %v, want ErrNotSent", err)
	}
}
