package kube

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-profiles/kubectl-profiles/diag/report"
)

var httpRouteGroups = []string{"policy.linkerd.io", "gateway.networking.k8s.io"}

// HTTPRoutes lists HTTPRoutes in the given namespaces whose parentRefs name
// the Service. Groups that are not installed or not readable are skipped:
// HTTPRoutes only add a finding.
func HTTPRoutes(ctx context.Context, dc discovery.DiscoveryInterface, dyn dynamic.Interface, svcNS, svcName string, namespaces []string) []report.HTTPRoute {
	var out []report.HTTPRoute
	for _, group := range httpRouteGroups {
		version := preferredVersion(dc, group, "httproutes")
		if version == "" {
			continue
		}
		gvr := schema.GroupVersionResource{Group: group, Version: version, Resource: "httproutes"}
		seen := map[string]bool{}
		for _, ns := range namespaces {
			if ns == "" || seen[ns] {
				continue
			}
			seen[ns] = true
			items, err := listAll(ctx, dyn.Resource(gvr).Namespace(ns), metav1.ListOptions{Limit: 500})
			if err != nil {
				continue
			}
			for i := range items {
				out = append(out, attached(&items[i], group, svcNS, svcName)...)
			}
		}
	}
	return out
}

func preferredVersion(dc discovery.DiscoveryInterface, group, resource string) string {
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

// attached returns one entry per parentRef of u that names the Service.
func attached(u *unstructured.Unstructured, group, svcNS, svcName string) []report.HTTPRoute {
	refs, _, _ := unstructured.NestedSlice(u.Object, "spec", "parentRefs")
	var out []report.HTTPRoute
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
		if kind != "Service" || (g != "" && g != "core") || name != svcName || ns != svcNS {
			continue
		}
		var port uint32
		switch p := m["port"].(type) {
		case int64:
			port = uint32(p)
		case float64:
			port = uint32(p)
		}
		out = append(out, report.HTTPRoute{Group: group, Namespace: u.GetNamespace(), Name: u.GetName(), Port: port})
	}
	return out
}
