package get_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-profiles/kubectl-profiles/internal/metricstest"
)

// TestControlPlaneThroughPodProxy reads the destination's metrics the way
// get does in a cluster: every Running linkerd-destination pod (by label)
// through the API server's pod proxy on port 9996. Two replicas serve the
// test destination's metrics from a network namespace (the API server
// refuses loopback pod IPs), so every count is summed twice; a third
// replica whose port is closed is named in one warning line and the
// report is still printed.
func TestControlPlaneThroughPodProxy(t *testing.T) {
	setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	net := metricstest.NewNetns(t)
	const ns = "cp-linkerd"
	applyT(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n")
	cs := env.Clientset.CoreV1().Pods(ns)
	for i, serve := range []bool{true, true, false} {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("linkerd-destination-5f7d9c-%d", i), Namespace: ns,
				Labels: map[string]string{"linkerd.io/control-plane-component": "destination"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{
				{Name: "destination", Image: "cr.l5d.io/linkerd/controller:edge", Ports: []corev1.ContainerPort{{Name: "dest-admin", ContainerPort: 9996}}},
				{Name: "linkerd-proxy", Image: "cr.l5d.io/linkerd/proxy:edge", Ports: []corev1.ContainerPort{{Name: "linkerd-admin", ContainerPort: 4191}}},
			}},
		}
		created, err := cs.Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		addr := net.NewAddr(t)
		created.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: addr, PodIPs: []corev1.PodIP{{IP: addr}}}
		if _, err := cs.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if !serve {
			continue
		}
		l, err := net.Listen(addr + ":9996")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { dest.WriteMetrics(w) }), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(l) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
	proxyFrom(t, "webapp.books.svc.cluster.local:7001", "foobar")

	out, errOut, code := get(t, "svc/webapp", "-n", "books", "--port", "7001", "--control-plane", "always", "--linkerd-namespace", ns, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r cpReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	cp := r.Ports[0].ControlPlane
	if cp == nil || cp.Replicas != 2 {
		t.Fatalf("control plane = %+v (stderr %s)", cp, errOut)
	}
	per := map[string]float64{}
	for _, s := range cp.Subscribers {
		per[s.Namespace] = s.Count
	}
	if per["foobar"] != 2 { // one stream, seen by both replicas' (identical) metrics
		t.Errorf("foobar subscribers summed over 2 replicas = %v, want 2", per["foobar"])
	}
	if n := strings.Count(errOut, "destination replica(s) not read"); n != 1 || !strings.Contains(errOut, "linkerd-destination-5f7d9c-2") {
		t.Errorf("want one line naming the unreadable replica: %s", errOut)
	}
	t.Logf("stderr:\n%s", errOut)
}
