package main_test

// These tests build the real binary and run it the way users do: as
// `kubectl profiles ...`, found by kubectl's plugin discovery on PATH,
// against a real kube-apiserver and the test destination service.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/internal/desttest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/policytest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	os.Exit(testenv.Run(m, testenv.Options{}, &env))
}

const fixtures = `
apiVersion: v1
kind: Namespace
metadata: {name: books}
---
apiVersion: v1
kind: Service
metadata: {name: webapp, namespace: books}
spec:
  ports: [{name: http, port: 7000}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: webapp.books.svc.cluster.local, namespace: books}
spec:
  routes:
  - name: GET /books
    condition: {method: GET, pathRegex: /books}
    timeout: 2s
`

// buildPlugin compiles kubectl-profiles into a fresh directory for PATH.
func buildPlugin(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "kubectl-profiles"), ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

func kubectl(t *testing.T, pathDir string, args ...string) (string, string, int) {
	t.Helper()
	bin, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed: plugin discovery cannot be exercised")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "PATH="+pathDir+string(os.PathListSeparator)+os.Getenv("PATH"), "KUBECONFIG="+env.Kubeconfig)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

func TestKubectlPluginDiscovery(t *testing.T) {
	testenv.SkipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := env.Apply(ctx, fixtures); err != nil {
		t.Fatal(err)
	}
	dest, err := desttest.Start(ctx, env.Clientset, env.Dynamic, "127.0.0.1:0", desttest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dest.Stop()
	pol, err := policytest.Start(env.Clientset, env.Dynamic, "127.0.0.1:0", policytest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pol.Stop()
	dir := buildPlugin(t)

	out, errOut, code := kubectl(t, dir, "profiles", "get", "svc/webapp", "-n", "books", "--destination-addr", dest.Addr(), "--policy-addr", pol.Addr(), "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct {
		FQDN  string
		Ports []struct {
			InEffect struct{ Source string }
			Lookup   struct{ Result string }
			Drift    []json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.FQDN != "webapp.books.svc.cluster.local" || len(r.Ports) != 1 || r.Ports[0].InEffect.Source != "service-namespace" ||
		r.Ports[0].Lookup.Result != "served" || len(r.Ports[0].Drift) != 0 {
		t.Errorf("unexpected report: %s", out)
	}

	help, _, code := kubectl(t, dir, "profiles", "get", "--help")
	if code != 0 || !strings.Contains(help, "kubectl profiles get svc/webapp") {
		t.Errorf("help does not show `kubectl profiles`: %s", help)
	}

	// A failure is one line on stderr and a non-zero status, never a stack.
	out, errOut, code = kubectl(t, dir, "profiles", "get", "svc/missing", "-n", "books", "--destination-addr", dest.Addr())
	if code != 1 || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, `"missing" not found`) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
