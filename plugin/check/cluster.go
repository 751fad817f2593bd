package check

import (
	"context"
	"errors"
	"fmt"
	"sort"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-profiles/kubectl-profiles/diag/analyze"
	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
)

// ref is a profile's namespace and the Service its name refers to.
type ref struct {
	namespace string
	service   profile.ServiceRef
	named     bool
}

// gatherer reads cluster facts. It never writes.
type gatherer struct {
	o   *Options
	cs  kubernetes.Interface
	dyn dynamic.Interface
	dc  discovery.DiscoveryInterface
	ns  string // -n, or the kubeconfig's namespace
}

func newGatherer(o *Options) (*gatherer, error) {
	c, err := kube.NewClients(o.Flags)
	if err != nil {
		return nil, fmt.Errorf("%v; or check files without --cluster", err)
	}
	return &gatherer{o: o, cs: c.Kube, dyn: c.Dynamic, dc: c.Discovery, ns: c.Namespace}, nil
}

// checkCluster checks every ServiceProfile in scope against the cluster.
func (o *Options) checkCluster(ctx context.Context) ([]analyze.Result, string, error) {
	g, err := newGatherer(o)
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if err := kube.CheckServiceProfileCRD(g.dc); err != nil {
		return nil, "", err
	}
	ns, scope := g.ns, "namespace "+g.ns
	if o.AllNamespaces {
		ns, scope = metav1.NamespaceAll, "the cluster"
	}
	items, err := listAll(ctx, g.dyn.Resource(kube.ServiceProfiles).Namespace(ns))
	if errors.Is(err, kube.ErrNoServiceProfileCRD) {
		return nil, "", err
	}
	if err != nil {
		return nil, "", kube.Explain(ctxErr(ctx, err), "list serviceprofiles.linkerd.io in "+scope)
	}
	if len(items) == 0 && !o.AllNamespaces {
		if err := kube.NamespaceMissing(ctx, g.cs, ns); err != nil {
			return nil, "", err
		}
	}
	docs := make([]*source.Document, len(items))
	for i := range items {
		d := source.FromObject(items[i].Object)
		docs[i] = &d
	}
	opts := analyze.Options{ClusterDomain: o.ClusterDomain}
	facts, err := g.factsFor(ctx, profileRefs(docs, opts), o.AllNamespaces)
	if err != nil {
		return nil, "", err
	}
	for _, d := range docs {
		facts.Profiles[model.NamespacedName{Namespace: d.Namespace(), Name: d.Name()}] = true
	}
	opts.Cluster = facts
	results := make([]analyze.Result, 0, len(docs))
	for _, d := range docs {
		results = append(results, analyze.Check(d, opts))
	}
	results = append(results, o.checkPolicyCluster(ctx, g, ns)...)
	return results, scope, nil
}

// factsFor reads what the analyzers need about the Services the profiles
// refer to: the Services of their namespaces, HTTPRoutes attached to them,
// and the ServiceProfiles there. all lists cluster-wide instead of per
// namespace. Services that cannot be read in a profile's own namespace fail
// the run (the user asked about that namespace); elsewhere they are skipped.
func (g *gatherer) factsFor(ctx context.Context, refs []ref, all bool) (*model.Cluster, error) {
	facts := model.NewCluster()
	own := map[string]bool{}
	wanted := map[string]bool{}
	for _, r := range refs {
		if r.namespace != "" {
			own[r.namespace] = true
		}
		if r.named {
			wanted[r.service.Namespace] = true
		}
	}
	namespaces := sortedSet(wanted, own)
	if all {
		if err := g.services(ctx, metav1.NamespaceAll, facts); err != nil {
			return nil, err
		}
		for _, ns := range namespaces {
			facts.Listed[ns] = true
		}
	} else {
		for _, ns := range namespaces {
			err := g.services(ctx, ns, facts)
			switch {
			case err == nil:
				facts.Listed[ns] = true
			case own[ns] || ctx.Err() != nil:
				return nil, err
			}
		}
	}
	g.httpRoutes(ctx, namespaces, all, facts)
	if !all {
		// Other profiles, for client-override messages: best effort.
		for _, ns := range namespaces {
			if names, err := kube.ProfileNames(ctx, g.dyn, ns); err == nil {
				for _, n := range names {
					facts.Profiles[model.NamespacedName{Namespace: ns, Name: n}] = true
				}
			}
		}
	}
	return facts, nil
}

func (g *gatherer) services(ctx context.Context, ns string, facts *model.Cluster) error {
	where := "in namespace " + ns
	if ns == metav1.NamespaceAll {
		where = "in all namespaces"
	}
	svcs, err := kube.ListServices(ctx, g.cs, ns)
	if err != nil {
		return kube.Explain(ctxErr(ctx, err), "list services "+where)
	}
	for _, s := range svcs {
		facts.Services[model.NamespacedName{Namespace: s.Namespace, Name: s.Name}] = s
	}
	return nil
}

// httpRoutes indexes HTTPRoutes by the Services their parentRefs name.
func (g *gatherer) httpRoutes(ctx context.Context, namespaces []string, all bool, facts *model.Cluster) {
	if all {
		namespaces = []string{metav1.NamespaceAll}
	}
	routes, unread := kube.HTTPRoutes(ctx, g.dc, g.dyn, namespaces)
	for svc, hs := range routes {
		facts.HTTPRoutes[svc] = append(facts.HTTPRoutes[svc], hs...)
	}
	g.o.unread = append(g.o.unread, unread...)
}

// listAll lists every page; a missing resource means Linkerd's CRD is missing.
func listAll(ctx context.Context, ri dynamic.ResourceInterface) ([]unstructured.Unstructured, error) {
	items, err := kube.ListAll(ctx, ri, metav1.ListOptions{Limit: 500})
	if kerrors.IsNotFound(err) {
		return nil, kube.ErrNoServiceProfileCRD
	}
	return items, err
}

// ctxErr makes a deadline say which flag to raise.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("timed out (raise --timeout): %v", err)
	}
	return err
}

func sortedSet(sets ...map[string]bool) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range sets {
		for k := range s {
			if k != "" && !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}
