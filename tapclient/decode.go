package tapclient

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// TapEvent field numbers (identical in linkerd2.tap and io.linkerd.proxy.tap).
const (
	fEvSource    = 1
	fEvDest      = 2
	fEvHTTP      = 3
	fEvDestMeta  = 4
	fEvSrcMeta   = 5
	fEvDirection = 6
	fEvRouteMeta = 7

	fAddrIP   = 1
	fAddrPort = 2
	fIPv4     = 1
	fIPv6     = 2
	fIPv6Hi   = 1
	fIPv6Lo   = 2

	fMetaLabels = 1
	fEntryKey   = 1
	fEntryValue = 2

	fHTTPReqInit = 1
	fHTTPRspInit = 2
	fHTTPRspEnd  = 3

	fIDBase   = 1
	fIDStream = 2

	fReqID        = 1
	fReqMethod    = 2
	fReqScheme    = 3
	fReqAuthority = 4
	fReqPath      = 5
	fReqHeaders   = 6

	fRspID      = 1
	fRspSince   = 2
	fRspStatus  = 3
	fRspHeaders = 4

	fEndID          = 1
	fEndSinceReq    = 2
	fEndSinceRsp    = 3
	fEndBytes       = 4
	fEndEos         = 5
	fEndTrailers    = 6
	fEosGRPC        = 1
	fEosReset       = 2
	fEnumRegistered = 1
	fEnumOther      = 2

	fHeadersList  = 1
	fHeaderName   = 1
	fHeaderStr    = 2 // viz value_str; the proxy's bytes value uses the same number
	fHeaderBin    = 3 // viz value_bin
	fDurSeconds   = 1
	fDurNanos     = 2
	fAPIErrorText = 1
)

var methodNames = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "HEAD", "TRACE"}
var schemeNames = []string{"HTTP", "HTTPS"}

// Decoder decodes TapEvents, interning the strings that repeat from event to
// event (label keys and values, authorities) and reusing the label map of an
// endpoint whose labels are byte-for-byte those of an earlier event: the
// same pods show up again and again. Label maps from a Decoder are
// therefore shared between events and must be treated as read-only.
// A Decoder is not safe for concurrent use; its zero value is ready.
type Decoder struct {
	intern map[string]string
	labels map[string]map[string]string // raw EndpointMeta/RouteMeta -> labels
}

// Bounds of the label-map cache.
const (
	maxLabelSets    = 1024
	maxLabelSetSize = 4096
)

// The intern table is bounded so that high-cardinality values (paths) cannot
// grow it without limit.
const (
	maxInterned   = 4096
	maxInternSize = 256
)

func (d *Decoder) str(b []byte) string {
	if d == nil {
		return string(b)
	}
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) <= maxInternSize {
		if d.intern == nil {
			d.intern = make(map[string]string, 64)
		}
		if len(d.intern) < maxInterned {
			d.intern[s] = s
		}
	}
	return s
}

// Decode decodes one TapEvent payload (a frame without its length prefix).
// An ApiError frame that the server appended mid-stream is recognised and
// returned as a *Error. Malformed input returns an error; it never panics.
// A nil *Decoder decodes without interning or caching.
func (d *Decoder) Decode(b []byte) (*Event, error) {
	if msg, ok := midStreamError(b); ok {
		return nil, &Error{Reason: ReasonServer, Message: msg}
	}
	ev := &Event{Direction: DirectionUnknown, Kind: KindUnknown}
	var srcIP, dstIP netip.Addr
	err := walk(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if num == fEvDirection && typ == protowire.VarintType {
			switch x {
			case 1:
				ev.Direction = DirectionInbound
			case 2:
				ev.Direction = DirectionOutbound
			default:
				ev.Direction = DirectionUnknown
			}
			return nil
		}
		if typ != protowire.BytesType {
			return nil
		}
		var err error
		switch num {
		case fEvSource:
			srcIP, ev.Source.Port, err = decodeTCPAddr(v)
		case fEvDest:
			dstIP, ev.Destination.Port, err = decodeTCPAddr(v)
		case fEvSrcMeta:
			ev.Source.Labels, err = d.decodeLabels(v, ev.Source.Labels)
		case fEvDestMeta:
			ev.Destination.Labels, err = d.decodeLabels(v, ev.Destination.Labels)
		case fEvRouteMeta:
			ev.RouteMetaPresent = true
			ev.RouteLabels, err = d.decodeLabels(v, ev.RouteLabels)
		case fEvHTTP:
			err = d.decodeHTTP(v, ev)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("decoding tap event (%d bytes): %w", len(b), err)
	}
	ev.Source.IP, ev.Destination.IP = srcIP, dstIP
	ev.TappedIP = tappedIP(ev.Direction, srcIP, dstIP)
	return ev, nil
}

func decodeTCPAddr(b []byte) (ip netip.Addr, port uint32, err error) {
	err = walk(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == fAddrPort && typ == protowire.VarintType:
			port = uint32(x)
		case num == fAddrIP && typ == protowire.BytesType:
			return walk(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				switch {
				case num == fIPv4 && typ == protowire.Fixed32Type:
					// Network order in a uint32; 0 means "no address" as in linkerd.
					if x != 0 {
						var a [4]byte
						binary.BigEndian.PutUint32(a[:], uint32(x))
						ip = netip.AddrFrom4(a)
					} else {
						ip = netip.Addr{}
					}
				case num == fIPv6 && typ == protowire.BytesType:
					var a [16]byte
					err := walk(v, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
						if typ != protowire.Fixed64Type {
							return nil
						}
						switch num {
						case fIPv6Hi:
							binary.BigEndian.PutUint64(a[:8], x)
						case fIPv6Lo:
							binary.BigEndian.PutUint64(a[8:], x)
						}
						return nil
					})
					ip = netip.AddrFrom16(a)
					return err
				}
				return nil
			})
		}
		return nil
	})
	return ip, port, err
}

// decodeLabels reads an EndpointMeta/RouteMeta into m (nil when there are
// no labels). A repeated field merges into the earlier map, as protobuf
// requires; m is then a fresh map because cached ones are shared.
func (d *Decoder) decodeLabels(b []byte, m map[string]string) (map[string]string, error) {
	if len(b) == 0 {
		return m, nil
	}
	cacheable := d != nil && m == nil && len(b) <= maxLabelSetSize
	if cacheable {
		if cached, ok := d.labels[string(b)]; ok {
			return cached, nil
		}
	}
	if m == nil {
		m = make(map[string]string, countEntries(b))
	} else {
		merged := make(map[string]string, len(m)+countEntries(b))
		for k, v := range m {
			merged[k] = v
		}
		m = merged
	}
	err := walk(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != fMetaLabels || typ != protowire.BytesType {
			return nil
		}
		var key, val []byte
		err := walk(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
			if typ != protowire.BytesType {
				return nil
			}
			switch num {
			case fEntryKey:
				key = v
			case fEntryValue:
				val = v
			}
			return nil
		})
		if err != nil {
			return err
		}
		m[d.str(key)] = d.str(val)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, nil
	}
	if cacheable {
		if d.labels == nil {
			d.labels = make(map[string]map[string]string, 16)
		}
		if len(d.labels) < maxLabelSets {
			d.labels[string(b)] = m
		}
	}
	return m, nil
}

// countEntries is a size hint: the number of map entries in a meta message,
// so the map is allocated once at the right size.
func countEntries(b []byte) int {
	n := 0
	for len(b) > 0 {
		num, typ, k := protowire.ConsumeTag(b)
		if k < 0 {
			break
		}
		m := protowire.ConsumeFieldValue(num, typ, b[k:])
		if m < 0 {
			break
		}
		if num == fMetaLabels {
			n++
		}
		b = b[k+m:]
	}
	return n
}

func (d *Decoder) decodeHTTP(b []byte, ev *Event) error {
	return walk(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case fHTTPReqInit:
			ev.Kind = KindRequest
			return d.decodeReqInit(v, ev)
		case fHTTPRspInit:
			ev.Kind = KindResponse
			return d.decodeRspInit(v, ev)
		case fHTTPRspEnd:
			ev.Kind = KindEnd
			return d.decodeRspEnd(v, ev)
		}
		return nil
	})
}

func (d *Decoder) decodeReqInit(b []byte, ev *Event) error {
	return walk(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		var err error
		switch num {
		case fReqID:
			ev.ID, err = decodeID(v)
		case fReqMethod:
			ev.Method, err = d.decodeEnum(v, methodNames)
		case fReqScheme:
			ev.Scheme, err = d.decodeEnum(v, schemeNames)
		case fReqAuthority:
			ev.Authority = d.str(v)
		case fReqPath:
			ev.Path = d.str(v)
		case fReqHeaders:
			ev.Headers, err = d.decodeHeaders(v, ev.Headers)
		}
		return err
	})
}

func (d *Decoder) decodeRspInit(b []byte, ev *Event) error {
	return walk(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		var err error
		switch {
		case num == fRspStatus && typ == protowire.VarintType:
			ev.HTTPStatus = uint32(x)
		case typ != protowire.BytesType:
		case num == fRspID:
			ev.ID, err = decodeID(v)
		case num == fRspSince:
			ev.Latency, err = decodeDuration(v)
		case num == fRspHeaders:
			ev.Headers, err = d.decodeHeaders(v, ev.Headers)
		}
		return err
	})
}

func (d *Decoder) decodeRspEnd(b []byte, ev *Event) error {
	return walk(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		var err error
		switch {
		case num == fEndBytes && typ == protowire.VarintType:
			ev.ResponseBytes = x
		case typ != protowire.BytesType:
		case num == fEndID:
			ev.ID, err = decodeID(v)
		case num == fEndSinceReq:
			ev.Latency, err = decodeDuration(v)
		case num == fEndSinceRsp:
			ev.Duration, err = decodeDuration(v)
		case num == fEndTrailers:
			ev.Trailers, err = d.decodeHeaders(v, ev.Trailers)
		case num == fEndEos:
			err = walk(v, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
				if typ != protowire.VarintType {
					return nil
				}
				code := uint32(x)
				switch num {
				case fEosGRPC:
					ev.GRPCStatus, ev.ResetCode = &code, nil
				case fEosReset:
					ev.ResetCode, ev.GRPCStatus = &code, nil
				}
				return nil
			})
		}
		return err
	})
}

func decodeID(b []byte) (id StreamID, err error) {
	err = walk(b, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
		if typ != protowire.VarintType {
			return nil
		}
		switch num {
		case fIDBase:
			id.Base = uint32(x)
		case fIDStream:
			id.Stream = x
		}
		return nil
	})
	return id, err
}

// decodeEnum reads HttpMethod/Scheme: a registered enum value or an
// unregistered string.
func (d *Decoder) decodeEnum(b []byte, names []string) (s string, err error) {
	err = walk(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == fEnumRegistered && typ == protowire.VarintType:
			if x < uint64(len(names)) {
				s = names[x]
			} else {
				s = strconv.FormatUint(x, 10)
			}
		case num == fEnumOther && typ == protowire.BytesType:
			s = d.str(v)
		}
		return nil
	})
	return s, err
}

func (d *Decoder) decodeHeaders(b []byte, hs []Header) ([]Header, error) {
	err := walk(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != fHeadersList || typ != protowire.BytesType {
			return nil
		}
		var h Header
		err := walk(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
			if typ != protowire.BytesType {
				return nil
			}
			switch num {
			case fHeaderName:
				h.Name = d.str(v)
			case fHeaderStr:
				// The proxy's own Header carries bytes here; keep non-UTF-8 as binary.
				if utf8.Valid(v) {
					h.Value, h.ValueBin = string(v), nil
				} else {
					h.Value, h.ValueBin = "", append([]byte{}, v...)
				}
			case fHeaderBin:
				h.Value, h.ValueBin = "", append([]byte{}, v...)
			}
			return nil
		})
		hs = append(hs, h)
		return err
	})
	return hs, err
}

// decodeDuration converts a google.protobuf.Duration, saturating instead of
// overflowing.
func decodeDuration(b []byte) (time.Duration, error) {
	var secs, nanos int64
	err := walk(b, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
		if typ != protowire.VarintType {
			return nil
		}
		switch num {
		case fDurSeconds:
			secs = int64(x)
		case fDurNanos:
			nanos = int64(int32(x))
		}
		return nil
	})
	const maxSecs = math.MaxInt64 / int64(time.Second)
	switch {
	case secs > maxSecs:
		return math.MaxInt64, err
	case secs < -maxSecs:
		return math.MinInt64, err
	}
	return time.Duration(secs)*time.Second + time.Duration(nanos), err
}

// midStreamError recognises an ApiError frame (a lone field 1 holding
// printable text) among TapEvents. A real event's field 1 is a TcpAddress,
// whose bytes are never all printable text (its tags are control bytes).
func midStreamError(b []byte) (string, bool) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 || num != fAPIErrorText || typ != protowire.BytesType {
		return "", false
	}
	v, m := protowire.ConsumeBytes(b[n:])
	if m < 0 || n+m != len(b) || len(v) == 0 || !printable(v) {
		return "", false
	}
	return string(v), true
}

func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if !unicode.IsPrint(r) && r != '\n' && r != '\t' {
			return false
		}
	}
	return true
}

// DecodeAPIError decodes a linkerd2.viz.ApiError{string error = 1}.
func DecodeAPIError(b []byte) (string, error) {
	var msg string
	var seen bool
	err := walk(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num == fAPIErrorText && typ == protowire.BytesType {
			msg, seen = string(v), true
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if !seen {
		return "", errors.New("ApiError has no message")
	}
	return msg, nil
}
