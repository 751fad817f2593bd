package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
)

// ToService extracts what the destination knows about a Service.
func ToService(svc *corev1.Service) model.Service {
	out := model.Service{Name: svc.Name, Namespace: svc.Namespace, ExternalName: svc.Spec.Type == corev1.ServiceTypeExternalName}
	for _, p := range svc.Spec.Ports {
		out.Ports = append(out.Ports, model.ServicePort{Name: p.Name, Port: uint32(p.Port), Protocol: string(p.Protocol)})
	}
	if v, ok := svc.Annotations[model.OpaquePortsAnnotation]; ok {
		out.OpaquePorts = &v
	}
	return out
}

// ListServices lists the Services of ns (every namespace for ""), page by
// page: the one place Services are listed.
func ListServices(ctx context.Context, cs kubernetes.Interface, ns string) ([]model.Service, error) {
	objs, err := ListServiceObjects(ctx, cs, ns)
	if err != nil {
		return nil, err
	}
	out := make([]model.Service, 0, len(objs))
	for _, o := range objs {
		out = append(out, ToService(o))
	}
	return out, nil
}

// ListServiceObjects lists the Services of ns ("" for all), every page, as
// the API returns them (get needs their type and clusterIP too).
func ListServiceObjects(ctx context.Context, cs kubernetes.Interface, ns string) ([]*corev1.Service, error) {
	var out []*corev1.Service
	opts := metav1.ListOptions{Limit: 500}
	for {
		list, err := cs.CoreV1().Services(ns).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for i := range list.Items {
			out = append(out, &list.Items[i])
		}
		if list.Continue == "" {
			return out, nil
		}
		opts.Continue = list.Continue
	}
}

// ServiceNames lists the names of Services in ns.
func ServiceNames(ctx context.Context, cs kubernetes.Interface, ns string) ([]string, error) {
	svcs, err := ListServices(ctx, cs, ns)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(svcs))
	for _, s := range svcs {
		names = append(names, s.Name)
	}
	return names, nil
}

// NamespaceMissing is an error when namespace ns does not exist: an empty
// result there is a typo, not a clean one. Any other answer (RBAC forbids
// reading namespaces, an error) is nil: the caller's empty result stands.
func NamespaceMissing(ctx context.Context, cs kubernetes.Interface, ns string) error {
	if ns == "" {
		return nil
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); kerrors.IsNotFound(err) {
		return fmt.Errorf("namespace %q does not exist: check -n/--namespace (or the namespace of the kubeconfig's context)", ns)
	}
	return nil
}
