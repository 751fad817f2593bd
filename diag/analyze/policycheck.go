package analyze

import (
	"encoding/json"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// IsPolicyResource tells whether doc is something the policy controller
// reads: an HTTPRoute of either group (any version), a GRPCRoute, or a
// Service.
func IsPolicyResource(doc *source.Document) bool {
	if doc.Err != nil {
		return false
	}
	group, _, _ := strings.Cut(doc.APIVersion(), "/")
	switch doc.Kind() {
	case "HTTPRoute":
		return group == dpolicy.GroupGateway || group == dpolicy.GroupLinkerd
	case "GRPCRoute":
		return group == dpolicy.GroupGateway
	case "Service":
		return doc.APIVersion() == "v1"
	}
	return false
}

// PolicyOptions tune CheckPolicy.
type PolicyOptions struct {
	ClusterDomain    string
	DefaultNamespace string
	// Cluster is what the controller indexes in the cluster (check in a
	// cluster, or -f with --cluster); nil: the files only, so backends
	// that are not in the files are not judged.
	Cluster *dpolicy.Cluster
	// ControlPlane is the control plane's release; VersionAsked says it
	// was looked for.
	ControlPlane dpolicy.ControlPlane
	VersionAsked bool
	Notes        []string
	// AsWritten: the routes come from files, whose status the controller
	// has not written yet: they are checked as if accepted.
	AsWritten bool
}

// CheckPolicy lints policy resources: for every Service port a route
// names (and every Service with retry/timeout/accrual annotations), what
// the policy controller would serve to the producer's clients and to each
// consumer namespace, through the PolicyPath analyzers. Each issue is
// reported on the route or Service it is about.
func CheckPolicy(docs []*source.Document, opts PolicyOptions) []Result {
	c := &dpolicy.Cluster{}
	if opts.Cluster != nil {
		c.Services = append(c.Services, opts.Cluster.Services...)
	}
	type owner struct {
		doc  *source.Document
		kind string
		key  string
	}
	var owners []owner
	var predicted []*gatewayv1.RouteStatus // statuses made up for routes from files
	results := map[*source.Document]*Result{}
	var order []*source.Document
	fileKeys := map[string]bool{}
	for _, d := range docs {
		if !IsPolicyResource(d) {
			continue
		}
		ns := d.Namespace()
		if ns == "" {
			ns = opts.DefaultNamespace
		}
		obj := &unstructured.Unstructured{Object: deepCopy(d.Object)}
		if obj.GetNamespace() == "" && ns != "" {
			obj.SetNamespace(ns)
		}
		res := &Result{Origin: Origin{File: d.File, Line: d.Line, Namespace: ns, Name: d.Name()}, PolicyResource: true, Issues: []Issue{}}
		results[d], order = res, append(order, d)
		kind := d.Kind()
		fileKeys[kind+" "+ns+"/"+d.Name()] = true
		owners = append(owners, owner{d, kind, kind + " " + ns + "/" + d.Name()})
		switch kind {
		case "Service":
			var s corev1.Service
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &s); err != nil {
				continue
			}
			c.Services = replaceService(c.Services, &s)
		case "HTTPRoute":
			r, err := dpolicy.DecodeHTTPRoute(obj)
			if err != nil {
				continue
			}
			if opts.AsWritten && acceptAll(r.ObjectMeta, r.Spec.ParentRefs, &r.Status.RouteStatus) {
				predicted = append(predicted, &r.Status.RouteStatus)
			}
			c.HTTPRoutes = append(c.HTTPRoutes, r)
		case "GRPCRoute":
			r, err := dpolicy.DecodeGRPCRoute(obj)
			if err != nil {
				continue
			}
			if opts.AsWritten && acceptAll(r.ObjectMeta, r.Spec.ParentRefs, &r.Status.RouteStatus) {
				predicted = append(predicted, &r.Status.RouteStatus)
			}
			c.GRPCRoutes = append(c.GRPCRoutes, r)
		}
	}
	if opts.Cluster != nil {
		for _, r := range opts.Cluster.HTTPRoutes {
			if !fileKeys["HTTPRoute "+r.Namespace+"/"+r.Name] {
				c.HTTPRoutes = append(c.HTTPRoutes, r)
			}
		}
		for _, r := range opts.Cluster.GRPCRoutes {
			if !fileKeys["GRPCRoute "+r.Namespace+"/"+r.Name] {
				c.GRPCRoutes = append(c.GRPCRoutes, r)
			}
		}
	}
	// The status the controller will write for a route from the files: it
	// accepts a Service parent only when the Service has a ClusterIP (not
	// ExternalName, not headless), once every Service is known.
	for _, st := range predicted {
		rejectWithoutClusterIP(c.Services, st)
	}
	// The targets: every (Service, port, client namespace) a route in the
	// files names, and every port of a Service in the files.
	type target struct {
		ns, name string
		port     int32
		client   string
	}
	seen := map[target]bool{}
	var targets []target
	add := func(t target) {
		if !seen[t] {
			seen[t] = true
			targets = append(targets, t)
		}
	}
	refs := func(routeNS string, prs []gatewayv1.ParentReference) {
		for _, p := range prs {
			if p.Kind == nil || string(*p.Kind) != "Service" {
				continue
			}
			ns := routeNS
			if p.Namespace != nil && *p.Namespace != "" {
				ns = string(*p.Namespace)
			}
			var ports []int32
			if p.Port != nil {
				ports = []int32{int32(*p.Port)}
			} else {
				ports = portlessPorts(c, ns, string(p.Name))
			}
			for _, port := range ports {
				add(target{ns, string(p.Name), port, ns})
				add(target{ns, string(p.Name), port, routeNS})
			}
		}
	}
	for _, r := range c.HTTPRoutes {
		if fileKeys["HTTPRoute "+r.Namespace+"/"+r.Name] {
			refs(r.Namespace, r.Spec.ParentRefs)
		}
	}
	for _, r := range c.GRPCRoutes {
		if fileKeys["GRPCRoute "+r.Namespace+"/"+r.Name] {
			refs(r.Namespace, r.Spec.ParentRefs)
		}
	}
	for _, s := range c.Services {
		if fileKeys["Service "+s.Namespace+"/"+s.Name] {
			for _, sp := range s.Spec.Ports {
				add(target{s.Namespace, s.Name, sp.Port, s.Namespace})
			}
		}
	}
	honoured, known := dpolicy.HonoursGatewayRuleTimeouts(opts.ControlPlane.Version)
	popts := dpolicy.Options{ClusterDomain: opts.ClusterDomain, IgnoreGatewayRuleTimeouts: known && !honoured}
	done := map[string]bool{}
	for _, t := range targets {
		svc := findService(c.Services, t.ns, t.name)
		known := svc != nil
		if svc == nil {
			// Not in the files nor the cluster: a Service with that port,
			// as the controller would index it once created.
			svc = &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: t.ns, Name: t.name},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: t.port}}}}
		}
		pt := dpolicy.Target{Service: svc, Port: t.port, ClientNamespace: t.client, Authority: true}
		pf := &PolicyFacts{Target: pt, Cluster: c, Expected: dpolicy.Expect(pt, c, popts), ControlPlane: opts.ControlPlane, ServiceKnown: known,
			VersionAsked: opts.VersionAsked, Notes: opts.Notes}
		f := &Facts{Scope: PolicyPath, ClusterDomain: opts.ClusterDomain, PolicyPath: pf}
		for _, is := range Run(f) {
			if is.Code == CodeBackendInvalid && opts.Cluster == nil && !backendInFiles(is.Message, fileKeys) {
				continue // the backend may exist in the cluster
			}
			key := is.Code + "\x00" + is.Message
			if done[key] {
				continue
			}
			done[key] = true
			// The issue goes to the object it names, else the Service.
			// Routes first: a message about a route also names its Service.
			var to *source.Document
			for _, services := range []bool{false, true} {
				for _, o := range owners {
					if to == nil && (o.kind == "Service") == services && (strings.Contains(is.Message, o.key+" ") || strings.Contains(is.Message, o.key+":")) {
						to = o.doc
					}
				}
			}
			if to == nil {
				for _, o := range owners {
					if o.key == "Service "+t.ns+"/"+t.name {
						to = o.doc
					}
				}
			}
			// Else a route of the Service's namespace, else any route: a
			// finding is never dropped.
			for _, sameNS := range []bool{true, false} {
				for _, o := range owners {
					if to == nil && o.kind != "Service" && (!sameNS || o.doc.Namespace() == t.ns) {
						to = o.doc
					}
				}
			}
			if to == nil {
				continue
			}
			is.Line = to.Line
			results[to].Issues = append(results[to].Issues, is)
		}
	}
	out := make([]Result, 0, len(order))
	for _, d := range order {
		r := results[d]
		sortIssues(r.Issues)
		out = append(out, *r)
	}
	return out
}

// AnyPort is the port of a target that stands for every port: a parentRef
// without port applies to all ports of its Service (reference §6.1), and
// which ports those are is not known (see portlessPorts). What the
// analyzers find there holds on every port the Service will have without
// its own appProtocol or opaque marking.
const AnyPort int32 = 0

// portlessPorts are the ports a parentRef without port is judged on: every
// port of the Service; when the Service is unknown (neither in the files
// nor the cluster), the ports other parentRefs name for it; else, or when
// the Service has no ports, AnyPort, so the route is still judged on what
// does not depend on the port (a regex the controller rejects drops the
// route on every port) rather than skipped.
func portlessPorts(c *dpolicy.Cluster, ns, name string) []int32 {
	var ports []int32
	if s := findService(c.Services, ns, name); s != nil {
		for _, sp := range s.Spec.Ports {
			ports = append(ports, sp.Port)
		}
	} else {
		seen := map[int32]bool{}
		named := func(routeNS string, prs []gatewayv1.ParentReference) {
			for _, p := range prs {
				pns := routeNS
				if p.Namespace != nil && *p.Namespace != "" {
					pns = string(*p.Namespace)
				}
				if p.Kind != nil && string(*p.Kind) == "Service" && pns == ns && string(p.Name) == name && p.Port != nil && !seen[int32(*p.Port)] {
					seen[int32(*p.Port)] = true
					ports = append(ports, int32(*p.Port))
				}
			}
		}
		for _, r := range c.HTTPRoutes {
			named(r.Namespace, r.Spec.ParentRefs)
		}
		for _, r := range c.GRPCRoutes {
			named(r.Namespace, r.Spec.ParentRefs)
		}
	}
	if len(ports) == 0 {
		ports = []int32{AnyPort}
	}
	return ports
}

// backendInFiles: without the cluster, an invalid backend is judged only
// when the problem is not existence (no port, unsupported kind) or its
// Service is absent from the files too... which cannot be told from the
// files alone, so only the first kind is kept.
func backendInFiles(msg string, _ map[string]bool) bool {
	return !strings.Contains(msg, "Service not found")
}

// acceptAll gives a route written in a file the Accepted=True status the
// controller writes for each Service parent, so check judges the spec,
// not a status that does not exist yet.
func acceptAll(m metav1.ObjectMeta, refs []gatewayv1.ParentReference, st *gatewayv1.RouteStatus) bool {
	if len(st.Parents) > 0 {
		return false // a status written in the file is used as written
	}
	for _, p := range refs {
		ns := gatewayv1.Namespace(m.Namespace)
		if p.Namespace == nil || *p.Namespace == "" {
			p.Namespace = &ns // resolved now: rejectWithoutClusterIP finds the Service by it
		}
		st.Parents = append(st.Parents, gatewayv1.RouteParentStatus{ParentRef: p, ControllerName: "linkerd.io/policy-controller",
			Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted"}}})
	}
	return true
}

// rejectWithoutClusterIP turns a predicted Accepted=True into the
// controller's NoMatchingParent for a Service parent without a ClusterIP
// (reference: policy-api.md, route status).
func rejectWithoutClusterIP(svcs []*corev1.Service, st *gatewayv1.RouteStatus) {
	for i := range st.Parents {
		ref := st.Parents[i].ParentRef
		if ref.Kind == nil || string(*ref.Kind) != "Service" || ref.Namespace == nil {
			continue
		}
		s := findService(svcs, string(*ref.Namespace), string(ref.Name))
		if s == nil || (s.Spec.Type != corev1.ServiceTypeExternalName && s.Spec.ClusterIP != corev1.ClusterIPNone) {
			continue
		}
		st.Parents[i].Conditions = []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionFalse, Reason: "NoMatchingParent",
			Message: "parent service must have a ClusterIP"}}
	}
}

func findService(ss []*corev1.Service, ns, name string) *corev1.Service {
	for _, s := range ss {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return nil
}

func replaceService(ss []*corev1.Service, s *corev1.Service) []*corev1.Service {
	for i := range ss {
		if ss[i].Namespace == s.Namespace && ss[i].Name == s.Name {
			out := append([]*corev1.Service{}, ss...)
			out[i] = s
			return out
		}
	}
	return append(ss, s)
}

// deepCopy copies a decoded YAML object through JSON, so the converter
// sees JSON types only.
func deepCopy(m map[string]interface{}) map[string]interface{} {
	b, err := json.Marshal(m)
	if err != nil {
		return map[string]interface{}{}
	}
	var out map[string]interface{}
	if json.Unmarshal(b, &out) != nil {
		return map[string]interface{}{}
	}
	return out
}
