package tapclient

import (
	"encoding/binary"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// EncodeEvent writes ev as a linkerd2.tap.TapEvent, the way the viz tap
// server sends it (headers as value_str/value_bin, route_meta always set).
// Test servers and fuzzers use it; DecodeEvent(EncodeEvent(ev)) gives ev
// back. Map entries are written in key order so output is deterministic.
func EncodeEvent(ev *Event) []byte {
	var b []byte
	b = appendMessage(b, fEvSource, encodeAddr(ev.Source))
	b = appendMessage(b, fEvDest, encodeAddr(ev.Destination))
	if http := encodeHTTP(ev); http != nil {
		b = appendMessage(b, fEvHTTP, http)
	}
	if len(ev.Destination.Labels) > 0 {
		b = appendMessage(b, fEvDestMeta, encodeLabels(ev.Destination.Labels))
	}
	if len(ev.Source.Labels) > 0 {
		b = appendMessage(b, fEvSrcMeta, encodeLabels(ev.Source.Labels))
	}
	switch ev.Direction {
	case DirectionInbound:
		b = appendVarint(b, fEvDirection, 1)
	case DirectionOutbound:
		b = appendVarint(b, fEvDirection, 2)
	}
	if ev.RouteMetaPresent || len(ev.RouteLabels) > 0 {
		b = appendMessage(b, fEvRouteMeta, encodeLabels(ev.RouteLabels))
	}
	return b
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func encodeAddr(e Endpoint) []byte {
	var ip []byte
	switch {
	case e.IP.Is4():
		a := e.IP.As4()
		ip = protowire.AppendTag(ip, fIPv4, protowire.Fixed32Type)
		ip = protowire.AppendFixed32(ip, binary.BigEndian.Uint32(a[:]))
	case e.IP.IsValid():
		a := e.IP.As16()
		var v6 []byte
		v6 = protowire.AppendTag(v6, fIPv6Hi, protowire.Fixed64Type)
		v6 = protowire.AppendFixed64(v6, binary.BigEndian.Uint64(a[:8]))
		v6 = protowire.AppendTag(v6, fIPv6Lo, protowire.Fixed64Type)
		v6 = protowire.AppendFixed64(v6, binary.BigEndian.Uint64(a[8:]))
		ip = appendMessage(ip, fIPv6, v6)
	}
	var b []byte
	if ip != nil {
		b = appendMessage(b, fAddrIP, ip)
	}
	return appendVarint(b, fAddrPort, uint64(e.Port))
}

func encodeLabels(m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b []byte
	for _, k := range keys {
		var entry []byte
		entry = appendString(entry, fEntryKey, k)
		entry = appendString(entry, fEntryValue, m[k])
		b = appendMessage(b, fMetaLabels, entry)
	}
	return b
}

func encodeHTTP(ev *Event) []byte {
	var m []byte
	switch ev.Kind {
	case KindRequest:
		m = appendMessage(m, fReqID, encodeID(ev.ID))
		if ev.Method != "" {
			m = appendMessage(m, fReqMethod, encodeEnum(ev.Method, methodNames))
		}
		if ev.Scheme != "" {
			m = appendMessage(m, fReqScheme, encodeEnum(ev.Scheme, schemeNames))
		}
		m = appendString(m, fReqAuthority, ev.Authority)
		m = appendString(m, fReqPath, ev.Path)
		if ev.Headers != nil {
			m = appendMessage(m, fReqHeaders, encodeHeaders(ev.Headers))
		}
		return appendMessage(nil, fHTTPReqInit, m)
	case KindResponse:
		m = appendMessage(m, fRspID, encodeID(ev.ID))
		m = appendMessage(m, fRspSince, encodeDuration(ev.Latency))
		m = appendVarint(m, fRspStatus, uint64(ev.HTTPStatus))
		if ev.Headers != nil {
			m = appendMessage(m, fRspHeaders, encodeHeaders(ev.Headers))
		}
		return appendMessage(nil, fHTTPRspInit, m)
	case KindEnd:
		m = appendMessage(m, fEndID, encodeID(ev.ID))
		m = appendMessage(m, fEndSinceReq, encodeDuration(ev.Latency))
		if ev.Duration != 0 {
			m = appendMessage(m, fEndSinceRsp, encodeDuration(ev.Duration))
		}
		m = appendVarint(m, fEndBytes, ev.ResponseBytes)
		var eos []byte
		switch {
		case ev.GRPCStatus != nil:
			// oneof members are written even when zero (grpc-status OK).
			eos = protowire.AppendTag(eos, fEosGRPC, protowire.VarintType)
			eos = protowire.AppendVarint(eos, uint64(*ev.GRPCStatus))
		case ev.ResetCode != nil:
			eos = protowire.AppendTag(eos, fEosReset, protowire.VarintType)
			eos = protowire.AppendVarint(eos, uint64(*ev.ResetCode))
		}
		m = appendMessage(m, fEndEos, eos)
		if ev.Trailers != nil {
			m = appendMessage(m, fEndTrailers, encodeHeaders(ev.Trailers))
		}
		return appendMessage(nil, fHTTPRspEnd, m)
	}
	return nil
}

func encodeID(id StreamID) []byte {
	var b []byte
	b = appendVarint(b, fIDBase, uint64(id.Base))
	return appendVarint(b, fIDStream, id.Stream)
}

func encodeEnum(s string, names []string) []byte {
	for i, n := range names {
		if strings.EqualFold(s, n) {
			b := protowire.AppendTag(nil, fEnumRegistered, protowire.VarintType)
			return protowire.AppendVarint(b, uint64(i))
		}
	}
	return appendString(nil, fEnumOther, s)
}

func encodeHeaders(hs []Header) []byte {
	var b []byte
	for _, h := range hs {
		var m []byte
		m = appendString(m, fHeaderName, h.Name)
		if h.ValueBin != nil {
			m = protowire.AppendTag(m, fHeaderBin, protowire.BytesType)
			m = protowire.AppendBytes(m, h.ValueBin)
		} else {
			// value_str is a oneof member: written even when empty.
			m = protowire.AppendTag(m, fHeaderStr, protowire.BytesType)
			m = protowire.AppendString(m, h.Value)
		}
		b = appendMessage(b, fHeadersList, m)
	}
	return b
}

func encodeDuration(d time.Duration) []byte {
	secs := int64(d / time.Second)
	nanos := int64(d % time.Second)
	var b []byte
	b = appendVarint(b, fDurSeconds, uint64(secs))
	return appendVarint(b, fDurNanos, uint64(nanos))
}
