package tapcapture

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// MaxObjectSize bounds one JSON object of a capture. Real events are a few
// KiB (with headers); anything larger is a corrupt or hostile file and must
// not become a large allocation.
const MaxObjectSize = 4 << 20

// Bounds of the label-map cache (see Reader).
const (
	maxLabelSets    = 1024
	maxLabelSetSize = 4096
)

// Reader reads tap events from a capture: any sequence of JSON objects
// separated by whitespace, so both linkerd's pretty-printed stream and
// NDJSON work. Memory is bounded by MaxObjectSize plus a small cache: label
// maps whose JSON text repeats (the same pods, again and again) are decoded
// once and shared between events, so they must be treated as read-only, as
// with tapclient.Decoder. A Reader is not safe for concurrent use.
type Reader struct {
	r      io.Reader
	buf    []byte
	start  int // first unread byte in buf
	end    int // end of valid data in buf
	line   int // line number of buf[start]
	eof    bool
	labels map[string]map[string]string
	// scratch holds compacted label JSON.
	scratch bytes.Buffer

	// Truncated is set when the capture ended inside an object (e.g. the
	// writer was interrupted); Next then returns io.EOF, and TruncatedLine
	// is where that last object started.
	Truncated     bool
	TruncatedLine int
}

// NewReader returns a Reader for r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r, buf: make([]byte, 64<<10), line: 1, labels: map[string]map[string]string{}}
}

// Next returns the next event, or io.EOF at the end of the capture. Errors
// name the line the offending object starts on.
func (r *Reader) Next() (*tapclient.Event, error) {
	obj, line, err := r.nextObject()
	if err != nil {
		return nil, err
	}
	var raw event
	if err := json.Unmarshal(obj, &raw); err != nil {
		return nil, fmt.Errorf("line %d: not a tap event: %v", line, err)
	}
	ev, err := r.convert(&raw)
	if err != nil {
		return nil, fmt.Errorf("line %d: %v", line, err)
	}
	if ev.Kind == tapclient.KindUnknown {
		return nil, fmt.Errorf("line %d: not a tap event (no requestInitEvent, responseInitEvent or responseEndEvent): is this a capture from `tap -o json`?", line)
	}
	return ev, nil
}

// nextObject returns the bytes of the next top-level JSON object (valid
// until the next call) and the line it starts on.
func (r *Reader) nextObject() ([]byte, int, error) {
	// Skip whitespace between objects.
	for {
		for r.start < r.end {
			switch c := r.buf[r.start]; c {
			case '\n':
				r.line++
				fallthrough
			case ' ', '\t', '\r':
				r.start++
				continue
			case '{':
				return r.scanObject()
			default:
				return nil, r.line, fmt.Errorf("line %d: expected a JSON object (a tap capture from `kubectl profiles tap -o json` or `linkerd viz tap -o json`), found %q", r.line, c)
			}
		}
		if r.eof {
			return nil, r.line, io.EOF
		}
		if err := r.fill(); err != nil {
			return nil, r.line, err
		}
	}
}

// scanObject finds the end of the object starting at buf[start], reading
// more input as needed, tracking strings and nesting.
func (r *Reader) scanObject() ([]byte, int, error) {
	startLine := r.line
	depth, inString, escaped := 0, false, false
	i := r.start
	for {
		for ; i < r.end; i++ {
			c := r.buf[i]
			if c == '\n' {
				r.line++
			}
			if inString {
				switch {
				case escaped:
					escaped = false
				case c == '\\':
					escaped = true
				case c == '"':
					inString = false
				}
				continue
			}
			switch c {
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					obj := r.buf[r.start : i+1]
					r.start = i + 1
					return obj, startLine, nil
				}
			}
		}
		if r.eof {
			r.Truncated, r.TruncatedLine = true, startLine
			r.start = r.end
			return nil, startLine, io.EOF
		}
		if r.end-r.start >= MaxObjectSize {
			return nil, startLine, fmt.Errorf("line %d: object larger than %d bytes: the file is corrupt or not a tap capture", startLine, MaxObjectSize)
		}
		off := i - r.start
		if err := r.fill(); err != nil {
			return nil, startLine, err
		}
		i = r.start + off
	}
}

// fill moves unread bytes to the front of buf, grows it if full (up to
// MaxObjectSize plus a read's worth) and reads more.
func (r *Reader) fill() error {
	if r.start > 0 {
		n := copy(r.buf, r.buf[r.start:r.end])
		r.start, r.end = 0, n
	}
	if r.end == len(r.buf) {
		grown := make([]byte, 2*len(r.buf))
		copy(grown, r.buf[:r.end])
		r.buf = grown
	}
	n, err := r.r.Read(r.buf[r.end:])
	r.end += n
	switch {
	case err == io.EOF:
		r.eof = true
	case err != nil:
		return fmt.Errorf("reading the capture: %w", err)
	}
	return nil
}

func (r *Reader) convert(raw *event) (*tapclient.Event, error) {
	ev := &tapclient.Event{Direction: tapclient.DirectionUnknown, Kind: tapclient.KindUnknown}
	switch strings.ToUpper(raw.ProxyDirection) {
	case "INBOUND":
		ev.Direction = tapclient.DirectionInbound
	case "OUTBOUND":
		ev.Direction = tapclient.DirectionOutbound
	}
	var err error
	if ev.Source, err = r.endpoint(raw.Source, "source"); err != nil {
		return nil, err
	}
	if ev.Destination, err = r.endpoint(raw.Destination, "destination"); err != nil {
		return nil, err
	}
	if len(raw.RouteMeta) > 0 {
		ev.RouteMetaPresent = true
		if ev.RouteLabels, err = r.labelMap(raw.RouteMeta); err != nil {
			return nil, fmt.Errorf("routeMeta: %v", err)
		}
	}
	switch ev.Direction {
	case tapclient.DirectionInbound:
		ev.TappedIP = ev.Destination.IP
	case tapclient.DirectionOutbound:
		ev.TappedIP = ev.Source.IP
	}

	ours := raw.RTRouteInfo != nil || raw.RTRoute != nil
	switch {
	case raw.RequestInit != nil:
		q := raw.RequestInit
		ev.Kind, ev.ID = tapclient.KindRequest, fromID(q.ID)
		ev.Method, ev.Scheme, ev.Authority, ev.Path = q.Method, q.Scheme, q.Authority, q.Path
		ev.Headers = fromHeaders(q.Headers)
	case raw.ResponseInit != nil:
		p := raw.ResponseInit
		ev.Kind, ev.ID = tapclient.KindResponse, fromID(p.ID)
		ev.Latency, ev.HTTPStatus, ev.Headers = p.SinceRequestInit.value(), p.HTTPStatus, fromHeaders(p.Headers)
	case raw.ResponseEnd != nil:
		e := raw.ResponseEnd
		ev.Kind, ev.ID = tapclient.KindEnd, fromID(e.ID)
		ev.Latency, ev.Duration = e.SinceRequestInit.value(), e.SinceResponseInit.value()
		ev.ResponseBytes, ev.Trailers = e.ResponseBytes, fromHeaders(e.Trailers)
		switch {
		case e.ResetErrorCode != 0:
			code := e.ResetErrorCode
			ev.ResetCode = &code
		case e.GRPCStatusCode == nil:
		case ours || *e.GRPCStatusCode != 0 || hasHeader(ev.Trailers, "grpc-status"):
			// linkerd writes grpcStatusCode 0 for every end event; it is
			// only a real gRPC status when non-zero or backed by the
			// grpc-status trailer (-o json always extracts trailers).
			code := *e.GRPCStatusCode
			ev.GRPCStatus = &code
		}
	}
	return ev, nil
}

func (r *Reader) endpoint(e *endpoint, what string) (tapclient.Endpoint, error) {
	var out tapclient.Endpoint
	if e == nil {
		return out, nil
	}
	out.Port = e.Port
	if e.IP != "" {
		ip, err := netip.ParseAddr(strings.Trim(e.IP, "[]"))
		if err != nil {
			return out, fmt.Errorf("%s.ip: %v", what, err)
		}
		out.IP = ip
	}
	labels, err := r.labelMap(e.Metadata)
	if err != nil {
		return out, fmt.Errorf("%s.metadata: %v", what, err)
	}
	out.Labels = labels
	return out, nil
}

// labelMap decodes a label object, sharing the map with earlier events
// whose JSON text was identical.
func (r *Reader) labelMap(raw json.RawMessage) (map[string]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "{}" {
		return nil, nil
	}
	if bytes.ContainsAny(raw, " \n\t\r") {
		// Pretty-printed or spaced: key the cache on the compact text.
		r.scratch.Reset()
		if err := json.Compact(&r.scratch, raw); err != nil {
			return nil, err
		}
		raw = r.scratch.Bytes()
	}
	if m, ok := r.labels[string(raw)]; ok {
		return m, nil
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if len(raw) <= maxLabelSetSize && len(r.labels) < maxLabelSets {
		r.labels[string(raw)] = m
	}
	return m, nil
}

func fromID(id streamID) tapclient.StreamID {
	return tapclient.StreamID{Base: id.Base, Stream: id.Stream}
}

func fromHeaders(hs []header) []tapclient.Header {
	if len(hs) == 0 {
		return nil
	}
	out := make([]tapclient.Header, len(hs))
	for i, h := range hs {
		out[i] = tapclient.Header{Name: h.Name, Value: h.ValueStr, ValueBin: h.ValueBin}
	}
	return out
}

func hasHeader(hs []tapclient.Header, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}
