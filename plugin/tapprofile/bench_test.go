package tapprofile

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"

	"github.com/kubectl-profiles/kubectl-profiles/internal/tapwire"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// realisticStream encodes n request/response/end triples as the tap API
// frames them: a workload serving a REST API inbound and calling two
// services outbound, with viz-hydrated labels on both sides and the route
// label the proxy reports.
func realisticStream(n int) []byte {
	webapp := map[string]string{"control_plane_ns": "linkerd", "deployment": "webapp", "namespace": "books",
		"pod": "webapp-6b8f5c7d9-x2x4q", "pod_template_hash": "6b8f5c7d9", "serviceaccount": "webapp"}
	client := map[string]string{"client_id": "traffic.books.serviceaccount.identity.linkerd.cluster.local", "control_plane_ns": "linkerd",
		"deployment": "traffic", "namespace": "books", "pod": "traffic-5b9d7c6f4-kq2lp", "serviceaccount": "traffic", "tls": "true"}
	inDst := map[string]string{"namespace": "books", "deployment": "webapp", "pod": "webapp-6b8f5c7d9-x2x4q", "srv_kind": "default",
		"srv_name": "all-unauthenticated", "route_kind": "default", "route_name": "default", "tls": "loopback"}
	outDst := func(svc string) map[string]string {
		return map[string]string{"control_plane_ns": "linkerd", "deployment": svc, "namespace": "books", "pod": svc + "-7d9c5b8f6-4hz7m",
			"server_id": svc + ".books.serviceaccount.identity.linkerd.cluster.local", "service": svc, "serviceaccount": svc, "tls": "true"}
	}
	paths := []struct{ method, path, route string }{
		{"GET", "/books/1234", "GET /books/{id}"}, {"POST", "/books", "POST /books"}, {"GET", "/authors/jane-doe", "GET /authors/{id}"},
		{"GET", "/static/app.css", ""}, {"DELETE", "/books/99", ""}, {"GET", "/books/7/reviews?page=2", ""},
	}
	var buf bytes.Buffer
	for i := 0; i < n; i++ {
		p := paths[i%len(paths)]
		ev := tapclient.Event{ID: tapclient.StreamID{Base: uint32(i / 100), Stream: uint64(i % 100)}, RouteMetaPresent: true, Method: p.method, Path: p.path}
		if p.route != "" {
			ev.RouteLabels = map[string]string{"route": p.route}
		}
		switch i % 3 {
		case 0, 1:
			ev.Direction = tapclient.DirectionInbound
			ev.Source = tapclient.Endpoint{IP: netip.MustParseAddr("10.42.0.20"), Port: uint32(40000 + i%20000), Labels: client}
			ev.Destination = tapclient.Endpoint{IP: netip.MustParseAddr("10.42.0.12"), Port: 7000, Labels: inDst}
			ev.Authority = "webapp:7000"
			// Added by the meshed client's proxy; the server's proxy uses it.
			ev.Headers = []tapclient.Header{{Name: "l5d-dst-canonical", Value: "webapp.books.svc.cluster.local:7000"}}
		default:
			svc := []string{"books", "authors"}[i%2]
			ev.Direction = tapclient.DirectionOutbound
			ev.Source = tapclient.Endpoint{IP: netip.MustParseAddr("10.42.0.12"), Port: uint32(40000 + i%20000), Labels: map[string]string{"tls": "loopback", "namespace": "books", "deployment": "webapp", "pod": webapp["pod"]}}
			ev.Destination = tapclient.Endpoint{IP: netip.MustParseAddr("10.42.0.31"), Port: 7002, Labels: outDst(svc)}
			ev.Authority = svc + ":7002"
		}
		req, rsp, end := ev, ev, ev
		req.Kind = tapclient.KindRequest
		rsp.Kind, rsp.Method, rsp.Path, rsp.Authority, rsp.HTTPStatus, rsp.Latency = tapclient.KindResponse, "", "", "", 200, 2*time.Millisecond
		rsp.Headers, end.Headers = nil, nil
		end.Kind, end.Method, end.Path, end.Authority, end.Duration, end.ResponseBytes = tapclient.KindEnd, "", "", "", 40*time.Microsecond, 1540
		for _, e := range []*tapclient.Event{&req, &rsp, &end} {
			if err := tapwire.WriteFrame(&buf, tapwire.EncodeEvent(e)); err != nil {
				panic(err)
			}
		}
	}
	return buf.Bytes()
}

func benchProfiles() map[string]*pb.DestinationProfile {
	m := booksProfiles()
	for _, svc := range []string{"books", "authors"} {
		m[svc] = &pb.DestinationProfile{FullyQualifiedName: svc + ".books.svc.cluster.local", Routes: []*pb.Route{
			route("GET /books/{id}", "GET", `/books/\d+`), route("POST /books", "POST", `/books`),
			route("GET /authors/{id}", "GET", `/authors/[^/]+`), route("GET /books/{id}/reviews", "GET", `/books/\d+/reviews`),
		}}
	}
	return m
}

// BenchmarkClassify is the per-event cost of tap and unmatched: unframe,
// decode, correlate rsp/end with their request, and classify (profile
// cache hit + route match).
func BenchmarkClassify(b *testing.B) {
	data := realisticStream(3000)
	c := &Classifier{Source: &fakeSource{answers: benchProfiles()}, Timeout: time.Second}
	ctx := context.Background()
	var dec tapclient.Decoder
	corr := tapclient.NewCorrelator(0)
	matched := 0
	b.SetBytes(int64(len(data) / 9000))
	b.ReportAllocs()
	b.ResetTimer()
	rest := data
	for i := 0; i < b.N; i++ {
		if len(rest) == 0 {
			rest = data
		}
		size := binary.LittleEndian.Uint32(rest)
		frame := rest[4 : 4+size]
		rest = rest[4+size:]
		ev, err := dec.Decode(frame)
		if err != nil {
			b.Fatal(err)
		}
		if req := corr.Observe(ev); req != nil && c.Classify(ctx, req).Status == Matched {
			matched++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if b.N > 9000 && matched == 0 {
		b.Fatal("nothing matched")
	}
}

func TestRealisticStreamClassifies(t *testing.T) {
	data := realisticStream(6)
	c := &Classifier{Source: &fakeSource{answers: benchProfiles()}, Timeout: time.Second}
	var dec tapclient.Decoder
	var got []string
	for len(data) > 0 {
		size := binary.LittleEndian.Uint32(data)
		ev, err := dec.Decode(data[4 : 4+size])
		if err != nil {
			t.Fatal(err)
		}
		data = data[4+size:]
		if ev.Kind == tapclient.KindRequest {
			r := c.Classify(context.Background(), ev)
			got = append(got, fmt.Sprintf("%s %s:%s", r.Status, r.Route, ev.Route()))
		}
	}
	want := []string{"matched GET /books/{id}:GET /books/{id}", "matched POST /books:POST /books", "matched GET /authors/{id}:GET /authors/{id}",
		"unmatched :", "unmatched :", "matched GET /books/{id}/reviews:"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}
