package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes"
)

// Workload is KIND/NAME resolved: the object and every pod it selects.
type Workload struct {
	Kind, Namespace, Name string
	// Service is set when the object is a Service.
	Service *corev1.Service
	Pods    []corev1.Pod
}

// PodsFor resolves KIND/NAME (a pod, a Service or any workload with a
// selector) in ns to every pod it selects. what prefixes error messages
// (e.g. the flag that named ref).
func PodsFor(ctx context.Context, getter resource.RESTClientGetter, cs kubernetes.Interface, ns, ref, what string) (*Workload, error) {
	infos, err := resource.NewBuilder(getter).Unstructured().NamespaceParam(ns).DefaultNamespace().
		ResourceTypeOrNameArgs(true, ref).SingleResourceType().Flatten().Do().Infos()
	if err != nil {
		return nil, Explain(err, fmt.Sprintf("get %s in namespace %s", ref, ns))
	}
	if len(infos) != 1 {
		return nil, fmt.Errorf("%s %s: expected one object, found %d", what, ref, len(infos))
	}
	u, ok := infos[0].Object.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("%s %s: unexpected object type", what, ref)
	}
	w := &Workload{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
	if w.Namespace == "" {
		w.Namespace = ns
	}
	var selector labels.Selector
	switch u.GetKind() {
	case "Pod":
		var pod corev1.Pod
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &pod); err != nil {
			return nil, err
		}
		w.Pods = []corev1.Pod{pod}
		return w, nil
	case "Service":
		var svc corev1.Service
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &svc); err != nil {
			return nil, err
		}
		w.Service = &svc
		if len(svc.Spec.Selector) == 0 {
			return nil, fmt.Errorf("%s %s: the Service has no selector, so no pods of its own; name a workload instead", what, ref)
		}
		selector = labels.SelectorFromSet(svc.Spec.Selector)
	default:
		sel, found, _ := unstructured.NestedMap(u.Object, "spec", "selector")
		if !found {
			return nil, fmt.Errorf("%s %s: a %s has no pod selector; pass a pod, a Service or a workload (deploy, sts, ds, rs, job)", what, ref, u.GetKind())
		}
		var ls metav1.LabelSelector
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(sel, &ls); err != nil {
			return nil, fmt.Errorf("%s %s: bad selector: %v", what, ref, err)
		}
		selector, err = metav1.LabelSelectorAsSelector(&ls)
		if err != nil || selector.Empty() {
			selector = labels.Nothing()
		}
	}
	pods, err := cs.CoreV1().Pods(w.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil, Explain(err, "list pods of "+ref+" in namespace "+w.Namespace)
	}
	w.Pods = pods.Items
	return w, nil
}
