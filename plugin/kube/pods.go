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

// PodFor resolves KIND/NAME (a pod or any workload with spec.selector) in ns
// to one of its pods, preferring a Running one.
func PodFor(ctx context.Context, getter resource.RESTClientGetter, cs kubernetes.Interface, ns, ref string) (*corev1.Pod, error) {
	infos, err := resource.NewBuilder(getter).Unstructured().NamespaceParam(ns).DefaultNamespace().
		ResourceTypeOrNameArgs(true, ref).SingleResourceType().Flatten().Do().Infos()
	if err != nil {
		return nil, Explain(err, fmt.Sprintf("get %s in namespace %s", ref, ns))
	}
	if len(infos) != 1 {
		return nil, fmt.Errorf("--from %s: expected one object, found %d", ref, len(infos))
	}
	u, ok := infos[0].Object.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("--from %s: unexpected object type", ref)
	}
	if u.GetKind() == "Pod" {
		var pod corev1.Pod
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &pod); err != nil {
			return nil, err
		}
		return &pod, nil
	}
	sel, found, _ := unstructured.NestedMap(u.Object, "spec", "selector")
	if !found {
		return nil, fmt.Errorf("--from %s: a %s has no pod selector; pass a pod or a workload (deploy, sts, ds, rs, job)", ref, u.GetKind())
	}
	var ls metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(sel, &ls); err != nil {
		return nil, fmt.Errorf("--from %s: bad selector: %v", ref, err)
	}
	selector, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil || selector.Empty() {
		selector = labels.Nothing()
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil, Explain(err, "list pods of "+ref+" in namespace "+ns)
	}
	if len(pods.Items) == 0 {
		return nil, fmt.Errorf("--from %s: it has no pods in namespace %s; use --from-namespace alone to look up as any client of that namespace", ref, ns)
	}
	for i := range pods.Items {
		if pods.Items[i].Status.Phase == corev1.PodRunning {
			return &pods.Items[i], nil
		}
	}
	return &pods.Items[0], nil
}
