// Package tapwire is the server side of the tap wire protocol, for the test
// tap server, benchmarks and tests: it encodes TapEvents and ApiErrors as
// linkerd-viz's tap server sends them, frames them, and decodes the
// TapByResourceRequest a client sends.
//
// The shipped tapclient only ever reads events and writes requests; this
// package is the other half. Its field numbers are written from
// linkerd-viz's protos (viz/tap/proto/viz_tap.proto,
// viz/metrics-api/proto/viz.proto, proto/common/net.proto), independently of
// tapclient's, so a wrong field number on either side fails a test instead
// of being mirrored.
package tapwire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// linkerd2.tap.TapEvent and the messages below it.
const (
	evSource      = 1 // common.net.TcpAddress
	evDestination = 2 // common.net.TcpAddress
	evHTTP        = 3 // Http (oneof event)
	evDestMeta    = 4 // EndpointMeta
	evSourceMeta  = 5 // EndpointMeta
	evDirection   = 6 // ProxyDirection: INBOUND=1, OUTBOUND=2
	evRouteMeta   = 7 // RouteMeta

	metaLabels = 1 // map<string,string>: entries with key=1, value=2

	tcpIP     = 1 // IPAddress
	tcpPort   = 2
	ipV4      = 1 // fixed32
	ipV6      = 2 // IPv6{first=1, last=2} fixed64
	ipV6First = 1
	ipV6Last  = 2

	httpRequestInit  = 1
	httpResponseInit = 2
	httpResponseEnd  = 3

	streamBase   = 1
	streamStream = 2

	reqID        = 1
	reqMethod    = 2 // viz.HttpMethod{registered=1 | unregistered=2}
	reqScheme    = 3 // viz.Scheme{registered=1 | unregistered=2}
	reqAuthority = 4
	reqPath      = 5
	reqHeaders   = 6

	rspID      = 1
	rspSince   = 2 // google.protobuf.Duration{seconds=1, nanos=2}
	rspStatus  = 3
	rspHeaders = 4

	endID        = 1
	endSinceReq  = 2
	endSinceRsp  = 3
	endBytes     = 4
	endEos       = 5 // viz.Eos{grpc_status_code=1 | reset_error_code=2}
	endTrailers  = 6
	eosGRPC      = 1
	eosReset     = 2
	enumRegister = 1
	enumOther    = 2

	headersList = 1 // viz.Headers{repeated Header headers=1}
	headerName  = 1
	headerStr   = 2 // oneof value: value_str
	headerBin   = 3 // oneof value: value_bin

	apiErrorText = 1 // viz.ApiError{error=1}
)

var (
	methods = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "HEAD", "TRACE"}
	schemes = []string{"HTTP", "HTTPS"}
)

// EncodeEvent writes ev as a TapEvent, as the viz tap server sends it:
// headers as value_str or value_bin, route_meta whenever the event carries
// it, map entries in key order (deterministic output).
func EncodeEvent(ev *tapclient.Event) []byte {
	var b []byte
	b = msg(b, evSource, address(ev.Source))
	b = msg(b, evDestination, address(ev.Destination))
	if h := httpEvent(ev); h != nil {
		b = msg(b, evHTTP, h)
	}
	if len(ev.Destination.Labels) > 0 {
		b = msg(b, evDestMeta, labels(ev.Destination.Labels))
	}
	if len(ev.Source.Labels) > 0 {
		b = msg(b, evSourceMeta, labels(ev.Source.Labels))
	}
	switch ev.Direction {
	case tapclient.DirectionInbound:
		b = uvarint(b, evDirection, 1)
	case tapclient.DirectionOutbound:
		b = uvarint(b, evDirection, 2)
	}
	if ev.RouteMetaPresent || len(ev.RouteLabels) > 0 {
		b = msg(b, evRouteMeta, labels(ev.RouteLabels))
	}
	return b
}

// EncodeAPIError writes a viz.ApiError, what the tap server streams when a
// tap fails after it started.
func EncodeAPIError(text string) []byte { return str(nil, apiErrorText, text) }

// WriteFrame writes msg with the tap stream's 4-byte little-endian length
// prefix, in one Write so a flush after it always sends whole frames.
func WriteFrame(w io.Writer, m []byte) error {
	if uint64(len(m)) > math.MaxUint32 {
		return fmt.Errorf("frame of %d bytes does not fit the length prefix", len(m))
	}
	out := binary.LittleEndian.AppendUint32(make([]byte, 0, 4+len(m)), uint32(len(m)))
	_, err := w.Write(append(out, m...))
	return err
}

// msg writes a set sub-message, even an empty one.
func msg(b []byte, num protowire.Number, m []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), m)
}

// str follows proto3: an empty string is not written.
func str(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
}

// uvarint follows proto3: zero is not written.
func uvarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

func address(e tapclient.Endpoint) []byte {
	var ip []byte
	if e.IP.Is4() {
		a := e.IP.As4()
		ip = protowire.AppendTag(ip, ipV4, protowire.Fixed32Type)
		ip = protowire.AppendFixed32(ip, binary.BigEndian.Uint32(a[:]))
	} else if e.IP.IsValid() {
		a := e.IP.As16()
		var v6 []byte
		v6 = protowire.AppendFixed64(protowire.AppendTag(v6, ipV6First, protowire.Fixed64Type), binary.BigEndian.Uint64(a[:8]))
		v6 = protowire.AppendFixed64(protowire.AppendTag(v6, ipV6Last, protowire.Fixed64Type), binary.BigEndian.Uint64(a[8:]))
		ip = msg(ip, ipV6, v6)
	}
	var b []byte
	if ip != nil {
		b = msg(b, tcpIP, ip)
	}
	return uvarint(b, tcpPort, uint64(e.Port))
}

func labels(m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b []byte
	for _, k := range keys {
		b = msg(b, metaLabels, str(str(nil, 1, k), 2, m[k]))
	}
	return b
}

func httpEvent(ev *tapclient.Event) []byte {
	var m []byte
	switch ev.Kind {
	case tapclient.KindRequest:
		m = msg(m, reqID, streamID(ev.ID))
		if ev.Method != "" {
			m = msg(m, reqMethod, enum(ev.Method, methods))
		}
		if ev.Scheme != "" {
			m = msg(m, reqScheme, enum(ev.Scheme, schemes))
		}
		m = str(m, reqAuthority, ev.Authority)
		m = str(m, reqPath, ev.Path)
		if ev.Headers != nil {
			m = msg(m, reqHeaders, headers(ev.Headers))
		}
		return msg(nil, httpRequestInit, m)
	case tapclient.KindResponse:
		m = msg(m, rspID, streamID(ev.ID))
		m = msg(m, rspSince, duration(ev.Latency))
		m = uvarint(m, rspStatus, uint64(ev.HTTPStatus))
		if ev.Headers != nil {
			m = msg(m, rspHeaders, headers(ev.Headers))
		}
		return msg(nil, httpResponseInit, m)
	case tapclient.KindEnd:
		m = msg(m, endID, streamID(ev.ID))
		m = msg(m, endSinceReq, duration(ev.Latency))
		if ev.Duration != 0 {
			m = msg(m, endSinceRsp, duration(ev.Duration))
		}
		m = uvarint(m, endBytes, ev.ResponseBytes)
		var eos []byte
		// Members of a oneof are written even when zero (grpc-status 0).
		if ev.GRPCStatus != nil {
			eos = protowire.AppendVarint(protowire.AppendTag(eos, eosGRPC, protowire.VarintType), uint64(*ev.GRPCStatus))
		} else if ev.ResetCode != nil {
			eos = protowire.AppendVarint(protowire.AppendTag(eos, eosReset, protowire.VarintType), uint64(*ev.ResetCode))
		}
		m = msg(m, endEos, eos)
		if ev.Trailers != nil {
			m = msg(m, endTrailers, headers(ev.Trailers))
		}
		return msg(nil, httpResponseEnd, m)
	}
	return nil
}

func streamID(id tapclient.StreamID) []byte {
	return uvarint(uvarint(nil, streamBase, uint64(id.Base)), streamStream, id.Stream)
}

func enum(s string, registered []string) []byte {
	for i, n := range registered {
		if strings.EqualFold(s, n) {
			return protowire.AppendVarint(protowire.AppendTag(nil, enumRegister, protowire.VarintType), uint64(i))
		}
	}
	return str(nil, enumOther, s)
}

func headers(hs []tapclient.Header) []byte {
	var b []byte
	for _, h := range hs {
		m := str(nil, headerName, h.Name)
		if h.ValueBin != nil {
			m = protowire.AppendBytes(protowire.AppendTag(m, headerBin, protowire.BytesType), h.ValueBin)
		} else {
			// value_str is a oneof member: written even when empty.
			m = protowire.AppendString(protowire.AppendTag(m, headerStr, protowire.BytesType), h.Value)
		}
		b = msg(b, headersList, m)
	}
	return b
}

func duration(d time.Duration) []byte {
	return uvarint(uvarint(nil, 1, uint64(int64(d/time.Second))), 2, uint64(int64(d%time.Second)))
}

// TapByResourceRequest and what it refers to.
const (
	trTarget  = 1 // viz.ResourceSelection{resource=1, label_selector=2}
	trMatch   = 2 // Match
	trMaxRPS  = 3 // float
	trExtract = 4 // Extract{http=1: Http{headers=1}}

	selResource = 1 // viz.Resource{namespace=1, type=2, name=3}
	selLabels   = 2

	matchAll          = 1 // Seq{repeated Match matches=1}
	matchAny          = 2
	matchNot          = 3
	matchDestinations = 4
	matchHTTP         = 5 // Http{scheme=1 | method=2 | authority=3 | path=4}
)

// ErrUnsupportedMatch is what the tap server says about match trees other
// than the flat All list linkerd's CLI builds.
var ErrUnsupportedMatch = errors.New("unexpected match specified: only a flat All list is supported")

// field is one field of a message: its number, wire type and value.
type field struct {
	num protowire.Number
	typ protowire.Type
	raw []byte // bytes fields
	n   uint64 // varint and fixed fields
}

// parse splits a message into its fields; malformed input is an error.
func parse(b []byte) ([]field, error) {
	var out []field
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.BytesType:
			f.raw, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			f.n, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.n = uint64(v)
		case protowire.Fixed64Type:
			f.n, n = protowire.ConsumeFixed64(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		out = append(out, f)
	}
	return out, nil
}

// DecodeRequest reads a TapByResourceRequest body as the tap server does.
// Unknown fields are ignored; a request without a target is an error.
func DecodeRequest(b []byte) (tapclient.Request, error) {
	var r tapclient.Request
	fs, err := parse(b)
	if err != nil {
		return r, err
	}
	hasTarget := false
	for _, f := range fs {
		switch {
		case f.num == trTarget && f.typ == protowire.BytesType:
			hasTarget = true
			if r.Target, r.LabelSelector, err = selection(f.raw); err != nil {
				return tapclient.Request{}, err
			}
		case f.num == trMatch && f.typ == protowire.BytesType:
			if err := match(f.raw, &r); err != nil {
				return tapclient.Request{}, err
			}
		case f.num == trMaxRPS && f.typ == protowire.Fixed32Type:
			r.MaxRPS = math.Float32frombits(uint32(f.n))
		case f.num == trExtract && f.typ == protowire.BytesType:
			ex, err := parse(f.raw)
			if err != nil {
				return tapclient.Request{}, err
			}
			for _, e := range ex {
				if e.num != 1 || e.typ != protowire.BytesType {
					continue
				}
				hs, err := parse(e.raw)
				if err != nil {
					return tapclient.Request{}, err
				}
				for _, h := range hs {
					if h.num == 1 && h.typ == protowire.BytesType {
						r.ExtractHeaders = true
					}
				}
			}
		}
	}
	if !hasTarget {
		return tapclient.Request{}, errors.New("TapByResource received nil target ResourceSelection")
	}
	return r, nil
}

func selection(b []byte) (t tapclient.Target, selector string, err error) {
	fs, err := parse(b)
	if err != nil {
		return t, "", err
	}
	for _, f := range fs {
		if f.typ != protowire.BytesType {
			continue
		}
		switch f.num {
		case selLabels:
			selector = string(f.raw)
		case selResource:
			rs, err := parse(f.raw)
			if err != nil {
				return t, "", err
			}
			for _, r := range rs {
				if r.typ != protowire.BytesType {
					continue
				}
				switch r.num {
				case 1:
					t.Namespace = string(r.raw)
				case 2:
					t.Type = string(r.raw)
				case 3:
					t.Name = string(r.raw)
				}
			}
		}
	}
	return t, selector, nil
}

// match accepts Match{all: Seq{destinations | http ...}} only.
func match(b []byte, r *tapclient.Request) error {
	fs, err := parse(b)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if f.typ != protowire.BytesType {
			continue
		}
		if f.num != matchAll {
			return ErrUnsupportedMatch
		}
		seq, err := parse(f.raw)
		if err != nil {
			return err
		}
		for _, s := range seq {
			if s.num != 1 || s.typ != protowire.BytesType {
				continue
			}
			if err := leaf(s.raw, r); err != nil {
				return err
			}
		}
	}
	return nil
}

func leaf(b []byte, r *tapclient.Request) error {
	fs, err := parse(b)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if f.typ != protowire.BytesType {
			continue
		}
		switch f.num {
		case matchDestinations:
			to, _, err := selection(f.raw)
			if err != nil {
				return err
			}
			r.To = &to
		case matchHTTP:
			hs, err := parse(f.raw)
			if err != nil {
				return err
			}
			for _, h := range hs {
				if h.typ != protowire.BytesType {
					continue
				}
				switch h.num {
				case 1:
					r.Scheme = string(h.raw)
				case 2:
					r.Method = string(h.raw)
				case 3:
					r.Authority = string(h.raw)
				case 4:
					r.Path = string(h.raw)
				}
			}
		case matchAll, matchAny, matchNot:
			return ErrUnsupportedMatch
		}
	}
	return nil
}
