package kube

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// DestinationDeployment and DestinationPort locate the destination service.
const (
	DestinationDeployment = "linkerd-destination"
	DestinationPort       = 8086
)

// FindDestinationPod picks the first Running pod owned, through its
// ReplicaSet, by the linkerd-destination Deployment, as `linkerd
// diagnostics` does (by owner, not by label).
func FindDestinationPod(ctx context.Context, cs kubernetes.Interface, ns string) (*corev1.Pod, error) {
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, Explain(err, "list pods in namespace "+ns+" to find the Linkerd destination")
	}
	owned := map[string]bool{} // ReplicaSet name -> owned by the Deployment
	found := 0
	for i := range pods.Items {
		p := &pods.Items[i]
		rs := replicaSetOf(p, DestinationDeployment)
		if rs == "" {
			continue
		}
		ok, seen := owned[rs]
		if !seen {
			ok = ownedByDeployment(ctx, cs, ns, rs, DestinationDeployment)
			owned[rs] = ok
		}
		if !ok {
			continue
		}
		found++
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			return p, nil
		}
	}
	if found > 0 {
		return nil, fmt.Errorf("no Running %s pod in namespace %s (%d found, none running): check `kubectl -n %s get pods`", DestinationDeployment, ns, found, ns)
	}
	return nil, fmt.Errorf("no %s pod in namespace %s: is Linkerd installed? (set --linkerd-namespace or LINKERD_NAMESPACE if it lives elsewhere, or pass --destination-addr)", DestinationDeployment, ns)
}

// replicaSetOf returns the name of p's owning ReplicaSet when it looks like
// one of deployment's (<deployment>-<hash>), or "".
func replicaSetOf(p *corev1.Pod, deployment string) string {
	for _, o := range p.OwnerReferences {
		if o.Kind != "ReplicaSet" || !strings.HasPrefix(o.Name, deployment+"-") {
			continue
		}
		if hash := strings.TrimPrefix(o.Name, deployment+"-"); hash != "" && !strings.Contains(hash, "-") {
			return o.Name
		}
	}
	return ""
}

// ownedByDeployment checks the ReplicaSet's own owner. When ReplicaSets
// cannot be read (RBAC), the name is taken as evidence enough.
func ownedByDeployment(ctx context.Context, cs kubernetes.Interface, ns, rs, deployment string) bool {
	obj, err := cs.AppsV1().ReplicaSets(ns).Get(ctx, rs, metav1.GetOptions{})
	if err != nil {
		return kerrors.IsForbidden(err)
	}
	for _, o := range obj.OwnerReferences {
		if o.Kind == "Deployment" && o.Name == deployment {
			return true
		}
	}
	return false
}

// PortForward forwards a random local port to pod:port through the API
// server. It returns the local address and a stop function.
func PortForward(ctx context.Context, cfg *rest.Config, pod *corev1.Pod, port int, timeout time.Duration) (string, func(), error) {
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return "", nil, fmt.Errorf("cannot port-forward: %v", err)
	}
	u, err := url.Parse(cfg.Host)
	if err != nil {
		return "", nil, fmt.Errorf("cannot port-forward: bad API server URL %q", cfg.Host)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + fmt.Sprintf("/api/v1/namespaces/%s/pods/%s/portforward", pod.Namespace, pod.Name)
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)

	stop, ready := make(chan struct{}), make(chan struct{})
	// Errors after "ready" surface to the gRPC client as a broken
	// connection, which it reports; the forwarder's own log adds nothing.
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", port)}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		return "", nil, fmt.Errorf("cannot port-forward to %s/%s: %v", pod.Namespace, pod.Name, err)
	}
	done := make(chan error, 1)
	go func() { done <- fw.ForwardPorts() }()
	stopOnce := func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
	}
	select {
	case <-ready:
	case err := <-done:
		return "", nil, explainForward(err, pod, port)
	case <-time.After(timeout):
		stopOnce()
		return "", nil, fmt.Errorf("port-forward to %s/%s:%d not ready after %s: check the API server and the pod", pod.Namespace, pod.Name, port, timeout)
	case <-ctx.Done():
		stopOnce()
		return "", nil, ctx.Err()
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		stopOnce()
		return "", nil, fmt.Errorf("port-forward to %s/%s: no local port", pod.Namespace, pod.Name)
	}
	return fmt.Sprintf("127.0.0.1:%d", ports[0].Local), stopOnce, nil
}

func explainForward(err error, pod *corev1.Pod, port int) error {
	msg := fmt.Sprint(err)
	if strings.Contains(msg, "forbidden") || strings.Contains(msg, "Forbidden") {
		return fmt.Errorf("forbidden: cannot create pods/portforward for %s/%s (RBAC); grant it (krew/rbac.yaml) or pass --destination-addr", pod.Namespace, pod.Name)
	}
	return fmt.Errorf("port-forward to %s/%s:%d failed: %v", pod.Namespace, pod.Name, port, err)
}
