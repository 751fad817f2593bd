package get_test

import (
	"context"
	"encoding/json"
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

// TestPartialRBACIsNeverAnAllClear: a user who may read ServiceProfiles
// only in books must not be told there are none elsewhere.
func TestPartialRBACIsNeverAnAllClear(t *testing.T) {
	setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rbac := `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: services-reader}
rules: [{apiGroups: [""], resources: [services], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: services-reader-carol}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: services-reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: carol}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: sp-reader, namespace: books}
rules: [{apiGroups: [linkerd.io], resources: [serviceprofiles], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: sp-reader-carol, namespace: books}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: sp-reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: carol}]
`
	if err := env.Apply(ctx, rbac); err != nil {
		t.Fatal(err)
	}
	carol, err := env.KubeconfigFor("carol")
	if err != nil {
		t.Fatal(err)
	}
	as := func(args ...string) (string, string, int) {
		return run(t, append([]string{"--kubeconfig", carol, "get", "--destination-addr", dest.Addr(), "--timeout", "1500ms"}, args...)...)
	}
	var out, errOut string
	var code int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		out, errOut, code = as("svc/webapp", "-n", "books", "--port", "7000", "-o", "json")
		if code == 0 || time.Now().After(deadline) {
			break
		}
	}
	if code != 0 {
		t.Fatalf("get as carol: exit %d %s", code, errOut)
	}
	// One line for the unseen namespaces, one for the routes carol cannot
	// read on the policy path.
	if !strings.Contains(errOut, "warning: cannot list serviceprofiles.linkerd.io in all namespaces") || strings.Count(errOut, "\n") != 2 {
		t.Errorf("no single warning about the unseen namespaces: %q", errOut)
	}
	if !strings.Contains(errOut, "warning: policy path: forbidden: cannot list grpcroutes.gateway.networking.k8s.io") {
		t.Errorf("no warning about the unreadable routes: %q", errOut)
	}
	if strings.Contains(out, `"foobar"`) {
		t.Errorf("carol cannot see foobar's override, yet it is reported")
	}
	// The client namespace's profiles are unreadable: which profile its
	// clients get is unknown, and what is served is not blamed on a stale
	// destination.
	out, errOut, code = as("svc/webapp", "-n", "books", "--port", "7000", "--from-namespace", "foobar", "-o", "json")
	if code != 0 {
		t.Fatalf("--from-namespace foobar as carol: exit %d %s", code, errOut)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	p := r.Ports[0]
	if p.InEffect.Source != "unknown" || p.InEffect.Namespace != "foobar" || has(codes(p.Findings), "served-differs") || len(p.Drift) != 0 {
		t.Errorf("unreadable client namespace: inEffect %+v drift %+v findings %v", p.InEffect, p.Drift, codes(p.Findings))
	}
	if !strings.Contains(string(p.Served), "foobar view") {
		t.Errorf("what is served must still be shown: %s", p.Served)
	}
	table, _, _ := as("svc/webapp", "-n", "books", "--port", "7000", "--from-namespace", "foobar")
	if !strings.Contains(table, "IN EFFECT     unknown: ServiceProfiles in namespace foobar cannot be read (RBAC)") {
		t.Errorf("table does not say the profile in effect is unknown:\n%s", table)
	}
	out, errOut, code = as("-A")
	if code != 1 || out != "" || !strings.Contains(errOut, "forbidden: cannot list serviceprofiles.linkerd.io in all namespaces") {
		t.Errorf("get -A with partial RBAC: exit %d stdout %q stderr %q", code, out, errOut)
	}
}
