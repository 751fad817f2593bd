package tapclient_test

// Tests that need the server side of the protocol (internal/tapwire, which
// imports tapclient, hence an external test package): events as the viz tap
// server encodes them must decode to what was encoded.

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tappb "github.com/linkerd/linkerd2-proxy-api/go/tap"
	"google.golang.org/protobuf/proto"

	"github.com/kubectl-profiles/kubectl-profiles/internal/tapwire"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

var update = flag.Bool("update", false, "rewrite golden files")

// decodeEvent decodes without interning or caching.
func decodeEvent(b []byte) (*tapclient.Event, error) { return (*tapclient.Decoder)(nil).Decode(b) }

// reasonOf is err's tapclient.Reason, or "" when err is not a *tapclient.Error.
func reasonOf(err error) tapclient.Reason {
	var e *tapclient.Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func sampleEvents() []*tapclient.Event {
	ip := netip.MustParseAddr
	src := tapclient.Endpoint{IP: ip("10.42.0.15"), Port: 54312, Labels: map[string]string{
		"control_plane_ns": "linkerd", "deployment": "web", "namespace": "emojivoto",
		"pod": "web-5f86686c4d-58p7k", "pod_template_hash": "5f86686c4d", "serviceaccount": "web", "tls": "loopback"}}
	dst := tapclient.Endpoint{IP: ip("10.42.0.9"), Port: 8080, Labels: map[string]string{
		"control_plane_ns": "linkerd", "deployment": "voting", "namespace": "emojivoto",
		"pod": "voting-ff4c54b8d-7xk2q", "pod_template_hash": "ff4c54b8d",
		"server_id": "voting.emojivoto.serviceaccount.identity.linkerd.cluster.local",
		"service":   "voting-svc", "serviceaccount": "voting", "tls": "true", "zone_locality": "unknown"}}
	rt := map[string]string{"route": "VoteDoughnut"}
	id := tapclient.StreamID{3, 7}
	return []*tapclient.Event{
		{Direction: tapclient.DirectionOutbound, Kind: tapclient.KindRequest, ID: id, Source: src, Destination: dst, TappedIP: src.IP,
			RouteLabels: rt, RouteMetaPresent: true, Method: "POST", Scheme: "HTTP",
			Authority: "voting-svc.emojivoto:8080", Path: "/emojivoto.v1.VotingService/VoteDoughnut",
			Headers: []tapclient.Header{{Name: ":method", Value: "POST"}, {Name: "x-bin", ValueBin: []byte{0x80, 0x81}}}},
		{Direction: tapclient.DirectionOutbound, Kind: tapclient.KindResponse, ID: id, Source: src, Destination: dst, TappedIP: src.IP,
			RouteLabels: rt, RouteMetaPresent: true, HTTPStatus: 200, Latency: 2735 * time.Microsecond,
			Headers: []tapclient.Header{{Name: ":status", Value: "200"}}},
		{Direction: tapclient.DirectionOutbound, Kind: tapclient.KindEnd, ID: id, Source: src, Destination: dst, TappedIP: src.IP,
			RouteLabels: rt, RouteMetaPresent: true, Latency: 2776 * time.Microsecond, Duration: 41 * time.Microsecond,
			ResponseBytes: 154, GRPCStatus: u32(0), Trailers: []tapclient.Header{{Name: "grpc-status", Value: "0"}}},
		{Direction: tapclient.DirectionInbound, Kind: tapclient.KindEnd, ID: tapclient.StreamID{12, 0}, Source: tapclient.Endpoint{IP: ip("10.42.0.15"), Port: 47952},
			Destination: tapclient.Endpoint{IP: ip("fd00::9"), Port: 7002}, TappedIP: ip("fd00::9"),
			Latency: -time.Millisecond, ResponseBytes: 0, ResetCode: u32(2)},
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for i, ev := range sampleEvents() {
		b := tapwire.EncodeEvent(ev)
		got, err := decodeEvent(b)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, ev) {
			t.Fatalf("event %d differs\n got %+v\nwant %+v", i, got, ev)
		}

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
	// viz tapclient.Header{name=1; value_bin=3}.
	ev := &tapclient.Event{Kind: tapclient.KindRequest, Headers: []tapclient.Header{{Name: "b", ValueBin: []byte{1, 2}}, {Name: "empty", Value: ""}}}
	got, err := decodeEvent(tapwire.EncodeEvent(ev))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Headers[0].ValueBin, []byte{1, 2}) || got.Headers[1].Name != "empty" || got.Headers[1].ValueBin != nil {
		t.Fatalf("headers %+v", got.Headers)
	}
}

func TestDecodeMidStreamAPIError(t *testing.T) {
	_, err := decodeEvent(tapwire.EncodeAPIError("rpc error: stream send failed"))
	if reasonOf(err) != tapclient.ReasonServer || !strings.Contains(err.Error(), "stream send failed") {
		t.Fatalf("err = %v", err)
	}
	// A bare source address is still an event.
	ev, err := decodeEvent(tapwire.EncodeEvent(&tapclient.Event{Source: tapclient.Endpoint{IP: netip.MustParseAddr("1.2.3.4"), Port: 80}}))
	if err != nil || ev.Source.Port != 80 {
		t.Fatalf("address-only event: %+v %v", ev, err)
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
	var d tapclient.Decoder
	evs := sampleEvents()
	a, err := d.Decode(tapwire.EncodeEvent(evs[0]))
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Decode(tapwire.EncodeEvent(evs[1]))
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
	c, err := d.Decode(tapwire.EncodeEvent(&other))
	if err != nil {
		t.Fatal(err)
	}
	if c.Source.Labels["pod"] != "other" || len(c.Source.Labels) != 1 {
		t.Errorf("different labels decoded as %v", c.Source.Labels)
	}
}

func TestDecodeRepeatedMetaMerges(t *testing.T) {
	one := tapwire.EncodeEvent(&tapclient.Event{Source: tapclient.Endpoint{Labels: map[string]string{"a": "1"}}})
	two := tapwire.EncodeEvent(&tapclient.Event{Source: tapclient.Endpoint{Labels: map[string]string{"b": "2"}}})
	var d tapclient.Decoder
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
