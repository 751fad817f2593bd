package tapclient

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"

	httppb "github.com/linkerd/linkerd2-proxy-api/go/http_types"
	netpb "github.com/linkerd/linkerd2-proxy-api/go/net"
	tappb "github.com/linkerd/linkerd2-proxy-api/go/tap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

func u32(v uint32) *uint32 { return &v }

// decodeEvent decodes without interning or caching.
func decodeEvent(b []byte) (*Event, error) { return (*Decoder)(nil).Decode(b) }

func v4(s string) uint32 {
	a := netip.MustParseAddr(s).As4()
	return uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
}

func tcp(ip string, port uint32) *netpb.TcpAddress {
	return &netpb.TcpAddress{Ip: &netpb.IPAddress{Ip: &netpb.IPAddress_Ipv4{Ipv4: v4(ip)}}, Port: port}
}

func marshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func equalEvent(t *testing.T, got, want *Event) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("events differ\n got %s %v\nwant %s %v", g, got.RouteMetaPresent, w, want.RouteMetaPresent)
	}
}

// The proxy-api Go types are an independent source of the field numbers:
// events they marshal must decode to the expected values.
func TestDecodeProxyAPIEvents(t *testing.T) {
	id := &tappb.TapEvent_Http_StreamId{Base: 7, Stream: 8}
	src, dst := tcp("1.2.3.4", 5555), tcp("2.3.4.5", 6666)
	srcEP := Endpoint{IP: netip.MustParseAddr("1.2.3.4"), Port: 5555, Labels: map[string]string{"tls": "loopback"}}
	dstEP := Endpoint{IP: netip.MustParseAddr("2.3.4.5"), Port: 6666, Labels: map[string]string{"pod": "voting-1", "tls": "true"}}
	base := func(http *tappb.TapEvent_Http) *tappb.TapEvent {
		return &tappb.TapEvent{
			Source: src, Destination: dst,
			SourceMeta:      &tappb.TapEvent_EndpointMeta{Labels: map[string]string{"tls": "loopback"}},
			DestinationMeta: &tappb.TapEvent_EndpointMeta{Labels: map[string]string{"pod": "voting-1", "tls": "true"}},
			RouteMeta:       &tappb.TapEvent_RouteMeta{Labels: map[string]string{"route": "VoteDoughnut"}},
			ProxyDirection:  tappb.TapEvent_OUTBOUND,
			Event:           &tappb.TapEvent_Http_{Http: http},
		}
	}
	wantBase := func() *Event {
		return &Event{Direction: DirectionOutbound, ID: StreamID{7, 8}, Source: srcEP, Destination: dstEP,
			TappedIP: srcEP.IP, RouteLabels: map[string]string{"route": "VoteDoughnut"}, RouteMetaPresent: true}
	}

	t.Run("request", func(t *testing.T) {
		pb := base(&tappb.TapEvent_Http{Event: &tappb.TapEvent_Http_RequestInit_{RequestInit: &tappb.TapEvent_Http_RequestInit{
			Id:        id,
			Method:    &httppb.HttpMethod{Type: &httppb.HttpMethod_Registered_{Registered: httppb.HttpMethod_GET}},
			Scheme:    &httppb.Scheme{Type: &httppb.Scheme_Registered_{Registered: httppb.Scheme_HTTPS}},
			Authority: "voting-svc.emojivoto:8080",
			Path:      "/emojivoto.v1.VotingService/VoteDoughnut",
			Headers: &httppb.Headers{Headers: []*httppb.Headers_Header{
				{Name: ":method", Value: []byte("GET")},
				{Name: "x-bin", Value: []byte{0xff, 0x00, 0xfe}},
			}},
		}}})
		want := wantBase()
		want.Kind, want.Method, want.Scheme = KindRequest, "GET", "HTTPS"
		want.Authority, want.Path = "voting-svc.emojivoto:8080", "/emojivoto.v1.VotingService/VoteDoughnut"
		want.Headers = []Header{{Name: ":method", Value: "GET"}, {Name: "x-bin", ValueBin: []byte{0xff, 0x00, 0xfe}}}
		got, err := decodeEvent(marshal(t, pb))
		if err != nil {
			t.Fatal(err)
		}
		equalEvent(t, got, want)
	})

	t.Run("unregistered method and scheme", func(t *testing.T) {
		pb := base(&tappb.TapEvent_Http{Event: &tappb.TapEvent_Http_RequestInit_{RequestInit: &tappb.TapEvent_Http_RequestInit{
			Id:     id,
			Method: &httppb.HttpMethod{Type: &httppb.HttpMethod_Unregistered{Unregistered: "PROPFIND"}},
			Scheme: &httppb.Scheme{Type: &httppb.Scheme_Unregistered{Unregistered: "ftp"}},
		}}})
		got, err := decodeEvent(marshal(t, pb))
		if err != nil {
			t.Fatal(err)
		}
		if got.Method != "PROPFIND" || got.Scheme != "ftp" {
			t.Fatalf("method %q scheme %q", got.Method, got.Scheme)
		}
	})

	t.Run("response", func(t *testing.T) {
		pb := base(&tappb.TapEvent_Http{Event: &tappb.TapEvent_Http_ResponseInit_{ResponseInit: &tappb.TapEvent_Http_ResponseInit{
			Id: id, SinceRequestInit: durationpb.New(9000999 * time.Microsecond), HttpStatus: 200,
		}}})
		want := wantBase()
		want.Kind, want.HTTPStatus, want.Latency = KindResponse, 200, 9000999*time.Microsecond
		got, err := decodeEvent(marshal(t, pb))
		if err != nil {
			t.Fatal(err)
		}
		equalEvent(t, got, want)
	})

	ends := []struct {
		name  string
		eos   *tappb.Eos
		grpc  *uint32
		reset *uint32
	}{
		{"grpc OK is present, not absent", &tappb.Eos{End: &tappb.Eos_GrpcStatusCode{GrpcStatusCode: 0}}, u32(0), nil},
		{"grpc Unknown", &tappb.Eos{End: &tappb.Eos_GrpcStatusCode{GrpcStatusCode: 2}}, u32(2), nil},
		{"reset", &tappb.Eos{End: &tappb.Eos_ResetErrorCode{ResetErrorCode: 123}}, nil, u32(123)},
		{"http1 empty eos", &tappb.Eos{}, nil, nil},
		{"no eos", nil, nil, nil},
	}
	for _, e := range ends {
		t.Run("end "+e.name, func(t *testing.T) {
			pb := base(&tappb.TapEvent_Http{Event: &tappb.TapEvent_Http_ResponseEnd_{ResponseEnd: &tappb.TapEvent_Http_ResponseEnd{
				Id: id, SinceRequestInit: durationpb.New(2 * time.Second), SinceResponseInit: durationpb.New(888 * time.Microsecond),
				ResponseBytes: 111, Eos: e.eos,
				Trailers: &httppb.Headers{Headers: []*httppb.Headers_Header{{Name: "grpc-status", Value: []byte("0")}}},
			}}})
			want := wantBase()
			want.Kind, want.Latency, want.Duration, want.ResponseBytes = KindEnd, 2*time.Second, 888*time.Microsecond, 111
			want.GRPCStatus, want.ResetCode = e.grpc, e.reset
			want.Trailers = []Header{{Name: "grpc-status", Value: "0"}}
			got, err := decodeEvent(marshal(t, pb))
			if err != nil {
				t.Fatal(err)
			}
			equalEvent(t, got, want)
		})
	}

	t.Run("inbound ipv6, no route_meta", func(t *testing.T) {
		pb := &tappb.TapEvent{
			Source: tcp("10.42.0.15", 47952),
			Destination: &netpb.TcpAddress{Ip: &netpb.IPAddress{Ip: &netpb.IPAddress_Ipv6{Ipv6: &netpb.IPv6{
				First: 0xff01000000000000, Last: 1}}}, Port: 7002},
			ProxyDirection: tappb.TapEvent_INBOUND,
		}
		got, err := decodeEvent(marshal(t, pb))
		if err != nil {
			t.Fatal(err)
		}
		if got.Destination.IP != netip.MustParseAddr("ff01::1") || got.TappedIP != got.Destination.IP {
			t.Fatalf("dst %v tapped %v", got.Destination.IP, got.TappedIP)
		}
		if got.Destination.String() != "[ff01::1]:7002" || got.Source.String() != "10.42.0.15:47952" {
			t.Fatalf("endpoint strings %s %s", got.Source, got.Destination)
		}
		if got.RouteMetaPresent || got.RouteLabels != nil || got.Kind != KindUnknown {
			t.Fatalf("absent route_meta/http decoded as %+v", got)
		}
	})

	t.Run("outbound empty route_meta is present", func(t *testing.T) {
		pb := &tappb.TapEvent{Source: src, RouteMeta: &tappb.TapEvent_RouteMeta{}, ProxyDirection: tappb.TapEvent_OUTBOUND}
		got, err := decodeEvent(marshal(t, pb))
		if err != nil {
			t.Fatal(err)
		}
		if !got.RouteMetaPresent || got.Route() != "" || got.TappedIP != srcEP.IP {
			t.Fatalf("got %+v", got)
		}
	})

	t.Run("ipv4 zero renders empty", func(t *testing.T) {
		pb := &tappb.TapEvent{Source: tcp("0.0.0.0", 0)}
		got, err := decodeEvent(marshal(t, pb))
		if err != nil {
			t.Fatal(err)
		}
		if got.Source.IP.IsValid() || got.Source.String() != ":0" {
			t.Fatalf("zero ipv4 = %v %q", got.Source.IP, got.Source.String())
		}
	})
}

func TestDecodeMalformed(t *testing.T) {
	good := marshal(t, &tappb.TapEvent{Source: tcp("1.2.3.4", 80), SourceMeta: &tappb.TapEvent_EndpointMeta{Labels: map[string]string{"pod": "p"}}})
	bad := map[string][]byte{
		"truncated":        good[:len(good)-3],
		"bad varint":       {0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"length overflow":  {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"field zero":       {0x00, 0x01},
		"lone end group":   {0x0c},
		"bad nested label": {0x2a, 0x03, 0x0a, 0x05, 0x0a},
	}
	for name, b := range bad {
		if _, err := decodeEvent(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if ev, err := decodeEvent(nil); err != nil || ev.Kind != KindUnknown || ev.Direction != DirectionUnknown {
		t.Errorf("empty event: %+v %v", ev, err)
	}
}

func TestDecoderInternBounded(t *testing.T) {
	var d Decoder
	for i := 0; i < maxInterned+100; i++ {
		ev := &tappb.TapEvent{SourceMeta: &tappb.TapEvent_EndpointMeta{Labels: map[string]string{"pod": fmt.Sprint("p-", i)}}}
		if _, err := d.Decode(marshal(t, ev)); err != nil {
			t.Fatal(err)
		}
	}
	if len(d.intern) > maxInterned {
		t.Fatalf("intern table grew to %d", len(d.intern))
	}
}
