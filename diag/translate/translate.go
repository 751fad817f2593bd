// Package translate predicts what Linkerd's destination service sends for a
// ServiceProfile: the CRD → DestinationProfile translation, the default
// profile, and which errors make a profile unservable (the server then stays
// silent). It follows the controller's rules exactly, including its quirks,
// because its output is compared field by field with what is really served.
package translate

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	httppb "github.com/linkerd/linkerd2-proxy-api/go/http_types"
	metapb "github.com/linkerd/linkerd2-proxy-api/go/meta"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
)

// Target is the lookup the profile is translated for.
type Target struct {
	Service   profile.ServiceRef
	Port      uint32
	FQDN      string // <svc>.<ns>.svc.<cluster-domain>
	Opaque    bool   // the port is opaque according to the Service (annotation or defaults)
	ProfileNS string // namespace of the ServiceProfile used ("" for the default profile)
}

// Note is something the translation silently changed: the server logs it and
// sends the profile anyway.
type Note struct {
	RouteIndex int
	RouteName  string
	Field      string
	Message    string
}

// UnservableError means the destination fails to translate the profile: it
// logs the error and sends nothing (a fresh subscription stays silent).
type UnservableError struct {
	RouteIndex int    // -1 when not about a route
	RouteName  string // "" when not about a route
	Field      string // e.g. spec.routes[2].condition
	Err        error
}

func (e *UnservableError) Error() string {
	return fmt.Sprintf("%s: %v", e.Field, e.Err)
}

func (e *UnservableError) Unwrap() error { return e.Err }

// DefaultRetryBudget is what the destination sends when a profile has none.
func DefaultRetryBudget() *pb.RetryBudget {
	return &pb.RetryBudget{RetryRatio: 0.2, MinRetriesPerSecond: 10, Ttl: &durationpb.Duration{Seconds: 10}}
}

// Default is the profile sent for a Service port with no ServiceProfile. The
// profile_ref is present but empty, as the real server sends it.
func Default(t Target) *pb.DestinationProfile {
	return &pb.DestinationProfile{
		FullyQualifiedName: t.FQDN,
		OpaqueProtocol:     t.Opaque,
		RetryBudget:        DefaultRetryBudget(),
		ParentRef:          parentRef(t),
		ProfileRef:         &metapb.Metadata{Kind: &metapb.Metadata_Resource{Resource: &metapb.Resource{Group: profile.Group}}},
	}
}

// PortNotOnService is the empty profile sent when the requested port is not a
// port of the Service.
func PortNotOnService() *pb.DestinationProfile { return &pb.DestinationProfile{} }

func parentRef(t Target) *metapb.Metadata {
	return &metapb.Metadata{Kind: &metapb.Metadata_Resource{Resource: &metapb.Resource{
		Group: "core", Kind: "Service", Name: t.Service.Name, Namespace: t.Service.Namespace, Port: t.Port,
	}}}
}

// Profile translates sp for t. It returns an *UnservableError when the real
// server would drop the profile, and notes for what it silently changes.
func Profile(sp *profile.ServiceProfile, t Target) (*pb.DestinationProfile, []Note, error) {
	var notes []Note
	routes := make([]*pb.Route, 0, len(sp.Spec.Routes))
	for i, r := range sp.Spec.Routes {
		field := fmt.Sprintf("spec.routes[%d]", i)
		if r == nil {
			return nil, nil, &UnservableError{RouteIndex: i, Field: field, Err: errors.New("route is null")}
		}
		route, note, err := toRoute(r, field)
		if err != nil {
			err.RouteIndex, err.RouteName = i, r.Name
			return nil, nil, err
		}
		if note != "" {
			notes = append(notes, Note{RouteIndex: i, RouteName: r.Name, Field: field + ".timeout", Message: note})
		}
		routes = append(routes, route)
	}

	budget := DefaultRetryBudget()
	if rb := sp.Spec.RetryBudget; rb != nil {
		budget.MinRetriesPerSecond = rb.MinRetriesPerSecond
		budget.RetryRatio = rb.RetryRatio
		ttl, err := time.ParseDuration(rb.TTL)
		if err != nil {
			return nil, nil, &UnservableError{RouteIndex: -1, Field: "spec.retryBudget.ttl", Err: fmt.Errorf("cannot parse %q as a duration", rb.TTL)}
		}
		budget.Ttl = toDuration(ttl)
	}

	return &pb.DestinationProfile{
		FullyQualifiedName: t.FQDN,
		OpaqueProtocol:     t.Opaque,
		Routes:             routes,
		RetryBudget:        budget,
		DstOverrides:       toDstOverrides(sp.Spec.DstOverrides, t.Port),
		ParentRef:          parentRef(t),
		ProfileRef: &metapb.Metadata{Kind: &metapb.Metadata_Resource{Resource: &metapb.Resource{
			Group: profile.Group, Kind: sp.Kind, Name: sp.Name, Namespace: sp.Namespace,
		}}},
	}, notes, nil
}

// toDuration mirrors the server: zero means "no value".
func toDuration(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return &durationpb.Duration{Seconds: int64(d / time.Second), Nanos: int32(d % time.Second)}
}

func toRoute(r *profile.RouteSpec, field string) (*pb.Route, string, *UnservableError) {
	cond, err := RequestMatch(r.Condition)
	if err != nil {
		return nil, "", &UnservableError{Field: field + ".condition", Err: err}
	}
	classes := make([]*pb.ResponseClass, 0, len(r.ResponseClasses))
	for j, rc := range r.ResponseClasses {
		cfield := fmt.Sprintf("%s.responseClasses[%d]", field, j)
		if rc == nil {
			return nil, "", &UnservableError{Field: cfield, Err: errors.New("response class is null")}
		}
		m, err := ResponseMatch(rc.Condition)
		if err != nil {
			return nil, "", &UnservableError{Field: cfield + ".condition", Err: err}
		}
		classes = append(classes, &pb.ResponseClass{Condition: m, IsFailure: rc.IsFailure})
	}
	// A timeout that does not parse is only logged by the server: the route
	// is served without a timeout.
	var timeout time.Duration
	var note string
	if r.Timeout != "" {
		d, err := time.ParseDuration(r.Timeout)
		if err != nil {
			note = fmt.Sprintf("timeout %q does not parse as a Go duration: served without timeout", r.Timeout)
		} else {
			timeout = d
		}
	}
	return &pb.Route{
		Condition:       cond,
		ResponseClasses: classes,
		MetricsLabels:   map[string]string{"route": r.Name},
		IsRetryable:     r.IsRetryable,
		Timeout:         toDuration(timeout),
	}, note, nil
}

// Errors the controller reports for invalid conditions.
var (
	ErrMissingRequestMatch  = errors.New("missing request match")
	ErrEmptyRequestMatch    = errors.New("a request match must have a field set")
	ErrMissingResponseMatch = errors.New("missing response match")
	ErrEmptyResponseMatch   = errors.New("a response match must have a field set")
)

// RequestMatch translates a request condition. Set fields become one match
// each, in the controller's fixed order all, any, method, not, pathRegex;
// several are wrapped in `all`. An empty list (`all: []`) counts as set.
func RequestMatch(m *profile.RequestMatch) (*pb.RequestMatch, error) {
	if m == nil {
		return nil, ErrMissingRequestMatch
	}
	var out []*pb.RequestMatch
	if m.All != nil {
		seq, err := requestSeq(m.All, "all")
		if err != nil {
			return nil, err
		}
		out = append(out, &pb.RequestMatch{Match: &pb.RequestMatch_All{All: seq}})
	}
	if m.Any != nil {
		seq, err := requestSeq(m.Any, "any")
		if err != nil {
			return nil, err
		}
		out = append(out, &pb.RequestMatch{Match: &pb.RequestMatch_Any{Any: seq}})
	}
	if m.Method != "" {
		out = append(out, &pb.RequestMatch{Match: &pb.RequestMatch_Method{Method: ParseMethod(m.Method)}})
	}
	if m.Not != nil {
		not, err := RequestMatch(m.Not)
		if err != nil {
			return nil, fmt.Errorf("not: %w", err)
		}
		out = append(out, &pb.RequestMatch{Match: &pb.RequestMatch_Not{Not: not}})
	}
	if m.PathRegex != "" {
		out = append(out, &pb.RequestMatch{Match: &pb.RequestMatch_Path{Path: &pb.PathMatch{Regex: m.PathRegex}}})
	}
	switch len(out) {
	case 0:
		return nil, ErrEmptyRequestMatch
	case 1:
		return out[0], nil
	}
	return &pb.RequestMatch{Match: &pb.RequestMatch_All{All: &pb.RequestMatch_Seq{Matches: out}}}, nil
}

func requestSeq(children []*profile.RequestMatch, key string) (*pb.RequestMatch_Seq, error) {
	seq := &pb.RequestMatch_Seq{Matches: make([]*pb.RequestMatch, 0, len(children))}
	for i, c := range children {
		if c == nil {
			return nil, fmt.Errorf("%s[%d]: %w", key, i, ErrMissingRequestMatch)
		}
		pm, err := RequestMatch(c)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
		}
		seq.Matches = append(seq.Matches, pm)
	}
	return seq, nil
}

// ResponseMatch translates a response condition: order all, any, status, not.
func ResponseMatch(m *profile.ResponseMatch) (*pb.ResponseMatch, error) {
	if m == nil {
		return nil, ErrMissingResponseMatch
	}
	var out []*pb.ResponseMatch
	if m.All != nil {
		seq, err := responseSeq(m.All, "all")
		if err != nil {
			return nil, err
		}
		out = append(out, &pb.ResponseMatch{Match: &pb.ResponseMatch_All{All: seq}})
	}
	if m.Any != nil {
		seq, err := responseSeq(m.Any, "any")
		if err != nil {
			return nil, err
		}
		out = append(out, &pb.ResponseMatch{Match: &pb.ResponseMatch_Any{Any: seq}})
	}
	if s := m.Status; s != nil {
		if err := ValidateStatusRange(s.Min, s.Max); err != nil {
			return nil, fmt.Errorf("status: %w", err)
		}
		out = append(out, &pb.ResponseMatch{Match: &pb.ResponseMatch_Status{Status: &pb.HttpStatusRange{Min: s.Min, Max: s.Max}}})
	}
	if m.Not != nil {
		not, err := ResponseMatch(m.Not)
		if err != nil {
			return nil, fmt.Errorf("not: %w", err)
		}
		out = append(out, &pb.ResponseMatch{Match: &pb.ResponseMatch_Not{Not: not}})
	}
	switch len(out) {
	case 0:
		return nil, ErrEmptyResponseMatch
	case 1:
		return out[0], nil
	}
	return &pb.ResponseMatch{Match: &pb.ResponseMatch_All{All: &pb.ResponseMatch_Seq{Matches: out}}}, nil
}

func responseSeq(children []*profile.ResponseMatch, key string) (*pb.ResponseMatch_Seq, error) {
	seq := &pb.ResponseMatch_Seq{Matches: make([]*pb.ResponseMatch, 0, len(children))}
	for i, c := range children {
		if c == nil {
			return nil, fmt.Errorf("%s[%d]: %w", key, i, ErrMissingResponseMatch)
		}
		pm, err := ResponseMatch(c)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
		}
		seq.Matches = append(seq.Matches, pm)
	}
	return seq, nil
}

// ValidateStatusRange applies the controller's checks: a non-zero bound must
// be within 100..599, and max >= min when both are set. A one-sided range is
// accepted here (the proxy is what drops it).
func ValidateStatusRange(min, max uint32) error {
	if min != 0 && (min < 100 || min > 599) {
		return fmt.Errorf("range min (%d) out of bounds, must be between 100 and 599", min)
	}
	if max != 0 && (max < 100 || max > 599) {
		return fmt.Errorf("range max (%d) out of bounds, must be between 100 and 599", max)
	}
	if min != 0 && max != 0 && max < min {
		return fmt.Errorf("range min (%d) is greater than max (%d)", min, max)
	}
	return nil
}

var registeredMethods = map[string]httppb.HttpMethod_Registered{
	"GET": httppb.HttpMethod_GET, "POST": httppb.HttpMethod_POST, "PUT": httppb.HttpMethod_PUT,
	"DELETE": httppb.HttpMethod_DELETE, "PATCH": httppb.HttpMethod_PATCH, "OPTIONS": httppb.HttpMethod_OPTIONS,
	"CONNECT": httppb.HttpMethod_CONNECT, "HEAD": httppb.HttpMethod_HEAD, "TRACE": httppb.HttpMethod_TRACE,
}

// ParseMethod uppercases the method and maps the nine registered methods to
// the enum; anything else is sent as an unregistered string.
func ParseMethod(m string) *httppb.HttpMethod {
	up := strings.ToUpper(m)
	if r, ok := registeredMethods[up]; ok {
		return &httppb.HttpMethod{Type: &httppb.HttpMethod_Registered_{Registered: r}}
	}
	return &httppb.HttpMethod{Type: &httppb.HttpMethod_Unregistered{Unregistered: up}}
}

// MethodName is the inverse of ParseMethod, for display and matching.
func MethodName(m *httppb.HttpMethod) string {
	switch t := m.GetType().(type) {
	case *httppb.HttpMethod_Registered_:
		return t.Registered.String()
	case *httppb.HttpMethod_Unregistered:
		return t.Unregistered
	}
	return ""
}

// toDstOverrides copies the overrides: weights are decimillis (1 → 10000),
// and an authority without a port gets the requested port. No validation,
// as on the server (weight 0 passes).
func toDstOverrides(dsts []*profile.WeightedDst, port uint32) []*pb.WeightedDst {
	out := make([]*pb.WeightedDst, 0, len(dsts))
	for _, d := range dsts {
		if d == nil {
			continue
		}
		auth := d.Authority
		if _, _, err := net.SplitHostPort(auth); err != nil {
			// Joined like the server does: a bare IPv6 address gets brackets.
			auth = net.JoinHostPort(auth, strconv.FormatUint(uint64(port), 10))
		}
		out = append(out, &pb.WeightedDst{Authority: auth, Weight: uint32(d.Weight.MilliValue() * 10)})
	}
	return out
}
