package get_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestDocumentedRBACIsEnough runs get as a user who holds only the
// read-only ClusterRole shipped in krew/rbac.yaml: it must produce the same
// report as the admin. That also proves get never writes.
func TestDocumentedRBACIsEnough(t *testing.T) {
	setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rbac, err := os.ReadFile("../../krew/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bind := `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kubectl-profiles-reader-bob}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubectl-profiles-reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}]
`
	if err := env.Apply(ctx, string(rbac), bind); err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := env.KubeconfigFor("bob")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"get", "--destination-addr", dest.Addr(), "--timeout", "1500ms", "svc/webapp", "-n", "books",
		"--from", "deploy/traffic", "--from-namespace", "foobar", "-o", "json"}
	admin, errOut, code := run(t, args...)
	if code != 0 {
		t.Fatalf("admin: exit %d %s", code, errOut)
	}
	var asBob string
	// RBAC changes take a moment to reach the authorizer's cache.
	for deadline := time.Now().Add(10 * time.Second); ; {
		asBob, errOut, code = run(t, append([]string{"--kubeconfig", kubeconfig}, args...)...)
		if code == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code != 0 {
		t.Fatalf("bob with krew/rbac.yaml: exit %d: %s", code, errOut)
	}
	if asBob != admin {
		t.Errorf("bob's report differs from the admin's:\n%s\n---\n%s", asBob, admin)
	}
}

func TestForbiddenIsOneLine(t *testing.T) {
	setup(t)
	kubeconfig, err := env.KubeconfigFor("alice")
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, "--kubeconfig", kubeconfig, "get", "--destination-addr", dest.Addr(), "svc/webapp", "-n", "books")
	if code != 1 || out != "" {
		t.Fatalf("exit %d stdout %q", code, out)
	}
	if !strings.HasPrefix(errOut, "error: forbidden: cannot get") || !strings.Contains(errOut, `User "alice" cannot get resource "services"`) ||
		strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("stderr = %q", errOut)
	}
}
