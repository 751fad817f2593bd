package tapcapture

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// A linkerd viz tap -o json stream: pretty objects, one gRPC end with its
// grpc-status trailer, one HTTP/1 end where linkerd still writes
// grpcStatusCode 0, and a reset.
const vizStream = `{
  "source": {
    "ip": "10.42.0.15",
    "port": 54312,
    "metadata": {
      "namespace": "emojivoto",
      "tls": "loopback"
    }
  },
  "destination": {
    "ip": "10.42.0.9",
    "port": 8080,
    "metadata": {
      "namespace": "emojivoto",
      "service": "voting-svc",
      "tls": "true"
    }
  },
  "routeMeta": {
    "route": "VoteDoughnut"
  },
  "proxyDirection": "OUTBOUND",
  "requestInitEvent": {
    "id": {
      "base": 3,
      "stream": 7
    },
    "method": "POST",
    "scheme": "HTTP",
    "authority": "voting-svc.emojivoto:8080",
    "path": "/emojivoto.v1.VotingService/VoteDoughnut",
    "headers": [
      {
        "name": ":method",
        "valueStr": "POST"
      },
      {
        "name": "x-bin",
        "valueBin": "gIE="
      }
    ]
  }
}
{
  "source": {"ip": "10.42.0.15", "port": 54312, "metadata": {"namespace": "emojivoto", "tls": "loopback"}},
  "destination": {"ip": "10.42.0.9", "port": 8080, "metadata": null},
  "routeMeta": null,
  "proxyDirection": "OUTBOUND",
  "responseEndEvent": {
    "id": {"base": 3, "stream": 7},
    "sinceRequestInit": {"seconds": 1, "nanos": 5000},
    "sinceResponseInit": {"nanos": 888000},
    "responseBytes": 111,
    "trailers": [{"name": "grpc-status", "valueStr": "0"}],
    "grpcStatusCode": 0
  }
}
{"source":{"ip":"","port":0,"metadata":null},"destination":{"ip":"ff01::1","port":0,"metadata":null},"routeMeta":null,"proxyDirection":"INBOUND","responseEndEvent":{"id":{"base":1},"sinceRequestInit":{},"sinceResponseInit":{},"responseBytes":2,"trailers":null,"grpcStatusCode":0}}
{"source":null,"destination":null,"routeMeta":null,"proxyDirection":"UNKNOWN","responseEndEvent":{"id":{},"sinceRequestInit":null,"sinceResponseInit":null,"responseBytes":0,"trailers":null,"grpcStatusCode":0,"resetErrorCode":123}}
`

func readAll(t *testing.T, r *Reader) []*tapclient.Event {
	t.Helper()
	var out []*tapclient.Event
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
}

func TestReadLinkerdJSON(t *testing.T) {
	evs := readAll(t, NewReader(strings.NewReader(vizStream)))
	if len(evs) != 4 {
		t.Fatalf("%d events", len(evs))
	}
	req := evs[0]
	if req.Kind != tapclient.KindRequest || req.Direction != tapclient.DirectionOutbound || req.ID.String() != "3:7" ||
		req.Method != "POST" || req.Scheme != "HTTP" || req.Authority != "voting-svc.emojivoto:8080" ||
		req.Route() != "VoteDoughnut" || req.TappedIP != netip.MustParseAddr("10.42.0.15") ||
		req.Destination.Labels["service"] != "voting-svc" || !bytes.Equal(req.Headers[1].ValueBin, []byte{0x80, 0x81}) {
		t.Errorf("request = %+v", req)
	}
	grpcEnd := evs[1]
	if grpcEnd.GRPCStatus == nil || *grpcEnd.GRPCStatus != 0 || grpcEnd.Latency != time.Second+5*time.Microsecond ||
		grpcEnd.Duration != 888*time.Microsecond || grpcEnd.ResponseBytes != 111 {
		t.Errorf("gRPC end = %+v", grpcEnd)
	}
	// The label map text repeats: the same map is shared.
	if reflect.ValueOf(evs[0].Source.Labels).Pointer() != reflect.ValueOf(evs[1].Source.Labels).Pointer() {
		t.Error("identical label objects are not shared")
	}
	h1 := evs[2]
	if h1.GRPCStatus != nil || h1.ResetCode != nil || h1.Destination.IP != netip.MustParseAddr("ff01::1") || h1.Source.IP.IsValid() {
		t.Errorf("HTTP/1 end = %+v", h1)
	}
	if r := evs[3]; r.ResetCode == nil || *r.ResetCode != 123 || r.GRPCStatus != nil || r.Direction != tapclient.DirectionUnknown {
		t.Errorf("reset end = %+v", r)
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	evs := readAll(t, NewReader(strings.NewReader(vizStream)))
	var b []byte
	var err error
	for _, ev := range evs {
		if b, err = AppendEvent(b, ev, "r", &RouteInfo{Status: "matched"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := bytes.Count(b, []byte("\n")); n != len(evs) {
		t.Fatalf("%d lines for %d events", n, len(evs))
	}
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if !json.Valid(line) {
			t.Fatalf("invalid JSON line %s", line)
		}
	}
	again := readAll(t, NewReader(bytes.NewReader(b)))
	if !reflect.DeepEqual(again, evs) {
		for i := range evs {
			if !reflect.DeepEqual(again[i], evs[i]) {
				t.Errorf("event %d:\n got %+v\nwant %+v", i, again[i], evs[i])
			}
		}
	}
}

func TestReaderErrors(t *testing.T) {
	// A capture cut inside an object ends cleanly, and says where.
	r := NewReader(strings.NewReader(vizStream + `{"source": {"ip": "1.2.3.4"`))
	if evs := readAll(t, r); len(evs) != 4 || !r.Truncated || r.TruncatedLine != strings.Count(vizStream, "\n")+1 {
		t.Errorf("truncated: %d events, %v line %d", len(evs), r.Truncated, r.TruncatedLine)
	}
	for _, tt := range []struct{ in, want string }{
		{"\n\nnot json", "line 3: expected a JSON object"},
		{`{"source": {"ip": "not-an-ip"}}`, "line 1: source.ip"},
		{`{"proxyDirection": 7}`, "line 1: not a tap event"},
		{"{\"a\": \"" + strings.Repeat("x", MaxObjectSize) + "\"}", "larger than"},
	} {
		_, err := NewReader(strings.NewReader(tt.in)).Next()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%.40q: err = %v, want %q", tt.in, err, tt.want)
		}
	}
	// Braces and quotes inside strings do not confuse the scanner.
	evs := readAll(t, NewReader(strings.NewReader(`{"requestInitEvent":{"path":"/a}\"{b"}}{"requestInitEvent":{"path":"/c"}}`)))
	if len(evs) != 2 || evs[0].Path != `/a}"{b` || evs[1].Path != "/c" {
		t.Errorf("got %+v", evs)
	}
}

func TestObjectsWithoutAnEventAreRejected(t *testing.T) {
	r := NewReader(strings.NewReader(`{"a": 1}`))
	if _, err := r.Next(); err == nil || !strings.Contains(err.Error(), "line 1: not a tap event") {
		t.Fatalf("err = %v", err)
	}
}
