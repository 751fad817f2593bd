package tapclient

import (
	"fmt"
	"math"
	"net/url"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// DefaultMaxRPS is linkerd's CLI default for --max-rps. The server also uses
// it when the request carries 0.
const DefaultMaxRPS = 100

// APIPrefix is the aggregated API group/version every tap URL starts with.
const APIPrefix = "/apis/tap.linkerd.io/v1alpha1"

// Request is a tap request (linkerd2.tap.TapByResourceRequest). Empty
// filters are left out; MaxRPS 0 lets the server use its default (100).
type Request struct {
	Target        Target
	LabelSelector string
	To            *Target // destination filter (--to / --to-namespace)
	Scheme        string
	Method        string
	Authority     string // exact match
	Path          string // prefix match
	MaxRPS        float32
	// ExtractHeaders asks the proxies for request/response headers.
	ExtractHeaders bool
}

// Validate checks the request before it goes on the wire, so a typo becomes
// a usage error instead of a server round trip.
func (r Request) Validate() error {
	if _, err := NewTarget(r.Target.Namespace, r.Target.Type, r.Target.Name); err != nil {
		return err
	}
	if r.Target.Type != TypeNamespace && r.Target.Namespace == "" {
		return fmt.Errorf("tap target %s needs a namespace: pass -n NAMESPACE", r.Target)
	}
	if r.To != nil {
		if _, err := NewDestination(r.To.Namespace, r.To.Type, r.To.Name); err != nil {
			return fmt.Errorf("--to: %w", err)
		}
	}
	return CheckMaxRPS(r.MaxRPS)
}

// CheckMaxRPS is the rule for --max-rps: a finite number, not negative (0
// lets the server use its default).
func CheckMaxRPS(v float32) error {
	if v < 0 || math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return fmt.Errorf("--max-rps must be a positive number, got %v", v)
	}
	return nil
}

// URLPath is the request path below the API server's host, each segment
// escaped with url.PathEscape. The tap server recomputes it from the body and
// rejects the request if they differ, so it is derived from the same Target.
func (r Request) URLPath() string {
	t := r.Target
	if t.Type == TypeNamespace {
		return APIPrefix + "/watch/namespaces/" + url.PathEscape(t.Name) + "/tap"
	}
	return APIPrefix + "/watch/namespaces/" + url.PathEscape(t.Namespace) + "/" +
		url.PathEscape(t.Type+"s") + "/" + url.PathEscape(t.Name) + "/tap"
}

// Field numbers of viz_tap.proto / viz.proto.
const (
	fReqTarget  = 1 // ResourceSelection
	fReqMatch   = 2 // Match
	fReqMaxRPS  = 3 // float
	fReqExtract = 4 // Extract

	fSelResource = 1 // Resource
	fSelLabels   = 2 // string label_selector

	fResNamespace = 1
	fResType      = 2
	fResName      = 3

	fMatchAll          = 1 // Seq
	fMatchAny          = 2
	fMatchNot          = 3
	fMatchDestinations = 4 // ResourceSelection
	fMatchHTTP         = 5 // Http
	fSeqMatches        = 1

	fHTTPScheme    = 1
	fHTTPMethod    = 2
	fHTTPAuthority = 3
	fHTTPPath      = 4

	fExtractHTTP    = 1
	fExtractHeaders = 1
)

// Marshal encodes the request exactly as linkerd's generated code does: the
// target and an All match are always present (an empty All matches
// everything), as is Extract (empty unless headers are wanted).
func (r Request) Marshal() []byte {
	var b []byte
	b = appendMessage(b, fReqTarget, appendSelection(nil, r.Target, r.LabelSelector))

	var seq []byte
	if r.To != nil {
		seq = appendMessage(seq, fSeqMatches,
			appendMessage(nil, fMatchDestinations, appendSelection(nil, *r.To, "")))
	}
	for _, h := range []struct {
		num protowire.Number
		val string
	}{{fHTTPScheme, r.Scheme}, {fHTTPMethod, r.Method}, {fHTTPAuthority, r.Authority}, {fHTTPPath, r.Path}} {
		if h.val != "" {
			http := appendString(nil, h.num, h.val)
			seq = appendMessage(seq, fSeqMatches, appendMessage(nil, fMatchHTTP, http))
		}
	}
	b = appendMessage(b, fReqMatch, appendMessage(nil, fMatchAll, seq))

	if r.MaxRPS != 0 {
		b = protowire.AppendTag(b, fReqMaxRPS, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(r.MaxRPS))
	}
	var extract []byte
	if r.ExtractHeaders {
		extract = appendMessage(nil, fExtractHTTP, appendMessage(nil, fExtractHeaders, nil))
	}
	return appendMessage(b, fReqExtract, extract)
}

func appendSelection(b []byte, t Target, selector string) []byte {
	var res []byte
	res = appendString(res, fResNamespace, t.Namespace)
	res = appendString(res, fResType, t.Type)
	res = appendString(res, fResName, t.Name)
	b = appendMessage(b, fSelResource, res)
	return appendString(b, fSelLabels, selector)
}

// appendString follows proto3: empty strings are not written.
func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// appendMessage writes a set sub-message, even when it is empty.
func appendMessage(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

// walk calls fn for every field of a protobuf message. For varint and
// fixed fields x holds the value; for bytes fields v holds the payload
// (aliasing b). Groups are skipped. Malformed input is an error, never a
// panic.
func walk(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x32 uint32
			x32, n = protowire.ConsumeFixed32(b)
			x = uint64(x32)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if typ == protowire.StartGroupType {
			continue
		}
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// IdleMessage is the line a CLI can print when Next returns ErrIdle after d.
func (r Request) IdleMessage(d time.Duration) string {
	where := ""
	if r.Target.Namespace != "" {
		where = " in namespace " + r.Target.Namespace
	}
	return fmt.Sprintf("no requests seen for %s: is traffic flowing to %s%s?", d, r.Target, where)
}
