package analyze

import (
	"fmt"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-profiles/kubectl-profiles/diag/ctrlplane"
	"github.com/kubectl-profiles/kubectl-profiles/diag/drift"
	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/proxy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
)

// Facts is everything known about one subject: a ServiceProfile object
// (`check`), or one port of a Service as seen by one client (`get`, where
// the ServiceProfile is the one in effect, if any). Scope says which parts
// are set.
type Facts struct {
	Scope         Scope
	ClusterDomain string

	// Written (and Unparsed): the document as written.
	Doc *source.Document

	// Namespace is where the profile lives ("" when unknown), Name its
	// metadata.name.
	Namespace, Name string
	// Service is the Service the name refers to, when Named.
	Service profile.ServiceRef
	Named   bool
	// DecodeErr is set when the controller cannot decode the object.
	DecodeErr error

	// Decoded: the profile, what the destination sends for it, what the
	// translation silently changed, and what the proxy keeps of what it is
	// sent. When the destination cannot translate it (Unservable says why:
	// nothing is sent), Translated is what the rest translates to, for
	// analysis only (see analyseUnservable).
	Profile    *profile.ServiceProfile
	Translated *pb.DestinationProfile
	Notes      []translate.Note
	Unservable *translate.UnservableError
	Kept       *proxy.Profile
	Drops      []proxy.Drop

	// InCluster: cluster facts, and the Service ports in question (nil:
	// every port of the Service).
	Cluster *model.Cluster
	Ports   []uint32

	// Served: one live lookup.
	Lookup *Lookup

	// PolicyPath: the policy half (see PolicyFacts).
	PolicyPath *PolicyFacts

	// ControlPlane: what the destination's metrics say (see ControlFacts).
	Control *Control

	schema []schemaIssue // walkSchema(Doc), computed once
}

// Lookup is one GetProfile call as a fake proxy made it, and its answer.
type Lookup struct {
	Service         model.Service
	Port            uint32
	ClientNamespace string
	// DefaultOpaquePorts of the control plane; "" for the chart default.
	DefaultOpaquePorts string
	// Outcome is what the destination should answer.
	Outcome expect.Outcome
	// Served is the answer; Silent is set when nothing came in time, Err
	// when the call failed (a gRPC status, a broken stream).
	Served *pb.DestinationProfile
	Silent bool
	Err    error
	Drift  []drift.Change
	// Candidates are the ServiceProfiles named after the Service's FQDN in
	// every namespace that could be read.
	Candidates []model.ProfileObject
	// NearbyProfiles are other ServiceProfile names in the service's and
	// client's namespaces; KnownServices the Services that exist there.
	NearbyProfiles []model.NamespacedName
	KnownServices  map[model.NamespacedName]bool
}

// Subject names the profile in messages.
func (f *Facts) Subject() string {
	if f.Namespace != "" && f.Name != "" && f.Lookup != nil {
		return fmt.Sprintf("ServiceProfile %s/%s", f.Namespace, f.Name)
	}
	return "the profile"
}

// HasRoutes tells whether the profile has routes or dstOverrides: only
// then do proxies use it rather than policy routes.
func (f *Facts) HasRoutes() bool {
	return f.Profile != nil && (len(f.Profile.Spec.Routes) > 0 || len(f.Profile.Spec.DstOverrides) > 0)
}

// PortsInScope are the Service ports the facts are about.
func (f *Facts) PortsInScope(svc model.Service) []uint32 {
	if f.Ports != nil {
		return f.Ports
	}
	var out []uint32
	for _, p := range svc.Ports {
		out = append(out, p.Port)
	}
	return out
}

// Options tune Check.
type Options struct {
	ClusterDomain string // "" means cluster.local
	// DefaultNamespace is used for objects without metadata.namespace (as
	// kubectl apply would); "" leaves their namespace unknown.
	DefaultNamespace string
	// Cluster enables the analyzers that need cluster facts.
	Cluster *Cluster
}

// ObjectFacts gathers the facts about one ServiceProfile document: how it
// is written, how the controller decodes and translates it (as for port
// 80) and what the proxy keeps of that.
func ObjectFacts(doc *source.Document, opts Options) *Facts {
	if opts.ClusterDomain == "" {
		opts.ClusterDomain = profile.DefaultClusterDomain
	}
	f := &Facts{Doc: doc, ClusterDomain: opts.ClusterDomain}
	if doc.Err != nil {
		f.Scope = Unparsed
		return f
	}
	f.Scope = Written
	f.Name, f.Namespace = doc.Name(), doc.Namespace()
	if f.Namespace == "" {
		f.Namespace = opts.DefaultNamespace
	}
	if len(validation.IsDNS1123Subdomain(f.Name)) == 0 {
		f.Service, f.Named = profile.ParseFQDN(f.Name, f.ClusterDomain)
	}
	if opts.Cluster != nil {
		f.Scope |= InCluster
		f.Cluster = opts.Cluster
	}
	sp, err := profile.Decode(doc.Raw)
	if err != nil {
		f.DecodeErr = err
		return f
	}
	fqdn := f.Name
	if f.Named {
		fqdn = profile.FQDN(f.Service.Name, f.Service.Namespace, f.ClusterDomain)
	}
	f.Scope |= Decoded
	f.Profile = sp
	dp, notes, terr := translate.Profile(sp, translate.Target{Service: f.Service, FQDN: fqdn, Port: 80})
	f.Notes = notes
	if terr != nil {
		f.Unservable = asUnservable(terr)
		f.analyseUnservable(translate.Target{Service: f.Service, FQDN: fqdn, Port: 80})
		return f
	}
	f.Translated = dp
	f.Kept, f.Drops = proxy.Convert(dp)
	return f
}

// analyseUnservable fills Translated, Kept and Drops, for analysis only,
// when the destination cannot translate the profile: the unservable routes
// become placeholders that no analyzer sees and an unparsable retry budget
// ttl is left out, so one bad part does not hide what is wrong with the
// rest (the profile-unservable finding says that nothing is sent).
func (f *Facts) analyseUnservable(t translate.Target) {
	cp := *f.Profile
	routes := append([]*profile.RouteSpec(nil), cp.Spec.Routes...)
	placeholders := map[int]bool{}
	for tries := 0; tries <= len(routes)+1; tries++ {
		cp.Spec.Routes = routes
		dp, _, err := translate.Profile(&cp, t)
		if err == nil {
			p, drops := proxy.Convert(dp)
			kept := p.Routes[:0:0]
			for _, r := range p.Routes {
				if !placeholders[r.Index] {
					kept = append(kept, r)
				}
			}
			p.Routes = kept
			var ds []proxy.Drop
			for _, d := range drops {
				if d.Route < 0 || !placeholders[d.Route] {
					ds = append(ds, d)
				}
			}
			f.Translated, f.Kept, f.Drops = dp, p, ds
			return
		}
		ue := asUnservable(err)
		switch {
		case ue.RouteIndex >= 0 && ue.RouteIndex < len(routes) && !placeholders[ue.RouteIndex]:
			placeholders[ue.RouteIndex] = true
			routes[ue.RouteIndex] = &profile.RouteSpec{Name: "(unservable)", Condition: &profile.RequestMatch{Method: "UNSERVABLE"}}
		case ue.Field == "spec.retryBudget.ttl" && cp.Spec.RetryBudget != nil:
			rb := *cp.Spec.RetryBudget
			rb.TTL = "10s"
			cp.Spec.RetryBudget = &rb
		default:
			return
		}
	}
}

// LookupFacts gathers the facts about one port lookup of `get`: the
// lookup, the Service (with its HTTPRoutes), and the ServiceProfile in
// effect, if any, with what the proxy keeps of what it is (or would be)
// sent.
func LookupFacts(l *Lookup, clusterDomain string, routes []model.HTTPRoute) *Facts {
	if clusterDomain == "" {
		clusterDomain = profile.DefaultClusterDomain
	}
	svc := l.Service
	key := model.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	cl := model.NewCluster()
	cl.DefaultOpaquePorts = l.DefaultOpaquePorts
	cl.Services[key] = svc
	cl.Listed[svc.Namespace] = true
	cl.HTTPRoutes[key] = routes
	for _, c := range l.Candidates {
		cl.Profiles[model.NamespacedName{Namespace: c.Namespace, Name: c.Name}] = true
	}
	f := &Facts{
		Scope: InCluster | Served, ClusterDomain: clusterDomain, Lookup: l, Cluster: cl, Ports: []uint32{l.Port},
		Service: profile.ServiceRef{Name: svc.Name, Namespace: svc.Namespace}, Named: true,
	}
	out := l.Outcome
	if c := out.InEffect; c != nil && c.Profile != nil {
		f.Scope |= Decoded
		f.Namespace, f.Name, f.Profile = c.Namespace, c.Name, c.Profile
		f.Notes, f.Unservable = out.Notes, out.Unserved
		f.Translated = out.Expected
	}
	// The proxy works on what it is sent; what it would be sent otherwise.
	if sent := l.Served; sent != nil {
		f.Translated = sent
	}
	switch {
	case f.Translated != nil && f.Scope&Decoded != 0:
		f.Kept, f.Drops = proxy.Convert(f.Translated)
	case f.Unservable != nil:
		f.analyseUnservable(translate.Target{Service: f.Service, FQDN: out.FQDN, Port: l.Port, Opaque: out.Opaque})
	}
	return f
}

func asUnservable(err error) *translate.UnservableError {
	if ue, ok := err.(*translate.UnservableError); ok {
		return ue
	}
	return &translate.UnservableError{RouteIndex: -1, Field: "spec", Err: err}
}

// routeOf reads the route index and name from a path under spec.routes.
func (f *Facts) routeOf(path source.Path) (int, string) {
	if len(path) < 3 || path[0] != "spec" || path[1] != "routes" {
		return -1, ""
	}
	i, ok := path[2].(int)
	if !ok {
		return -1, ""
	}
	return i, f.routeName(i)
}

func (f *Facts) routeName(i int) string {
	if f.Profile != nil {
		if i >= 0 && i < len(f.Profile.Spec.Routes) && f.Profile.Spec.Routes[i] != nil {
			return f.Profile.Spec.Routes[i].Name
		}
		return ""
	}
	if f.Doc == nil || f.Doc.Object == nil {
		return ""
	}
	spec, _ := f.Doc.Object["spec"].(map[string]interface{})
	routes, _ := spec["routes"].([]interface{})
	if i < 0 || i >= len(routes) {
		return ""
	}
	m, _ := routes[i].(map[string]interface{})
	name, _ := m["name"].(string)
	return name
}

// written tells whether the field at path is set in the object as written
// (always true without one: a missing name is the schema analyzer's).
func (f *Facts) written(path source.Path) bool {
	if f.Doc == nil || f.Doc.Object == nil {
		return true
	}
	return len(existing(f.Doc.Object, path)) == len(path)
}

// schemaIssues walks the written object once.
func (f *Facts) schemaIssues() []schemaIssue {
	if f.schema == nil && f.Doc != nil && f.Doc.Object != nil {
		f.schema = walkSchema(f.Doc.Object)
		if f.schema == nil {
			f.schema = []schemaIssue{}
		}
	}
	return f.schema
}

// Control is what the destination's own metrics say about the profile of
// one Service port.
type Control struct {
	Metrics      *ctrlplane.Facts
	FQDN         string
	Port         uint32
	LagThreshold time.Duration
	// UnusedIn lists the namespaces whose ServiceProfile named FQDN no proxy
	// subscription watches (audits, which see every override, fill it).
	UnusedIn []string
}

// ControlFacts are the facts of the control plane's metrics alone.
func ControlFacts(c *Control) *Facts {
	return &Facts{Scope: ControlPlane, Control: c}
}
