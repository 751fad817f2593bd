package kube

import (
	"context"
	"fmt"
	"strings"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
)

// ServiceProfiles is the GVR the control plane reads.
var ServiceProfiles = schema.GroupVersionResource{Group: profile.Group, Version: profile.StorageVersion, Resource: profile.Resource}

// ErrNoServiceProfileCRD means Linkerd's CRDs are not installed.
var ErrNoServiceProfileCRD = fmt.Errorf("the ServiceProfile CRD (serviceprofiles.linkerd.io/%s) is not installed: is Linkerd installed in this cluster? (linkerd install --crds)", profile.StorageVersion)

// CheckServiceProfileCRD fails with ErrNoServiceProfileCRD when the API
// server does not serve linkerd.io/v1alpha2 serviceprofiles.
func CheckServiceProfileCRD(dc discovery.DiscoveryInterface) error {
	list, err := dc.ServerResourcesForGroupVersion(profile.Group + "/" + profile.StorageVersion)
	if err != nil {
		if kerrors.IsNotFound(err) {
			return ErrNoServiceProfileCRD
		}
		return Explain(err, "discover the linkerd.io API group")
	}
	for _, r := range list.APIResources {
		if r.Name == profile.Resource {
			return nil
		}
	}
	return ErrNoServiceProfileCRD
}

// Partial says what a profile listing could not read.
type Partial struct {
	// ClusterWide is the refusal of the all-namespaces list.
	ClusterWide error
	// Unreadable are fallback namespaces that were refused too.
	Unreadable []string
}

// Warning is one line for stderr about what was not seen, or "".
func (p *Partial) Warning(what string) string {
	if p == nil {
		return ""
	}
	msg := fmt.Sprintf("warning: cannot list serviceprofiles.linkerd.io in all namespaces (RBAC), so %s", what)
	if len(p.Unreadable) > 0 {
		msg += fmt.Sprintf("; not readable either: namespace %s", strings.Join(p.Unreadable, ", "))
	}
	return msg
}

// ListProfiles lists ServiceProfiles named name (all names when name is
// "") in every namespace when allowed. When the cluster-wide list is
// refused it reads each of fallbackNS instead and reports that in Partial,
// so callers can tell "none exist" from "could not look".
func ListProfiles(ctx context.Context, dyn dynamic.Interface, name string, fallbackNS []string) ([]model.ProfileObject, *Partial, error) {
	opts := metav1.ListOptions{Limit: 500}
	if name != "" {
		opts.FieldSelector = "metadata.name=" + name
	}
	items, err := ListAll(ctx, dyn.Resource(ServiceProfiles).Namespace(metav1.NamespaceAll), opts)
	if err == nil {
		return decodeAll(items), nil, nil
	}
	if !kerrors.IsForbidden(err) {
		if kerrors.IsNotFound(err) {
			return nil, nil, ErrNoServiceProfileCRD
		}
		return nil, nil, Explain(err, "list serviceprofiles.linkerd.io in all namespaces")
	}
	partial := &Partial{ClusterWide: Explain(err, "list serviceprofiles.linkerd.io in all namespaces")}
	var cands []model.ProfileObject
	seen := map[string]bool{}
	var firstErr error
	for _, ns := range fallbackNS {
		if ns == "" || seen[ns] {
			continue
		}
		seen[ns] = true
		items, err := ListAll(ctx, dyn.Resource(ServiceProfiles).Namespace(ns), opts)
		if err != nil {
			if firstErr == nil {
				firstErr = Explain(err, "list serviceprofiles.linkerd.io in namespace "+ns)
			}
			partial.Unreadable = append(partial.Unreadable, ns)
			continue
		}
		cands = append(cands, decodeAll(items)...)
	}
	if len(partial.Unreadable) == len(seen) {
		if firstErr == nil {
			firstErr = partial.ClusterWide
		}
		return nil, partial, firstErr
	}
	return cands, partial, nil
}

// ListAll lists every page of ri.
func ListAll(ctx context.Context, ri dynamic.ResourceInterface, opts metav1.ListOptions) ([]unstructured.Unstructured, error) {
	var out []unstructured.Unstructured
	for {
		list, err := ri.List(ctx, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, list.Items...)
		if list.GetContinue() == "" {
			return out, nil
		}
		opts.Continue = list.GetContinue()
	}
}

func decodeAll(items []unstructured.Unstructured) []model.ProfileObject {
	out := make([]model.ProfileObject, 0, len(items))
	for i := range items {
		u := &items[i]
		sp, err := profile.FromJSONObject(u.Object)
		out = append(out, model.ProfileObject{
			Namespace: u.GetNamespace(), Name: u.GetName(), ResourceVersion: u.GetResourceVersion(),
			Profile: sp, DecodeErr: err,
		})
	}
	return out
}

// ProfileNames lists the names of the ServiceProfiles in ns.
func ProfileNames(ctx context.Context, dyn dynamic.Interface, ns string) ([]string, error) {
	items, err := ListAll(ctx, dyn.Resource(ServiceProfiles).Namespace(ns), metav1.ListOptions{Limit: 500})
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(items))
	for i := range items {
		names = append(names, items[i].GetName())
	}
	return names, nil
}
