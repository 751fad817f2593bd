package policy

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
)

var linkerdVersionRe = regexp.MustCompile(`(?m)^\s*linkerdVersion:\s*"?([A-Za-z0-9._+-]+)"?\s*$`)

// ReadControlPlane reads the control plane's release: linkerdVersion in
// the linkerd-config ConfigMap's values, else the tag of the destination
// pod's image. Version is "" when neither can be read.
func ReadControlPlane(ctx context.Context, cs kubernetes.Interface, ns string) dpolicy.ControlPlane {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "linkerd-config", metav1.GetOptions{}); err == nil {
		for _, k := range []string{"values", "linkerd-crds-values"} {
			if m := linkerdVersionRe.FindStringSubmatch(cm.Data[k]); m != nil {
				return dpolicy.ControlPlane{Version: m[1], From: fmt.Sprintf("ConfigMap %s/linkerd-config", ns)}
			}
		}
	}
	pod, err := kube.FindDestinationPod(ctx, cs, ns)
	if err != nil {
		return dpolicy.ControlPlane{}
	}
	for _, c := range pod.Spec.Containers {
		if c.Name != "destination" && c.Name != "policy" {
			continue
		}
		img := c.Image
		if i := strings.LastIndex(img, "@"); i >= 0 {
			img = img[:i]
		}
		if i := strings.LastIndex(img, ":"); i >= 0 && !strings.Contains(img[i:], "/") {
			return dpolicy.ControlPlane{Version: img[i+1:], From: fmt.Sprintf("the image of pod %s/%s", pod.Namespace, pod.Name)}
		}
	}
	return dpolicy.ControlPlane{}
}
