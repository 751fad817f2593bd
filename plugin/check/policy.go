package check

import (
	"context"
	"fmt"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-profiles/kubectl-profiles/diag/analyze"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	ppolicy "github.com/kubectl-profiles/kubectl-profiles/plugin/policy"
)

// linkerdNamespace is where the control plane's release is read from.
func linkerdNamespace() string {
	if ns := os.Getenv("LINKERD_NAMESPACE"); ns != "" {
		return ns
	}
	return "linkerd"
}

// policyFacts reads what the policy controller indexes in the namespaces
// ("" = all) and the control plane's release. What cannot be read is one
// warning line, never an error: the ServiceProfile checks still run.
func (g *gatherer) policyFacts(ctx context.Context, namespaces []string) analyze.PolicyOptions {
	c, notes, err := ppolicy.ReadCluster(ctx, g.cs, g.dc, g.dyn, namespaces)
	if err != nil {
		notes = append(notes, err.Error())
		g.o.unread = append(g.o.unread, err.Error()) // no policy resource is checked
	} else {
		g.o.unread = append(g.o.unread, c.Unread...)
	}
	if say := analyze.PolicyNotesWorthSaying(notes); len(say) > 0 {
		fmt.Fprintln(g.o.Streams.ErrOut, "warning: policy path: "+cli.OneLine(strings.Join(say, "; ")))
	}
	return analyze.PolicyOptions{Cluster: c, Notes: notes, ControlPlane: ppolicy.ReadControlPlane(ctx, g.cs, linkerdNamespace()), VersionAsked: true}
}

// checkPolicyFiles lints the HTTPRoutes, GRPCRoutes and Services of the
// files, as written (the controller has not written their status yet),
// with the cluster's Services and routes when g is set.
func (o *Options) checkPolicyFiles(ctx context.Context, docs []*source.Document, g *gatherer, defaultNS string) []analyze.Result {
	var sel []*source.Document
	namespaces := map[string]bool{}
	for _, d := range docs {
		if analyze.IsPolicyResource(d) && (d.Kind() != "Service" || hasPolicyAnnotations(d)) || isRouteParent(d, docs) {
			sel = append(sel, d)
			ns := d.Namespace()
			if ns == "" {
				ns = defaultNS
			}
			namespaces[ns] = true
		}
	}
	if len(sel) == 0 {
		return nil
	}
	opts := analyze.PolicyOptions{}
	if g != nil {
		opts = g.policyFacts(ctx, sortedSet(namespaces))
	}
	opts.ClusterDomain, opts.DefaultNamespace, opts.AsWritten = o.ClusterDomain, defaultNS, true
	return analyze.CheckPolicy(sel, opts)
}

// checkPolicyCluster lints the routes in scope and the Services with
// retry, timeout or failure-accrual annotations, with their real status
// (the documents keep it: CheckPolicy judges a route by the status of the
// document it lints, which is the cluster's here).
func (o *Options) checkPolicyCluster(ctx context.Context, g *gatherer, ns string) []analyze.Result {
	opts := g.policyFacts(ctx, []string{ns})
	if opts.Cluster == nil {
		return nil
	}
	var docs []*source.Document
	// Typed list items carry no apiVersion and kind: set them, or the
	// linter would not know what it reads (and skip it).
	add := func(obj interface{}, apiVersion, kind string) {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return
		}
		if av, _ := u["apiVersion"].(string); av == "" {
			u["apiVersion"] = apiVersion
		}
		if k, _ := u["kind"].(string); k == "" {
			u["kind"] = kind
		}
		d := source.FromObject(u)
		docs = append(docs, &d)
	}
	for _, s := range opts.Cluster.Services {
		if policyAnnotated(s.Annotations) {
			add(s, "v1", "Service")
		}
	}
	for _, r := range opts.Cluster.HTTPRoutes {
		add(r.HTTPRoute, "gateway.networking.k8s.io/v1", "HTTPRoute")
	}
	for _, r := range opts.Cluster.GRPCRoutes {
		add(r, "gateway.networking.k8s.io/v1", "GRPCRoute")
	}
	opts.ClusterDomain = o.ClusterDomain
	return analyze.CheckPolicy(docs, opts)
}

func hasPolicyAnnotations(d *source.Document) bool {
	md, _ := d.Object["metadata"].(map[string]interface{})
	ann, _ := md["annotations"].(map[string]interface{})
	m := map[string]string{}
	for k := range ann {
		m[k] = ""
	}
	return policyAnnotated(m)
}

func policyAnnotated(ann map[string]string) bool {
	for k := range ann {
		if strings.HasPrefix(k, "retry.linkerd.io/") || strings.HasPrefix(k, "timeout.linkerd.io/") || strings.HasPrefix(k, "balancer.linkerd.io/") || strings.HasPrefix(k, "balancer.alpha.linkerd.io/") {
			return true
		}
	}
	return false
}

// isRouteParent: a Service in the files that a route in the files names
// (its ports and appProtocol decide what the routes do).
func isRouteParent(d *source.Document, docs []*source.Document) bool {
	if d.Err != nil || d.Kind() != "Service" || d.APIVersion() != "v1" {
		return false
	}
	for _, r := range docs {
		if !analyze.IsPolicyResource(r) || r.Kind() == "Service" {
			continue
		}
		spec, _ := r.Object["spec"].(map[string]interface{})
		refs, _ := spec["parentRefs"].([]interface{})
		for _, p := range refs {
			m, _ := p.(map[string]interface{})
			if m["name"] == d.Name() && m["kind"] == "Service" {
				return true
			}
		}
	}
	return false
}
