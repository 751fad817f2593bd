package kube

import (
	"context"

	corev1 "k8s.io/api/core/v1"
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

// ServiceNames lists the names of Services in ns (nil, nil if forbidden:
// the list only sharpens near-miss detection).
func ServiceNames(ctx context.Context, cs kubernetes.Interface, ns string) ([]string, error) {
	var names []string
	opts := metav1.ListOptions{Limit: 500}
	for {
		list, err := cs.CoreV1().Services(ns).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, s := range list.Items {
			names = append(names, s.Name)
		}
		if list.Continue == "" {
			return names, nil
		}
		opts.Continue = list.Continue
	}
}
