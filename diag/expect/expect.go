// Package expect decides, from cluster facts alone, what Linkerd's
// destination service should send for one GetProfile lookup: which
// ServiceProfile is in effect for the client namespace, and the
// DestinationProfile translated from it (or why nothing is sent).
package expect

import (
	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"google.golang.org/grpc/codes"

	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
)

// The cluster facts expect reads are the model's; these names keep the
// package's callers short.
type (
	ServicePort = model.ServicePort
	Service     = model.Service
	// Candidate is a ServiceProfile named after the Service's FQDN, in some
	// namespace.
	Candidate = model.ProfileObject
)

// Lookup is one GetProfile call and the cluster state it is answered from.
type Lookup struct {
	Service         Service
	Port            uint32
	ClientNamespace string // the context token's ns; "" for none
	ClusterDomain   string
	// DefaultOpaquePorts of the control plane; "" means DefaultOpaquePorts.
	DefaultOpaquePorts string
	Candidates         []Candidate
}

// Source says where the profile in effect comes from.
type Source string

const (
	SourceClient  Source = "client-namespace"
	SourceService Source = "service-namespace"
	SourceDefault Source = "default"
	SourceNone    Source = "none"
	// SourceRejected: the server answers with a gRPC error (Outcome.Rejected).
	SourceRejected Source = "rejected"
)

// Outcome is the expected answer to a Lookup.
type Outcome struct {
	Source    Source
	InEffect  *Candidate                 // nil for default/none
	Expected  *pb.DestinationProfile     // nil when the server sends nothing
	Unserved  *translate.UnservableError // why the server stays silent
	Notes     []translate.Note           // what the translation silently changed
	Opaque    bool                       // the port is opaque per the Service
	OpaqueWhy string
	FQDN      string
	Ignored   []Candidate // candidates the controller cannot decode (invisible to it)
	// Rejected is set when the server answers with a gRPC error instead of
	// a profile; Expected is then nil.
	Rejected *Rejection
}

// Rejection is a gRPC error the destination returns for the lookup.
type Rejection struct {
	Code   codes.Code
	Reason string
}

// Expect answers a Lookup the way the destination service does: client
// namespace profile first, then the service namespace's, then the default
// profile; an empty profile when the port is not on the Service.
func Expect(l Lookup) Outcome {
	fqdn := profile.FQDN(l.Service.Name, l.Service.Namespace, l.ClusterDomain)
	out := Outcome{FQDN: fqdn}
	defaults := l.DefaultOpaquePorts
	if defaults == "" {
		defaults = DefaultOpaquePorts
	}
	if !l.Service.HasPort(l.Port) {
		out.Source = SourceNone
		out.Expected = translate.PortNotOnService()
		return out
	}
	// The port check comes first; then subscribing to the opaque-ports
	// watcher fails for an ExternalName Service (InvalidArgument).
	if l.Service.ExternalName {
		out.Source = SourceRejected
		out.Rejected = &Rejection{Code: codes.InvalidArgument, Reason: "ExternalName Services have no profile"}
		return out
	}
	out.Opaque, out.OpaqueWhy = IsOpaque(l.Service, l.Port, defaults)

	byNS := map[string]*Candidate{}
	for i := range l.Candidates {
		c := &l.Candidates[i]
		if c.Name != fqdn {
			continue
		}
		if c.DecodeErr != nil || c.Profile == nil {
			out.Ignored = append(out.Ignored, *c)
			continue
		}
		byNS[c.Namespace] = c
	}

	switch {
	case l.ClientNamespace != "" && byNS[l.ClientNamespace] != nil:
		out.InEffect = byNS[l.ClientNamespace]
		out.Source = SourceClient
		if l.ClientNamespace == l.Service.Namespace {
			out.Source = SourceService
		}
	case byNS[l.Service.Namespace] != nil:
		out.InEffect = byNS[l.Service.Namespace]
		out.Source = SourceService
	default:
		out.Source = SourceDefault
	}

	target := translate.Target{
		Service: profile.ServiceRef{Name: l.Service.Name, Namespace: l.Service.Namespace},
		Port:    l.Port, FQDN: fqdn, Opaque: out.Opaque,
	}
	if out.InEffect == nil {
		out.Expected = translate.Default(target)
		return out
	}
	dp, notes, err := translate.Profile(out.InEffect.Profile, target)
	out.Notes = notes
	if err != nil {
		if ue, ok := err.(*translate.UnservableError); ok {
			out.Unserved = ue
		} else {
			out.Unserved = &translate.UnservableError{RouteIndex: -1, Field: "spec", Err: err}
		}
		return out
	}
	out.Expected = dp
	return out
}

// Overrides lists the namespaces (other than the service's) holding a
// decodable profile with the service's FQDN: their clients get that profile.
func Overrides(svc Service, clusterDomain string, cands []Candidate) []string {
	fqdn := profile.FQDN(svc.Name, svc.Namespace, clusterDomain)
	var out []string
	for _, c := range cands {
		if c.Name == fqdn && c.Namespace != svc.Namespace && c.DecodeErr == nil && c.Profile != nil {
			out = append(out, c.Namespace)
		}
	}
	return out
}
