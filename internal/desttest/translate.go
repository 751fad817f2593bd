package desttest

// The ServiceProfile → DestinationProfile translation, written for this
// stand-in from the documented behaviour of Linkerd's destination controller
// (/work/shared/reference/destination-api.md §4, and upstream
// controller/api/destination/profile_translator.go, pkg/profiles/profiles.go,
// pkg/util/http.go). It deliberately shares no code with the plugin's
// diag/translate: the plugin predicts what this server sends, so a wrong rule
// in the plugin must show up as a difference here.

import (
	"encoding/json"
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
	"k8s.io/apimachinery/pkg/api/resource"
	kjson "sigs.k8s.io/json"
)

// spObject is a ServiceProfile as the controller's v1alpha2 Go type holds it.
// Its shapes follow the Go type, not the CRD schema: a request-level `not` is
// one object and opaquePorts is a map, so the CRD's array forms do not decode.
type spObject struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name            string `json:"name"`
		Namespace       string `json:"namespace"`
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
	Spec struct {
		Routes       []*spRoute          `json:"routes"`
		RetryBudget  *spBudget           `json:"retryBudget"`
		DstOverrides []*spDst            `json:"dstOverrides"`
		OpaquePorts  map[uint32]struct{} `json:"opaquePorts"`
	} `json:"spec"`
}

type spRoute struct {
	Name            string         `json:"name"`
	Condition       *spReqMatch    `json:"condition"`
	ResponseClasses []*spRespClass `json:"responseClasses"`
	IsRetryable     bool           `json:"isRetryable"`
	Timeout         string         `json:"timeout"`
}

type spReqMatch struct {
	All       []*spReqMatch `json:"all"`
	Any       []*spReqMatch `json:"any"`
	Not       *spReqMatch   `json:"not"`
	Method    string        `json:"method"`
	PathRegex string        `json:"pathRegex"`
}

type spRespClass struct {
	Condition *spRespMatch `json:"condition"`
	IsFailure bool         `json:"isFailure"`
}

type spRespMatch struct {
	All    []*spRespMatch `json:"all"`
	Any    []*spRespMatch `json:"any"`
	Not    *spRespMatch   `json:"not"`
	Status *struct {
		Min uint32 `json:"min"`
		Max uint32 `json:"max"`
	} `json:"status"`
}

type spBudget struct {
	RetryRatio          float32 `json:"retryRatio"`
	MinRetriesPerSecond uint32  `json:"minRetriesPerSecond"`
	TTL                 string  `json:"ttl"`
}

type spDst struct {
	Authority string            `json:"authority"`
	Weight    resource.Quantity `json:"weight"`
}

// decodeSP decodes an object from the API server the way the controller's
// typed client does: JSON, case-sensitive keys, unknown fields ignored, and
// an error for shapes the Go type cannot hold.
func decodeSP(obj map[string]interface{}) (*spObject, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var sp spObject
	if err := kjson.UnmarshalCaseSensitivePreserveInts(raw, &sp); err != nil {
		return nil, err
	}
	return &sp, nil
}

// target is what the translator knows about the lookup.
type target struct {
	fqn            string
	svcNS, svcName string
	port           uint32
	// opaquePorts is what the opaque-ports adaptor copies over the profile's
	// own spec.opaquePorts; nil when the adaptor was never told any.
	opaquePorts map[uint32]bool
}

// toDestinationProfile translates sp (never nil: the default profile is an
// empty ServiceProfile) or fails, in which case the server sends nothing.
func toDestinationProfile(sp *spObject, t target) (*pb.DestinationProfile, error) {
	routes := []*pb.Route{}
	for i, r := range sp.Spec.Routes {
		if r == nil {
			// The controller would dereference nil here; the CRD's
			// `type: object` items keep nulls out.
			return nil, fmt.Errorf("route %d is null", i)
		}
		pr, err := route(r)
		if err != nil {
			return nil, fmt.Errorf("route %q: %w", r.Name, err)
		}
		routes = append(routes, pr)
	}
	budget := &pb.RetryBudget{RetryRatio: 0.2, MinRetriesPerSecond: 10, Ttl: &durationpb.Duration{Seconds: 10}}
	if b := sp.Spec.RetryBudget; b != nil {
		budget.RetryRatio = b.RetryRatio
		budget.MinRetriesPerSecond = b.MinRetriesPerSecond
		ttl, err := time.ParseDuration(b.TTL) // "" fails too
		if err != nil {
			return nil, fmt.Errorf("retryBudget.ttl: %w", err)
		}
		budget.Ttl = protoDuration(ttl)
	}
	dsts := []*pb.WeightedDst{}
	for i, d := range sp.Spec.DstOverrides {
		if d == nil {
			return nil, fmt.Errorf("dstOverrides[%d] is null", i)
		}
		auth := d.Authority
		if _, _, err := net.SplitHostPort(auth); err != nil {
			auth = net.JoinHostPort(auth, strconv.FormatUint(uint64(t.port), 10))
		}
		// Weights are decimillis: 10000 is a weight of 1.
		dsts = append(dsts, &pb.WeightedDst{Authority: auth, Weight: uint32(d.Weight.MilliValue() * 10)})
	}
	_, opaque := t.opaquePorts[t.port]
	return &pb.DestinationProfile{
		FullyQualifiedName: t.fqn,
		OpaqueProtocol:     opaque,
		Routes:             routes,
		RetryBudget:        budget,
		DstOverrides:       dsts,
		ParentRef: &metapb.Metadata{Kind: &metapb.Metadata_Resource{Resource: &metapb.Resource{
			Group: "core", Kind: "Service", Name: t.svcName, Namespace: t.svcNS, Port: t.port,
		}}},
		ProfileRef: &metapb.Metadata{Kind: &metapb.Metadata_Resource{Resource: &metapb.Resource{
			Group: "linkerd.io", Kind: sp.Kind, Name: sp.Metadata.Name, Namespace: sp.Metadata.Namespace,
		}}},
	}, nil
}

// protoDuration: a zero duration is no value at all.
func protoDuration(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return &durationpb.Duration{Seconds: int64(d / time.Second), Nanos: int32(d % time.Second)}
}

func route(r *spRoute) (*pb.Route, error) {
	cond, err := reqMatch(r.Condition)
	if err != nil {
		return nil, err
	}
	classes := []*pb.ResponseClass{}
	for i, rc := range r.ResponseClasses {
		if rc == nil {
			return nil, fmt.Errorf("response class %d is null", i)
		}
		m, err := respMatch(rc.Condition)
		if err != nil {
			return nil, err
		}
		classes = append(classes, &pb.ResponseClass{Condition: m, IsFailure: rc.IsFailure})
	}
	// A route timeout that does not parse is logged, not an error: the
	// route is sent without one.
	var timeout time.Duration
	if r.Timeout != "" {
		if d, err := time.ParseDuration(r.Timeout); err == nil {
			timeout = d
		}
	}
	return &pb.Route{
		Condition:       cond,
		ResponseClasses: classes,
		MetricsLabels:   map[string]string{"route": r.Name},
		IsRetryable:     r.IsRetryable,
		Timeout:         protoDuration(timeout),
	}, nil
}

var (
	errNoRequestMatch  = errors.New("missing request match")
	errNoResponseMatch = errors.New("missing response match")
)

// reqMatch: each set field becomes one match, in the order all, any,
// method, not, pathRegex; one match stands alone, several are ANDed. A list
// that is present but empty counts as set.
func reqMatch(m *spReqMatch) (*pb.RequestMatch, error) {
	if m == nil {
		return nil, errNoRequestMatch
	}
	var parts []*pb.RequestMatch
	seq := func(children []*spReqMatch) (*pb.RequestMatch_Seq, error) {
		s := &pb.RequestMatch_Seq{Matches: []*pb.RequestMatch{}}
		for _, c := range children {
			pc, err := reqMatch(c)
			if err != nil {
				return nil, err
			}
			s.Matches = append(s.Matches, pc)
		}
		return s, nil
	}
	if m.All != nil {
		s, err := seq(m.All)
		if err != nil {
			return nil, err
		}
		parts = append(parts, &pb.RequestMatch{Match: &pb.RequestMatch_All{All: s}})
	}
	if m.Any != nil {
		s, err := seq(m.Any)
		if err != nil {
			return nil, err
		}
		parts = append(parts, &pb.RequestMatch{Match: &pb.RequestMatch_Any{Any: s}})
	}
	if m.Method != "" {
		parts = append(parts, &pb.RequestMatch{Match: &pb.RequestMatch_Method{Method: method(m.Method)}})
	}
	if m.Not != nil {
		n, err := reqMatch(m.Not)
		if err != nil {
			return nil, err
		}
		parts = append(parts, &pb.RequestMatch{Match: &pb.RequestMatch_Not{Not: n}})
	}
	if m.PathRegex != "" {
		// Verbatim: no anchoring, no compile check on the controller side.
		parts = append(parts, &pb.RequestMatch{Match: &pb.RequestMatch_Path{Path: &pb.PathMatch{Regex: m.PathRegex}}})
	}
	switch len(parts) {
	case 0:
		return nil, errors.New("a request match must have a field set")
	case 1:
		return parts[0], nil
	}
	return &pb.RequestMatch{Match: &pb.RequestMatch_All{All: &pb.RequestMatch_Seq{Matches: parts}}}, nil
}

// method uppercases the name; the enum's names are registered methods,
// anything else is sent as an unregistered string.
func method(name string) *httppb.HttpMethod {
	up := strings.ToUpper(name)
	if v, ok := httppb.HttpMethod_Registered_value[up]; ok {
		return &httppb.HttpMethod{Type: &httppb.HttpMethod_Registered_{Registered: httppb.HttpMethod_Registered(v)}}
	}
	return &httppb.HttpMethod{Type: &httppb.HttpMethod_Unregistered{Unregistered: up}}
}

// respMatch: order all, any, status, not. A status bound that is set (non
// zero) must be 100..599, and max >= min when both are set; a one-sided or
// empty range is accepted.
func respMatch(m *spRespMatch) (*pb.ResponseMatch, error) {
	if m == nil {
		return nil, errNoResponseMatch
	}
	var parts []*pb.ResponseMatch
	seq := func(children []*spRespMatch) (*pb.ResponseMatch_Seq, error) {
		s := &pb.ResponseMatch_Seq{Matches: []*pb.ResponseMatch{}}
		for _, c := range children {
			pc, err := respMatch(c)
			if err != nil {
				return nil, err
			}
			s.Matches = append(s.Matches, pc)
		}
		return s, nil
	}
	if m.All != nil {
		s, err := seq(m.All)
		if err != nil {
			return nil, err
		}
		parts = append(parts, &pb.ResponseMatch{Match: &pb.ResponseMatch_All{All: s}})
	}
	if m.Any != nil {
		s, err := seq(m.Any)
		if err != nil {
			return nil, err
		}
		parts = append(parts, &pb.ResponseMatch{Match: &pb.ResponseMatch_Any{Any: s}})
	}
	if st := m.Status; st != nil {
		bad := func(v uint32) bool { return v != 0 && (v < 100 || v > 599) }
		switch {
		case bad(st.Min), bad(st.Max):
			return nil, fmt.Errorf("status range %d-%d: bounds must be between 100 and 599", st.Min, st.Max)
		case st.Min != 0 && st.Max != 0 && st.Max < st.Min:
			return nil, fmt.Errorf("status range %d-%d: maximum below minimum", st.Min, st.Max)
		}
		parts = append(parts, &pb.ResponseMatch{Match: &pb.ResponseMatch_Status{Status: &pb.HttpStatusRange{Min: st.Min, Max: st.Max}}})
	}
	if m.Not != nil {
		n, err := respMatch(m.Not)
		if err != nil {
			return nil, err
		}
		parts = append(parts, &pb.ResponseMatch{Match: &pb.ResponseMatch_Not{Not: n}})
	}
	switch len(parts) {
	case 0:
		return nil, errors.New("a response match must have a field set")
	case 1:
		return parts[0], nil
	}
	return &pb.ResponseMatch{Match: &pb.ResponseMatch_All{All: &pb.ResponseMatch_Seq{Matches: parts}}}, nil
}
