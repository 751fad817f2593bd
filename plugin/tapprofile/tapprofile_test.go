package tapprofile

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	httppb "github.com/linkerd/linkerd2-proxy-api/go/http_types"

	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

func TestLookup(t *testing.T) {
	r := Resolver{ClusterDomain: "cluster.local", DefaultNamespace: "target-ns"}
	inbound := func(authority string, dstLabels map[string]string, headers ...tapclient.Header) *tapclient.Event {
		return &tapclient.Event{Direction: tapclient.DirectionInbound, Kind: tapclient.KindRequest, Authority: authority,
			Destination: tapclient.Endpoint{Labels: dstLabels}, Headers: headers}
	}
	outbound := func(authority string, srcLabels, dstLabels map[string]string) *tapclient.Event {
		return &tapclient.Event{Direction: tapclient.DirectionOutbound, Kind: tapclient.KindRequest, Authority: authority,
			Source: tapclient.Endpoint{Labels: srcLabels}, Destination: tapclient.Endpoint{Labels: dstLabels}}
	}
	own := map[string]string{"namespace": "books"}
	tests := []struct {
		name string
		ev   *tapclient.Event
		want Key
		ok   bool
	}{
		// The inbound proxy discovers only names under svc.<domain>, or the
		// l5d-dst-canonical header a meshed client's proxy adds.
		{"inbound short name from an unmeshed client: no profile", inbound("webapp:7000", own), Key{}, false},
		{"inbound svc.ns: no profile", inbound("webapp.other", own), Key{}, false},
		{"inbound svc.ns.svc: no profile", inbound("webapp.other.svc:8080", own), Key{}, false},
		{"inbound FQDN", inbound("webapp.other.svc.cluster.local:8080", own), Key{"webapp", "other", 8080, "books", true}, true},
		{"inbound FQDN trailing dot", inbound("webapp.other.svc.cluster.local.:8080", own), Key{"webapp", "other", 8080, "books", true}, true},
		{"inbound FQDN, no labels: target namespace", inbound("webapp.books.svc.cluster.local:7000", nil), Key{"webapp", "books", 7000, "target-ns", true}, true},
		{"inbound canonical header wins", inbound("webapp:7000", own, tapclient.Header{Name: "L5d-Dst-Canonical", Value: "web.prod.svc.cluster.local:80"}),
			Key{"web", "prod", 80, "books", true}, true},
		{"inbound IP authority", inbound("10.42.0.12:7000", own), Key{}, false},
		{"inbound IPv6 authority", inbound("[fd00::1]:7000", own), Key{}, false},
		{"inbound pod DNS name", inbound("web-0.webapp.books.svc.cluster.local:80", own), Key{}, false},
		{"inbound external host", inbound("api.example.com", own), Key{}, false},
		{"inbound other cluster domain", inbound("webapp.books.svc.example.org", own), Key{}, false},
		{"inbound bad port", inbound("webapp:http", own), Key{}, false},
		{"inbound empty", inbound("", own), Key{}, false},
		{"outbound labels", outbound("books:7002", map[string]string{"namespace": "web"}, map[string]string{"service": "books", "namespace": "books"}),
			Key{"books", "books", 7002, "web", false}, true},
		{"outbound labels, IP authority", outbound("10.96.0.10:7002", map[string]string{"namespace": "web"}, map[string]string{"service": "books", "namespace": "books"}),
			Key{"books", "books", 7002, "web", false}, true},
		{"outbound no labels: authority relative to client", outbound("books", map[string]string{"namespace": "web"}, nil),
			Key{"books", "web", 80, "web", false}, true},
		{"outbound no labels, svc.ns.svc", outbound("books.lib.svc:9", nil, nil), Key{"books", "lib", 9, "target-ns", false}, true},
		{"outbound no labels, two labels may be external", outbound("example.com", nil, nil), Key{}, false},
		{"outbound to a pod IP", outbound("10.42.0.9:8080", nil, map[string]string{"pod": "x"}), Key{}, false},
		{"unknown direction", &tapclient.Event{Direction: tapclient.DirectionUnknown, Authority: "a:1"}, Key{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := r.Lookup(tt.ev)
			if ok != tt.ok || ok && got != tt.want {
				t.Fatalf("Lookup = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// fakeSource serves profiles by service name and counts lookups.
type fakeSource struct {
	mu      sync.Mutex
	calls   map[Key]int
	n       atomic.Int64
	delay   time.Duration
	answers map[string]*pb.DestinationProfile
}

func (f *fakeSource) Profile(ctx context.Context, k Key) (*pb.DestinationProfile, string, error) {
	f.n.Add(1)
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[Key]int{}
	}
	f.calls[k]++
	f.mu.Unlock()
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, "", ctx.Err()
		}
	}
	dp, ok := f.answers[k.Service]
	if !ok {
		return nil, "", errors.New(`service "` + k.Service + `" not found`)
	}
	return dp, "", nil
}

func route(name, method, regex string) *pb.Route {
	all := []*pb.RequestMatch{{Match: &pb.RequestMatch_Path{Path: &pb.PathMatch{Regex: regex}}}}
	if method != "" {
		all = append(all, &pb.RequestMatch{Match: &pb.RequestMatch_Method{Method: &httppb.HttpMethod{
			Type: &httppb.HttpMethod_Registered_{Registered: httppb.HttpMethod_Registered(httppb.HttpMethod_Registered_value[method])}}}})
	}
	return &pb.Route{
		Condition:     &pb.RequestMatch{Match: &pb.RequestMatch_All{All: &pb.RequestMatch_Seq{Matches: all}}},
		MetricsLabels: map[string]string{"route": name},
	}
}

func booksProfiles() map[string]*pb.DestinationProfile {
	return map[string]*pb.DestinationProfile{
		"webapp": {FullyQualifiedName: "webapp.books.svc.cluster.local", Routes: []*pb.Route{
			route("GET /books/{id}", "GET", `/books/\d+`),
			route("POST /books", "POST", `/books`),
			route("GET /authors/{id}", "GET", `/authors/[^/]+`),
		}},
		"empty": {FullyQualifiedName: "empty.books.svc.cluster.local"},
	}
}

func request(dir tapclient.Direction, authority, method, path string) *tapclient.Event {
	ev := &tapclient.Event{Direction: dir, Kind: tapclient.KindRequest, Authority: authority, Method: method, Path: path}
	if dir == tapclient.DirectionOutbound {
		ev.Source.Labels = map[string]string{"namespace": "books"}
	} else {
		ev.Destination.Labels = map[string]string{"namespace": "books"}
		// A meshed client's proxy names the Service it resolved.
		if host, port, ok := strings.Cut(authority, ":"); ok && !isIP(host) {
			ev.Headers = []tapclient.Header{{Name: canonicalHeader, Value: host + ".books.svc.cluster.local:" + port}}
		}
	}
	return ev
}

func TestClassify(t *testing.T) {
	src := &fakeSource{answers: booksProfiles()}
	var warnings []string
	c := &Classifier{Resolver: Resolver{ClusterDomain: "cluster.local"}, Source: src, Timeout: time.Second,
		Warn: func(s string) { warnings = append(warnings, s) }}
	ctx := context.Background()
	in, out := tapclient.DirectionInbound, tapclient.DirectionOutbound
	tests := []struct {
		ev     *tapclient.Event
		status Status
		route  string
	}{
		{request(in, "webapp:7000", "GET", "/books/12"), Matched, "GET /books/{id}"},
		{request(in, "webapp:7000", "GET", "/books/12?x=1"), Matched, "GET /books/{id}"},
		{request(in, "webapp:7000", "POST", "/books"), Matched, "POST /books"},
		{request(in, "webapp:7000", "DELETE", "/books/12"), Unmatched, ""},
		{request(out, "webapp.books.svc:7000", "GET", "/authors/x"), Matched, "GET /authors/{id}"},
		{request(in, "empty:80", "GET", "/"), NoRoutes, ""},
		{request(out, "empty:80", "GET", "/"), NoRoutes, ""},
		{request(in, "missing:80", "GET", "/"), Unknown, ""},
		{request(in, "missing:80", "GET", "/again"), Unknown, ""},
		{request(in, "10.0.0.1:80", "GET", "/"), Unknown, ""},
	}
	for _, tt := range tests {
		got := c.Classify(ctx, tt.ev)
		if got.Status != tt.status || got.Route != tt.route {
			t.Errorf("%s %s %s: got %v %q, want %v %q", tt.ev.Authority, tt.ev.Method, tt.ev.Path, got.Status, got.Route, tt.status, tt.route)
		}
	}
	// One lookup per (service, port, client namespace, direction).
	for k, n := range src.calls {
		if n != 1 {
			t.Errorf("%+v looked up %d times", k, n)
		}
	}
	if len(src.calls) != 5 {
		t.Errorf("%d lookups, want 5: %v", len(src.calls), src.calls)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `missing.books.svc.cluster.local:80 as seen from namespace "books": service "missing" not found`) {
		t.Errorf("warnings = %q", warnings)
	}
}

func TestClassifyBoundsAndTimeouts(t *testing.T) {
	src := &fakeSource{answers: booksProfiles(), delay: time.Hour}
	var warnings []string
	c := &Classifier{Source: src, Timeout: 50 * time.Millisecond, MaxLookups: 2, Warn: func(s string) { warnings = append(warnings, s) }}
	ctx := context.Background()
	start := time.Now()
	got := c.Classify(ctx, request(tapclient.DirectionInbound, "webapp:1", "GET", "/books/1"))
	if got.Status != Unknown || time.Since(start) > 2*time.Second {
		t.Fatalf("silent source: %+v after %s", got, time.Since(start))
	}
	// The next event for the same key does not wait again.
	start = time.Now()
	c.Classify(ctx, request(tapclient.DirectionInbound, "webapp:1", "GET", "/books/1"))
	if time.Since(start) > 20*time.Millisecond {
		t.Errorf("second event waited %s", time.Since(start))
	}
	c.Classify(ctx, request(tapclient.DirectionInbound, "webapp:2", "GET", "/"))
	got = c.Classify(ctx, request(tapclient.DirectionInbound, "webapp:3", "GET", "/"))
	if got.Reason != "too many distinct services" || c.Lookups() != 2 {
		t.Errorf("over the bound: %+v, %d lookups", got, c.Lookups())
	}
	c.Wait()
	if src.n.Load() != 2 {
		t.Errorf("%d lookups, want 2", src.n.Load())
	}
	if len(warnings) < 2 {
		t.Errorf("warnings = %q", warnings)
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	c := &Classifier{Source: &fakeSource{answers: booksProfiles()}, Timeout: time.Second}
	ctx := context.Background()
	ev := request(tapclient.DirectionInbound, "webapp:7000", "GET", "/authors/jane")
	c.Classify(ctx, ev)
	other := request(tapclient.DirectionInbound, "empty:80", "GET", "/")
	c.Classify(ctx, other)
	allocs := testing.AllocsPerRun(1000, func() {
		c.Classify(ctx, ev)
		c.Classify(ctx, other)
	})
	if allocs != 0 {
		t.Fatalf("Classify allocates %v times per call pair", allocs)
	}
}

var _ = netip.Addr{}
