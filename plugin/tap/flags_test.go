package tap_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/internal/clitest"
)

// Flags that have no effect with --file (they act on a live tap) or with
// --profile (they act on the destination service) are usage errors, not
// silently ignored. --to and the request filters do filter a capture.
func TestFlagsWithoutEffectAreRefused(t *testing.T) {
	for _, cmd := range []string{"tap", "unmatched"} {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"deploy/webapp"}, `--file replays a saved capture: drop the target "deploy/webapp"`},
			{[]string{"-l", "app=web"}, "--selector has no effect with --file"},
			{[]string{"--max-rps", "5"}, "--max-rps has no effect with --file"},
			{[]string{"--duration", "10s"}, "--duration has no effect with --file"},
			{[]string{"--idle-timeout", "1s"}, "--idle-timeout has no effect with --file"},
			{[]string{"--timeout", "1s"}, "--timeout has no effect with --profile"},
			{[]string{"--destination-addr", "127.0.0.1:8086"}, "--destination-addr has no effect with --profile"},
			{[]string{"--concurrency", "4"}, "--concurrency has no effect with --profile"},
		} {
			args := append([]string{cmd, "--file", capture, "--profile", spFile, "-n", "booksapp"}, tt.args...)
			out, errOut, code := run(t, "", args...)
			if code != 2 || out != "" || !strings.HasPrefix(errOut, "error: "+tt.want) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("%v: exit %d, want 2 and %q\n%s%s", args, code, tt.want, out, errOut)
			}
		}
		// Kept: --to (and --to-namespace) filter a capture locally.
		if _, errOut, code := run(t, "", cmd, "--file", capture, "--profile", spFile, "-n", "booksapp", "--to", "svc/books", "--to-namespace", "booksapp"); code != 0 {
			t.Errorf("%s --file --to: exit %d: %s", cmd, code, errOut)
		}
		for _, two := range [][]string{{"--file", "-", "--profile", "-"}, {"--file", "-", "--route", "-"}, {"--file", "x", "--profile", "-", "--route", "-"}} {
			if _, errOut, code := run(t, "", append([]string{cmd}, two...)...); code != 2 || !strings.Contains(errOut, "only one of --file, --profile and --route can read stdin") {
				t.Errorf("%s %v: exit %d: %s", cmd, two, code, errOut)
			}
		}
		// --route stands for the policy controller: --policy-addr would be ignored.
		if _, errOut, code := run(t, "", cmd, "--file", capture, "--route", "testdata/policy/routes.yaml", "--policy-addr", "127.0.0.1:8090"); code != 2 ||
			!strings.Contains(errOut, "--policy-addr has no effect with --profile or --route") {
			t.Errorf("%s --route --policy-addr: exit %d: %s", cmd, code, errOut)
		}
	}
}

// fakeAPIServer serves just enough for the port-forward to the destination
// to start (the linkerd-destination pod and its ReplicaSet), then holds
// the port-forward request without ever answering it, as an API server
// whose kubelet does not answer.
func fakeAPIServer(t *testing.T) (kubeconfig string) {
	t.Helper()
	release := make(chan struct{})
	var mu sync.Mutex
	forwards := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj := func(v string) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, v)
		}
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/v1/namespaces/linkerd/pods":
			obj(`{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"linkerd-destination-5d4c7b9f8-abcde","namespace":"linkerd",
				"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"linkerd-destination-5d4c7b9f8","uid":"u1"}]},"status":{"phase":"Running"}}]}`)
		case r.Method == http.MethodGet && r.URL.Path == "/apis/apps/v1/namespaces/linkerd/replicasets/linkerd-destination-5d4c7b9f8":
			obj(`{"kind":"ReplicaSet","apiVersion":"apps/v1","metadata":{"name":"linkerd-destination-5d4c7b9f8","namespace":"linkerd",
				"ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"linkerd-destination","uid":"u2"}]}}`)
		case strings.HasSuffix(r.URL.Path, "/portforward"):
			mu.Lock()
			forwards++
			mu.Unlock()
			select {
			case <-r.Context().Done():
			case <-release:
			}
		default:
			w.WriteHeader(http.StatusNotFound)
			obj(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
		}
	}))
	t.Cleanup(func() {
		close(release)
		srv.Close()
		mu.Lock()
		defer mu.Unlock()
		if forwards == 0 {
			t.Error("the port-forward was never asked for: the test did not stop the run during it")
		}
	})
	cfg := map[string]any{
		"apiVersion": "v1", "kind": "Config", "current-context": "fake",
		"clusters": []any{map[string]any{"name": "fake", "cluster": map[string]any{"server": srv.URL}}},
		"contexts": []any{map[string]any{"name": "fake", "context": map[string]any{"cluster": "fake", "user": "u", "namespace": "booksapp"}}},
		"users":    []any{map[string]any{"name": "u", "user": map[string]any{"token": "t"}}},
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// --duration running out while the port-forward to the destination is
// still starting ends the run quietly with exit 0, as the README promises
// (it printed "error: context deadline exceeded ..." and exited 1). The
// port-forward never becomes ready, and --timeout is a minute, so only the
// duration can end these runs.
func TestDurationDuringPortForwardEndsQuietly(t *testing.T) {
	kubeconfig := fakeAPIServer(t)
	for _, cmd := range []string{"tap", "unmatched"} {
		out, errOut, code := clitest.Run("", cmd, "deploy/webapp", "--kubeconfig", kubeconfig, "--duration", "300ms", "--timeout", "1m")
		if code != 0 || out != "" || errOut != "--duration ended before the tap started: nothing was tapped\n" {
			t.Errorf("%s: exit %d, want 0 and one note\nstdout %q\nstderr %q", cmd, code, out, errOut)
		}
	}
}
