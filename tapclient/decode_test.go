package tapclient

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	httppb "github.com/linkerd/linkerd2-proxy-api/go/http_types"
	netpb "github.com/linkerd/linkerd2-proxy-api/go/net"
	tappb "github.com/linkerd/linkerd2-proxy-api/go/tap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

var update = flag.Bool("update", false, "rewrite golden files")

func u32(v uint32) *uint32 { return &v }

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
		got, err := DecodeEvent(marshal(t, pb))
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
		got, err := DecodeEvent(marshal(t, pb))
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
		got, err := DecodeEvent(marshal(t, pb))
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
			got, err := DecodeEvent(marshal(t, pb))
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
		got, err := DecodeEvent(marshal(t, pb))
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
		got, err := DecodeEvent(marshal(t, pb))
		if err != nil {
			t.Fatal(err)
		}
		if !got.RouteMetaPresent || got.Route() != "" || got.TappedIP != srcEP.IP {
			t.Fatalf("got %+v", got)
		}
	})

	t.Run("ipv4 zero renders empty", func(t *testing.T) {
		pb := &tappb.TapEvent{Source: tcp("0.0.0.0", 0)}
		got, err := DecodeEvent(marshal(t, pb))
		if err != nil {
			t.Fatal(err)
		}
		if got.Source.IP.IsValid() || got.Source.String() != ":0" {
			t.Fatalf("zero ipv4 = %v %q", got.Source.IP, got.Source.String())
		}
	})
}

func sampleEvents() []*Event {
	ip := netip.MustParseAddr
	src := Endpoint{IP: ip("10.42.0.15"), Port: 54312, Labels: map[string]string{
		"control_plane_ns": "linkerd", "deployment": "web", "namespace": "emojivoto",
		"pod": "web-5f86686c4d-58p7k", "pod_template_hash": "5f86686c4d", "serviceaccount": "web", "tls": "loopback"}}
	dst := Endpoint{IP: ip("10.42.0.9"), Port: 8080, Labels: map[string]string{
		"control_plane_ns": "linkerd", "deployment": "voting", "namespace": "emojivoto",
		"pod": "voting-ff4c54b8d-7xk2q", "pod_template_hash": "ff4c54b8d",
		"server_id": "voting.emojivoto.serviceaccount.identity.linkerd.cluster.local",
		"service":   "voting-svc", "serviceaccount": "voting", "tls": "true", "zone_locality": "unknown"}}
	rt := map[string]string{"route": "VoteDoughnut"}
	id := StreamID{3, 7}
	return []*Event{
		{Direction: DirectionOutbound, Kind: KindRequest, ID: id, Source: src, Destination: dst, TappedIP: src.IP,
			RouteLabels: rt, RouteMetaPresent: true, Method: "POST", Scheme: "HTTP",
			Authority: "voting-svc.emojivoto:8080", Path: "/emojivoto.v1.VotingService/VoteDoughnut",
			Headers: []Header{{Name: ":method", Value: "POST"}, {Name: "x-bin", ValueBin: []byte{0x80, 0x81}}}},
		{Direction: DirectionOutbound, Kind: KindResponse, ID: id, Source: src, Destination: dst, TappedIP: src.IP,
			RouteLabels: rt, RouteMetaPresent: true, HTTPStatus: 200, Latency: 2735 * time.Microsecond,
			Headers: []Header{{Name: ":status", Value: "200"}}},
		{Direction: DirectionOutbound, Kind: KindEnd, ID: id, Source: src, Destination: dst, TappedIP: src.IP,
			RouteLabels: rt, RouteMetaPresent: true, Latency: 2776 * time.Microsecond, Duration: 41 * time.Microsecond,
			ResponseBytes: 154, GRPCStatus: u32(0), Trailers: []Header{{Name: "grpc-status", Value: "0"}}},
		{Direction: DirectionInbound, Kind: KindEnd, ID: StreamID{12, 0}, Source: Endpoint{IP: ip("10.42.0.15"), Port: 47952},
			Destination: Endpoint{IP: ip("fd00::9"), Port: 7002}, TappedIP: ip("fd00::9"),
			Latency: -time.Millisecond, ResponseBytes: 0, ResetCode: u32(2)},
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for i, ev := range sampleEvents() {
		b := EncodeEvent(ev)
		got, err := DecodeEvent(b)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		equalEvent(t, got, ev)

		// Our encoding must also parse as the proxy-api message.
		var pb tappb.TapEvent
		if err := proto.Unmarshal(b, &pb); err != nil {
			t.Fatalf("event %d: proxy-api rejects our encoding: %v", i, err)
		}
		if pb.GetSource().GetPort() != ev.Source.Port || len(pb.GetDestinationMeta().GetLabels()) != len(ev.Destination.Labels) {
			t.Fatalf("event %d: proxy-api view differs: %v", i, &pb)
		}
	}
}

func TestDecodeVizHeaderValueBin(t *testing.T) {
	// viz Header{name=1; value_bin=3}.
	ev := &Event{Kind: KindRequest, Headers: []Header{{Name: "b", ValueBin: []byte{1, 2}}, {Name: "empty", Value: ""}}}
	got, err := DecodeEvent(EncodeEvent(ev))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Headers[0].ValueBin, []byte{1, 2}) || got.Headers[1].Name != "empty" || got.Headers[1].ValueBin != nil {
		t.Fatalf("headers %+v", got.Headers)
	}
}

func TestDecodeMidStreamAPIError(t *testing.T) {
	_, err := DecodeEvent(EncodeAPIError("rpc error: stream send failed"))
	if ReasonOf(err) != ReasonServer || !strings.Contains(err.Error(), "stream send failed") {
		t.Fatalf("err = %v", err)
	}
	// A bare source address is still an event.
	ev, err := DecodeEvent(EncodeEvent(&Event{Source: Endpoint{IP: netip.MustParseAddr("1.2.3.4"), Port: 80}}))
	if err != nil || ev.Source.Port != 80 {
		t.Fatalf("address-only event: %+v %v", ev, err)
	}
}

func TestDecodeMalformed(t *testing.T) {
	good := EncodeEvent(sampleEvents()[0])
	bad := map[string][]byte{
		"truncated":        good[:len(good)-3],
		"bad varint":       {0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"length overflow":  {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"field zero":       {0x00, 0x01},
		"lone end group":   {0x0c},
		"bad nested label": {0x2a, 0x03, 0x0a, 0x05, 0x0a},
	}
	for name, b := range bad {
		if _, err := DecodeEvent(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if ev, err := DecodeEvent(nil); err != nil || ev.Kind != KindUnknown || ev.Direction != DirectionUnknown {
		t.Errorf("empty event: %+v %v", ev, err)
	}
}

func TestDecoderInternBounded(t *testing.T) {
	var d Decoder
	for i := 0; i < maxInterned+100; i++ {
		ev := &Event{Kind: KindRequest, Source: Endpoint{Labels: map[string]string{"pod": fmt.Sprint("p-", i)}}}
		if _, err := d.Decode(EncodeEvent(ev)); err != nil {
			t.Fatal(err)
		}
	}
	if len(d.intern) > maxInterned {
		t.Fatalf("intern table grew to %d", len(d.intern))
	}
}

func TestEventJSONGolden(t *testing.T) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, ev := range sampleEvents() {
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join("testdata", "events.ndjson.golden")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("JSON differs from %s (run go test -update if intended)\n%s", path, buf.Bytes())
	}
}

func TestDecoderSharesOnlyIdenticalLabelSets(t *testing.T) {
	var d Decoder
	evs := sampleEvents()
	a, err := d.Decode(EncodeEvent(evs[0]))
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Decode(EncodeEvent(evs[1]))
	if err != nil {
		t.Fatal(err)
	}
	if reflect.ValueOf(a.Source.Labels).Pointer() != reflect.ValueOf(b.Source.Labels).Pointer() {
		t.Error("identical source labels were not shared")
	}
	if !reflect.DeepEqual(a.Destination.Labels, evs[0].Destination.Labels) {
		t.Errorf("cached labels differ: %v", a.Destination.Labels)
	}
	other := *evs[0]
	other.Source.Labels = map[string]string{"pod": "other"}
	c, err := d.Decode(EncodeEvent(&other))
	if err != nil {
		t.Fatal(err)
	}
	if c.Source.Labels["pod"] != "other" || len(c.Source.Labels) != 1 {
		t.Errorf("different labels decoded as %v", c.Source.Labels)
	}
}

func TestDecodeRepeatedMetaMerges(t *testing.T) {
	one := EncodeEvent(&Event{Source: Endpoint{Labels: map[string]string{"a": "1"}}})
	two := EncodeEvent(&Event{Source: Endpoint{Labels: map[string]string{"b": "2"}}})
	var d Decoder
	ev, err := d.Decode(append(append([]byte{}, one...), two...))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Source.Labels["a"] != "1" || ev.Source.Labels["b"] != "2" {
		t.Fatalf("labels %v", ev.Source.Labels)
	}
	// The cached {a:1} map must not have been modified by the merge.
	again, _ := d.Decode(one)
	if len(again.Source.Labels) != 1 {
		t.Fatalf("cached map was mutated: %v", again.Source.Labels)
	}
}
