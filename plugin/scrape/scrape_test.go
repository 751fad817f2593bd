package scrape

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestAdminPortAndPrecheck(t *testing.T) {
	port := func(name string, n int32) []corev1.ContainerPort {
		return []corev1.ContainerPort{{Name: name, ContainerPort: n}}
	}
	running := corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1"}
	now := metav1.Now()
	tests := []struct {
		name string
		pod  corev1.Pod
		port int
		err  string
	}{
		{"sidecar container", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}, {Name: "linkerd-proxy", Ports: port("linkerd-admin", 4191)}}}, Status: running}, 4191, ""},
		{"native sidecar (init container)", corev1.Pod{Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "linkerd-proxy", Ports: port("linkerd-admin", 4999)}}}, Status: running}, 4999, ""},
		{"name suffix, as linkerd diagnostics matches it", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Ports: port("x-linkerd-admin", 5000)}}}, Status: running}, 5000, ""},
		{"unmeshed", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Ports: port("http", 80)}}}, Status: running}, 0, "not meshed"},
		{"pending", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Ports: port("linkerd-admin", 4191)}}}, Status: corev1.PodStatus{Phase: corev1.PodPending}}, 4191, "not running (phase Pending)"},
		{"no IP", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Ports: port("linkerd-admin", 4191)}}}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}, 4191, "no pod IP"},
		{"terminating", corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Ports: port("linkerd-admin", 4191)}}}, Status: running}, 4191, "terminating"},
	}
	for _, tc := range tests {
		p, _ := AdminPort(&tc.pod)
		err := Precheck(&tc.pod)
		if p != tc.port || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: port %d err %v; want %d %q", tc.name, p, err, tc.port, tc.err)
		}
	}
}
