package kube

import (
	"context"
	"sync"

	kerrors "k8s.io/apimachinery/pkg/api/errors"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
)

// httpRouteVersions are the versions of HTTPRoute each group has served,
// newest first.
var httpRouteVersions = []struct {
	group    string
	versions []string
}{
	{"policy.linkerd.io", []string{"v1beta3", "v1beta2", "v1beta1", "v1alpha1"}},
	{"gateway.networking.k8s.io", []string{"v1", "v1beta1"}},
}

// HTTPRoutes indexes the HTTPRoutes of the given namespaces (all namespaces
// for "") by the Services their parentRefs name. Groups that are not
// installed are skipped; what could not be listed (RBAC, an error) is one
// line each in unread, so that "no HTTPRoute" is never claimed there.
// There is no discovery round trip: each group is listed at its newest
// version, falling back to older ones only when the API server does not
// serve it (404); both groups are read at once. dc is not used (kept for
// callers that pass it).
func HTTPRoutes(ctx context.Context, dc discovery.DiscoveryInterface, dyn dynamic.Interface, namespaces []string) (routes map[model.NamespacedName][]model.HTTPRoute, unread []string) {
	_ = dc
	parts := make([]map[model.NamespacedName][]model.HTTPRoute, len(httpRouteVersions))
	unreads := make([][]string, len(httpRouteVersions))
	var wg sync.WaitGroup
	for i, g := range httpRouteVersions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[i], unreads[i] = groupHTTPRoutes(ctx, dyn, g.group, g.versions, namespaces)
		}()
	}
	wg.Wait()
	out := map[model.NamespacedName][]model.HTTPRoute{}
	for i, p := range parts {
		for svc, hs := range p {
			out[svc] = append(out[svc], hs...)
		}
		unread = append(unread, unreads[i]...)
	}
	return out, unread
}

func groupHTTPRoutes(ctx context.Context, dyn dynamic.Interface, group string, versions []string, namespaces []string) (out map[model.NamespacedName][]model.HTTPRoute, unread []string) {
	out = map[model.NamespacedName][]model.HTTPRoute{}
	seen := map[string]bool{}
	version := 0
	for _, ns := range namespaces {
		if seen[ns] {
			continue
		}
		seen[ns] = true
		var items []unstructured.Unstructured
		var err error
		for ; version < len(versions); version++ {
			gvr := schema.GroupVersionResource{Group: group, Version: versions[version], Resource: "httproutes"}
			items, err = ListAll(ctx, dyn.Resource(gvr).Namespace(ns), metav1.ListOptions{Limit: 500})
			if err == nil || !kerrors.IsNotFound(err) {
				break
			}
		}
		if version == len(versions) {
			return out, unread // the group is not installed
		}
		if err != nil {
			where := " in namespace " + ns
			if ns == metav1.NamespaceAll {
				where = " in all namespaces"
			}
			unread = append(unread, Explain(err, "list httproutes."+group+where).Error())
			continue
		}
		for i := range items {
			for svc, hs := range ServiceParents(&items[i], group) {
				out[svc] = append(out[svc], hs...)
			}
		}
	}
	return out, unread
}

// PreferredVersion is the first version of group (preferred first) that
// serves resource, or "" when the group is not installed.
func PreferredVersion(dc discovery.DiscoveryInterface, group, resource string) string {
	groups, err := dc.ServerGroups()
	if err != nil {
		return ""
	}
	for _, g := range groups.Groups {
		if g.Name != group {
			continue
		}
		versions := append([]metav1.GroupVersionForDiscovery{g.PreferredVersion}, g.Versions...)
		for _, v := range versions {
			list, err := dc.ServerResourcesForGroupVersion(v.GroupVersion)
			if err != nil {
				continue
			}
			for _, r := range list.APIResources {
				if r.Name == resource {
					return v.Version
				}
			}
		}
	}
	return ""
}

// ServiceParents returns, for each Service that u's parentRefs name, one
// entry per parentRef (a parentRef without namespace means u's own).
func ServiceParents(u *unstructured.Unstructured, group string) map[model.NamespacedName][]model.HTTPRoute {
	refs, _, _ := unstructured.NestedSlice(u.Object, "spec", "parentRefs")
	out := map[model.NamespacedName][]model.HTTPRoute{}
	for _, r := range refs {
		m, ok := r.(map[string]interface{})
		if !ok {
			continue
		}
		kind, _ := m["kind"].(string)
		g, _ := m["group"].(string)
		name, _ := m["name"].(string)
		ns, _ := m["namespace"].(string)
		if ns == "" {
			ns = u.GetNamespace()
		}
		if kind != "Service" || (g != "" && g != "core") || name == "" {
			continue
		}
		var port uint32
		switch p := m["port"].(type) {
		case int64:
			port = uint32(p)
		case float64:
			port = uint32(p)
		}
		key := model.NamespacedName{Namespace: ns, Name: name}
		out[key] = append(out[key], model.HTTPRoute{Group: group, Namespace: u.GetNamespace(), Name: u.GetName(), Port: port})
	}
	return out
}
