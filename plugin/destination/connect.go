package destination

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
)

// Connect dials addr when set; otherwise it port-forwards through the API
// server to port 8086 of a Running linkerd-destination pod in linkerdNS.
func Connect(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, linkerdNS, addr string, timeout time.Duration) (*Client, error) {
	if addr != "" {
		return Dial(ctx, addr, timeout)
	}
	pod, err := kube.FindDestinationPod(ctx, cs, linkerdNS)
	if err != nil {
		return nil, err
	}
	local, stop, err := kube.PortForward(ctx, cfg, pod, kube.DestinationPort, timeout)
	if err != nil {
		return nil, err
	}
	c, err := Dial(ctx, local, timeout)
	if err != nil {
		stop()
		return nil, fmt.Errorf("destination pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
	c.OnClose(stop)
	return c, nil
}
