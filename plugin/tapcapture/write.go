package tapcapture

import (
	"encoding/json"
	"strings"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// AppendEvent appends ev as one NDJSON line (ending in '\n') in linkerd's
// object shape. When info is non-nil the line also carries "rtRoute" (the
// route computed locally) and "rtRouteInfo". Strings that are not valid
// UTF-8 are written with U+FFFD, as encoding/json does; characters a
// terminal could act on are escaped (cli.AppendSafeJSON).
func AppendEvent(b []byte, ev *tapclient.Event, rtRoute string, info *RouteInfo) ([]byte, error) {
	out := event{
		Source:         toEndpoint(ev.Source),
		Destination:    toEndpoint(ev.Destination),
		RouteMeta:      labelsJSON(ev.RouteLabels),
		ProxyDirection: strings.ToUpper(string(ev.Direction)),
	}
	switch ev.Kind {
	case tapclient.KindRequest:
		out.RequestInit = &requestInit{ID: toID(ev.ID), Method: ev.Method, Scheme: ev.Scheme,
			Authority: ev.Authority, Path: ev.Path, Headers: toHeaders(ev.Headers)}
	case tapclient.KindResponse:
		out.ResponseInit = &responseInit{ID: toID(ev.ID), SinceRequestInit: toDuration(ev.Latency),
			HTTPStatus: ev.HTTPStatus, Headers: toHeaders(ev.Headers)}
	case tapclient.KindEnd:
		end := &responseEnd{ID: toID(ev.ID), SinceRequestInit: toDuration(ev.Latency),
			SinceResponseInit: toDuration(ev.Duration), ResponseBytes: ev.ResponseBytes,
			Trailers: toHeaders(ev.Trailers), GRPCStatusCode: ev.GRPCStatus}
		if ev.ResetCode != nil {
			end.ResetErrorCode = *ev.ResetCode
		}
		out.ResponseEnd = end
	}
	if info != nil {
		out.RTRoute, out.RTRouteInfo = &rtRoute, info
	}
	line, err := json.Marshal(&out)
	if err != nil {
		return b, err
	}
	b = cli.AppendSafeJSON(b, line) // DEL, C1 and bidi controls as \u escapes
	return append(b, '\n'), nil
}

func toEndpoint(e tapclient.Endpoint) *endpoint {
	return &endpoint{IP: ipString(e.IP), Port: e.Port, Metadata: labelsJSON(e.Labels)}
}

// labelsJSON renders labels as linkerd does: an object, or null when empty.
func labelsJSON(m map[string]string) json.RawMessage {
	if len(m) == 0 {
		return json.RawMessage("null")
	}
	b, err := json.Marshal(m) // sorted keys; cannot fail for a string map
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

func toID(id tapclient.StreamID) streamID { return streamID{Base: id.Base, Stream: id.Stream} }

func toHeaders(hs []tapclient.Header) []header {
	if len(hs) == 0 {
		return nil
	}
	out := make([]header, len(hs))
	for i, h := range hs {
		out[i] = header{Name: h.Name, ValueStr: h.Value, ValueBin: h.ValueBin}
	}
	return out
}
