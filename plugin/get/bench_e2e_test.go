package get_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/internal/policytest"
)

// BenchmarkAudit1000 audits 1000 Services (800 with a profile, 10 of them
// (1%) untranslatable so the destination stays silent, 200 with a
// client-side override) in one in-process run: the whole `get -n bench
// --all-services -o json` path, list calls, 1200 GetProfile lookups over one
// connection, report building and JSON output.
func BenchmarkAudit1000(b *testing.B) {
	if env == nil {
		b.Skip("needs the test environment (not with -short)")
	}
	setup(b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var sb strings.Builder
	sb.WriteString("apiVersion: v1\nkind: Namespace\nmetadata: {name: bench}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: bench-clients}\n")
	for i := 0; i < 1000; i++ {
		name := fmt.Sprintf("svc-%04d", i)
		fqdn := name + ".bench.svc.cluster.local"
		fmt.Fprintf(&sb, "---\napiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: bench}\nspec:\n  ports: [{port: 80}]\n", name)
		switch {
		case i%100 == 3:
			// 1% the destination cannot translate: it stays silent on them.
			fmt.Fprintf(&sb, "---\napiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: %s, namespace: bench}\nspec: {routes: [{name: r, condition: {pathRegex: /r}}], retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 1, ttl: soon}}\n", fqdn)
		case i%5 != 0:
			fmt.Fprintf(&sb, "---\napiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: %s, namespace: bench}\nspec: {routes: [{name: r, condition: {pathRegex: /r}}]}\n", fqdn)
		}
		if i%5 == 1 {
			fmt.Fprintf(&sb, "---\napiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: %s, namespace: bench-clients}\nspec: {routes: [{name: c, condition: {pathRegex: /c}}]}\n", fqdn)
		}
	}
	if err := env.Apply(ctx, sb.String()); err != nil {
		b.Fatal(err)
	}
	// The policy controller answers from memory, like the real one (its
	// index): the stand-in reads the API server once per run.
	fast, err := policytest.Start(env.Clientset, env.Dynamic, "127.0.0.1:0", policytest.Options{Reuse: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	defer fast.Stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, errOut, code := run(b, "get", "--destination-addr", dest.Addr(), "--policy-addr", fast.Addr(), "-n", "bench", "--all-services", "-o", "json")
		if code != 0 || len(out) == 0 {
			b.Fatalf("exit %d: %s", code, errOut)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/audit")
}

// BenchmarkGetProcess runs the built binary for one service port, as a whole
// process on loopback (start-up, kubeconfig, discovery, list calls, dial,
// GetProfile, rendering).
func BenchmarkGetProcess(b *testing.B) {
	if env == nil {
		b.Skip("needs the test environment (not with -short)")
	}
	setup(b)
	dir := b.TempDir()
	bin := filepath.Join(dir, "kubectl-profiles")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/kubectl-profiles").CombinedOutput(); err != nil {
		b.Fatalf("build: %v %s", err, out)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "--kubeconfig", env.Kubeconfig, "get", "svc/webapp", "-n", "books", "--port", "7000", "--destination-addr", dest.Addr())
		cmd.Env = append(os.Environ(), "HOME="+dir) // fresh discovery cache: the worst case
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/get")
}
