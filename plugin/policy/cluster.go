package policy

import (
	"context"
	"fmt"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
)

// ReadCluster reads what the policy controller indexes, for
// diag/policy.Expect, in the given namespaces ("" = all): Services,
// HTTPRoutes of both groups and GRPCRoutes, decoded into the Gateway API
// types. The controller reads Gateway routes at v1 only, and policy.linkerd.io
// HTTPRoutes at their preferred version. What could not be read (a kind not
// installed, Gateway routes without v1, RBAC, an object that does not
// decode and that the controller would skip too) is one line each in notes,
// never an error: the caller says it, and the ServiceProfile half still
// works. The error is for Services only, which the prediction cannot do
// without.
func ReadCluster(ctx context.Context, cs kubernetes.Interface, dc discovery.DiscoveryInterface, dyn dynamic.Interface, namespaces []string) (c *dpolicy.Cluster, notes []string, err error) {
	c = &dpolicy.Cluster{}
	seen := map[string]bool{}
	for _, ns := range namespaces {
		if seen[ns] {
			continue
		}
		seen[ns] = true
		opts := metav1.ListOptions{Limit: 500}
		for {
			list, err := cs.CoreV1().Services(ns).List(ctx, opts)
			if err != nil {
				return nil, notes, kube.Explain(err, "list services"+inNamespace(ns))
			}
			for i := range list.Items {
				c.Services = append(c.Services, &list.Items[i])
			}
			if list.Continue == "" {
				break
			}
			opts.Continue = list.Continue
		}
	}
	type kind struct {
		group, resource, version string
		only                     bool // only this version is read
	}
	kinds := []kind{
		{dpolicy.GroupGateway, "httproutes", "v1", true},
		{dpolicy.GroupLinkerd, "httproutes", "", false},
		{dpolicy.GroupGateway, "grpcroutes", "v1", true},
	}
	for _, k := range kinds {
		version := kube.PreferredVersion(dc, k.group, k.resource)
		if version == "" {
			notes = append(notes, fmt.Sprintf("%s.%s is not installed: no such routes are read", k.resource, k.group))
			continue
		}
		if k.only && !serves(dc, k.group, k.version, k.resource) {
			notes = append(notes, fmt.Sprintf("%s.%s is installed without %s (only %s): Linkerd reads %s only, so these routes are ignored by the control plane", k.resource, k.group, k.version, version, k.version))
			continue
		}
		if k.only {
			version = k.version
		}
		gvr := schema.GroupVersionResource{Group: k.group, Version: version, Resource: k.resource}
		for ns := range seen {
			items, err := kube.ListAll(ctx, dyn.Resource(gvr).Namespace(ns), metav1.ListOptions{Limit: 500})
			if kerrors.IsNotFound(err) {
				// Discovery (cached) still lists a CRD that is gone.
				notes = append(notes, fmt.Sprintf("%s.%s is not installed: no such routes are read", k.resource, k.group))
				break
			}
			if err != nil {
				unread := kube.Explain(err, "list "+k.resource+"."+k.group+inNamespace(ns)).Error()
				notes, c.Unread = append(notes, unread), append(c.Unread, unread)
				continue
			}
			for i := range items {
				u := &items[i]
				if k.resource == "grpcroutes" {
					r, err := dpolicy.DecodeGRPCRoute(u)
					if err != nil {
						notes = append(notes, err.Error()+": the controller skips it too")
						continue
					}
					c.GRPCRoutes = append(c.GRPCRoutes, r)
					continue
				}
				r, err := dpolicy.DecodeHTTPRoute(u)
				if err != nil {
					notes = append(notes, err.Error()+": the controller skips it too")
					continue
				}
				c.HTTPRoutes = append(c.HTTPRoutes, r)
			}
		}
	}
	sort.Strings(notes)
	sort.Strings(c.Unread)
	return c, notes, nil
}

func inNamespace(ns string) string {
	if ns == "" {
		return " in all namespaces"
	}
	return " in namespace " + ns
}

// serves tells whether group/version serves resource.
func serves(dc discovery.DiscoveryInterface, group, version, resource string) bool {
	list, err := dc.ServerResourcesForGroupVersion(group + "/" + version)
	if err != nil {
		return false
	}
	for _, r := range list.APIResources {
		if r.Name == resource {
			return true
		}
	}
	return false
}

// ServiceIn finds a Service of c by namespace and name.
func ServiceIn(c *dpolicy.Cluster, ns, name string) *corev1.Service {
	for _, s := range c.Services {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return nil
}
