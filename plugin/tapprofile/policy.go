package tapprofile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/policy"
)

// Policies answers client-policy lookups from the policy controller as the
// tapped client proxy asks: OutboundPolicies.Get with the Service's
// ClusterIP:port (the authority for headless Services) and a workload in
// the client namespace (plugin/policy.Spec).
type Policies struct {
	Client        *policy.Client
	Kube          kubernetes.Interface
	ClusterDomain string
	Timeout       time.Duration
}

// Policy implements PolicySource.
func (p *Policies) Policy(ctx context.Context, k Key) (*dpolicy.Policy, string, error) {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// One deadline for both calls: the Service read, then the policy.
	start := time.Now()
	sctx, cancel := context.WithTimeout(ctx, timeout)
	svc, err := p.Kube.CoreV1().Services(k.Namespace).Get(sctx, k.Service, metav1.GetOptions{})
	cancel()
	left := timeout - time.Since(start)
	if left < 10*time.Millisecond {
		left = 10 * time.Millisecond
	}
	switch {
	case apierrors.IsNotFound(err):
		return nil, "", fmt.Errorf("Service %s/%s not found, so its client policy cannot be asked for", k.Namespace, k.Service)
	case err != nil:
		return nil, "", fmt.Errorf("reading Service %s/%s: %v", k.Namespace, k.Service, err)
	}
	pol, _, err := p.Client.Get(ctx, policy.Spec(svc, int32(k.Port), policy.Workload{Namespace: k.ClientNamespace}, p.ClusterDomain), left)
	if errors.Is(err, policy.ErrNoPolicy) {
		return nil, "", nil
	}
	return pol, "", err
}

// RouteFiles answers client-policy lookups from HTTPRoute and GRPCRoute
// files instead of the policy controller, with the controller's rules
// (diag/policy.Expect, as `get` uses them). The files stand for the whole
// cluster's routes: a Service no route names gets the default route. What
// files cannot say is assumed: every route is taken as Accepted by the
// controller (unless it carries a status), every backend Service as
// existing, and the target Service as having the looked-up port with no
// appProtocol (default opaque ports apply).
type RouteFiles struct {
	ClusterDomain string
	http          []dpolicy.HTTPRoute
	grpc          []*dpolicy.GRPCRoute
	backends      []*corev1.Service
}

// LoadRouteFiles reads HTTPRoutes (gateway.networking.k8s.io or
// policy.linkerd.io) and GRPCRoutes with diag/source's bounded loader
// (multi-document YAML or JSON, List objects, directories, "-" for
// stdin). Objects of other kinds are skipped; a document that does not
// parse or decode is an error, as is a set of files with no route at all.
func LoadRouteFiles(ctx context.Context, paths []string, stdin io.Reader, clusterDomain, defaultNS string) (*RouteFiles, error) {
	docs, err := source.Loader{Stdin: stdin}.Load(ctx, paths)
	if err != nil {
		return nil, fmt.Errorf("--route: %v", err)
	}
	f := &RouteFiles{ClusterDomain: clusterDomain}
	seen := map[string]bool{}
	backend := func(ns string, refNS *gatewayv1.Namespace, name gatewayv1.ObjectName, group *gatewayv1.Group, kind *gatewayv1.Kind) {
		if kind != nil && !strings.EqualFold(string(*kind), "Service") || group != nil && *group != "" && *group != "core" {
			return
		}
		if refNS != nil && *refNS != "" {
			ns = string(*refNS)
		}
		if key := ns + "/" + string(name); !seen[key] {
			seen[key] = true
			f.backends = append(f.backends, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: string(name)}})
		}
	}
	for i := range docs {
		d := &docs[i]
		at := d.File
		if d.Line > 0 {
			at = fmt.Sprintf("%s:%d", d.File, d.Line)
		}
		if d.Err != nil {
			return nil, fmt.Errorf("--route %s: %v", at, d.Err)
		}
		if d.Kind() != "HTTPRoute" && d.Kind() != "GRPCRoute" {
			continue
		}
		u := &unstructured.Unstructured{Object: d.Object}
		if u.GetNamespace() == "" {
			u.SetNamespace(defaultNS)
		}
		switch d.Kind() {
		case "HTTPRoute":
			r, err := dpolicy.DecodeHTTPRoute(u)
			if err != nil {
				return nil, fmt.Errorf("--route %s: %v", at, err)
			}
			AssumeAccepted(&r.Status.Parents, r.Spec.ParentRefs)
			for _, rule := range r.Spec.Rules {
				for _, b := range rule.BackendRefs {
					backend(r.Namespace, b.Namespace, b.Name, b.Group, b.Kind)
				}
			}
			f.http = append(f.http, r)
		case "GRPCRoute":
			if g := u.GroupVersionKind().Group; g != dpolicy.GroupGateway {
				return nil, fmt.Errorf("--route %s: GRPCRoute with apiVersion %q: want %s/<version>", at, u.GetAPIVersion(), dpolicy.GroupGateway)
			}
			r, err := dpolicy.DecodeGRPCRoute(u)
			if err != nil {
				return nil, fmt.Errorf("--route %s: %v", at, err)
			}
			AssumeAccepted(&r.Status.Parents, r.Spec.ParentRefs)
			for _, rule := range r.Spec.Rules {
				for _, b := range rule.BackendRefs {
					backend(r.Namespace, b.Namespace, b.Name, b.Group, b.Kind)
				}
			}
			f.grpc = append(f.grpc, r)
		}
	}
	if len(f.http)+len(f.grpc) == 0 {
		return nil, fmt.Errorf("--route %s: no HTTPRoute or GRPCRoute in it", strings.Join(paths, ", "))
	}
	return f, nil
}

// AssumeAccepted gives a route without status an Accepted=True entry per
// parentRef, as the policy controller writes for a valid parent.
func AssumeAccepted(st *[]gatewayv1.RouteParentStatus, refs []gatewayv1.ParentReference) {
	if len(*st) > 0 {
		return
	}
	for _, ref := range refs {
		*st = append(*st, gatewayv1.RouteParentStatus{ParentRef: ref, ControllerName: "linkerd.io/policy-controller",
			Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted"}}})
	}
}

// Policy implements PolicySource.
func (f *RouteFiles) Policy(_ context.Context, k Key) (*dpolicy.Policy, string, error) {
	exp := ExpectFromRoutes(k, f.ClusterDomain, f.http, f.grpc, f.backends)
	note := ""
	if len(exp.Routes) == 0 {
		note = fmt.Sprintf("no --route file names Service %s/%s: treating it as having no HTTPRoutes (the default route)", k.Namespace, k.Service)
	}
	for _, v := range exp.Routes {
		if v.Reason != dpolicy.ReasonServed && v.Reason != dpolicy.ReasonOtherPort && v.Reason != dpolicy.ReasonOtherConsumer {
			note = fmt.Sprintf("--route: %s %s/%s is not served for %s/%s port %d: %s %s", v.Kind, v.Namespace, v.Name, k.Namespace, k.Service, k.Port, v.Reason, v.Detail)
			break
		}
	}
	return exp.Policy, strings.TrimSpace(note), nil
}

// ExpectFromRoutes is what the policy controller serves for lookup k when
// these are all the routes (diag/policy.Expect): the target Service has
// the looked-up port with no appProtocol and no ClusterIP (so no
// undefined-port check); services are the other Services that exist
// (backends).
func ExpectFromRoutes(k Key, clusterDomain string, http []dpolicy.HTTPRoute, grpc []*dpolicy.GRPCRoute, services []*corev1.Service) dpolicy.Expected {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: k.Namespace, Name: k.Service},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: int32(k.Port)}}}}
	c := &dpolicy.Cluster{Services: append([]*corev1.Service{svc}, services...), HTTPRoutes: http, GRPCRoutes: grpc}
	return dpolicy.Expect(dpolicy.Target{Service: svc, Port: int32(k.Port), ClientNamespace: k.ClientNamespace, Authority: true},
		c, dpolicy.Options{ClusterDomain: clusterDomain})
}
