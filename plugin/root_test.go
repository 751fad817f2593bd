package plugin

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestEveryCommandHasExamples: --help of every command shows examples and
// is spelled the way users type it, `kubectl profiles ...`.
func TestEveryCommandHasExamples(t *testing.T) {
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	root := NewRootCmd(streams)
	var walk func(c *cobra.Command)
	seen := 0
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || strings.HasPrefix(sub.Name(), "__") {
				continue
			}
			seen++
			if strings.TrimSpace(sub.Example) == "" {
				t.Errorf("%s has no examples", sub.CommandPath())
			}
			if !strings.Contains(sub.Example, "kubectl profiles "+sub.Name()) {
				t.Errorf("%s: examples do not show `kubectl profiles %s`", sub.CommandPath(), sub.Name())
			}
			walk(sub)
		}
	}
	walk(root)
	if seen < 4 {
		t.Fatalf("only %d commands found", seen)
	}
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"get", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Usage:\n  kubectl profiles get") {
		t.Errorf("help is not spelled `kubectl profiles get`:\n%s", out.String())
	}
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	if code := Run([]string{"frobnicate"}, streams); code != 2 {
		t.Errorf("exit = %d, want 2 (usage)", code)
	}
	if out.Len() != 0 || !strings.HasPrefix(errOut.String(), `error: unknown command "frobnicate"`) || strings.Count(errOut.String(), "\n") != 1 {
		t.Errorf("stdout %q stderr %q", out.String(), errOut.String())
	}
}

// TestHungAPIServerTimesOut: an API server that accepts connections but
// never answers must end in a one-line error, not a hang.
func TestHungAPIServerTimesOut(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, say nothing
		}
	}()
	kubeconfig := filepath.Join(t.TempDir(), "config")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://%s"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: books}}]
current-context: c
`, lis.Addr())
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	start := time.Now()
	code := Run([]string{"--kubeconfig", kubeconfig, "--request-timeout", "1s", "get", "svc/webapp", "--destination-addr", "127.0.0.1:1"}, streams)
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("took %s", took)
	}
	if code != 1 || out.Len() != 0 || !strings.Contains(errOut.String(), "did not answer in time (--request-timeout") || strings.Count(errOut.String(), "\n") != 1 {
		t.Errorf("exit %d stdout %q stderr %q", code, out.String(), errOut.String())
	}
}

// Error lines quote flag values and paths as given: they are escaped, so a
// value cannot drive the terminal (it used to be echoed raw).
func TestErrorLineIsEscaped(t *testing.T) {
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	code := Run([]string{"check", "-f", "\x1b[31mnope\u009b.yaml"}, streams)
	if code != 1 || out.Len() != 0 {
		t.Fatalf("exit %d stdout %q", code, out.String())
	}
	got := errOut.String()
	if strings.ContainsAny(got, "\x1b\u009b") || !strings.Contains(got, `\x1b[31mnope\u009b.yaml`) || strings.Count(got, "\n") != 1 {
		t.Errorf("stderr %q", got)
	}
}

// Bad flag values are usage errors (exit 2), found before anything runs:
// --from with a kind that has no pods, --max-rps NaN, a negative or
// unparsable --request-timeout (a negative one used to mean no timeout).
func TestBadFlagValuesAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"get", "svc/x", "--from", "bogus/x"},
		{"get", "svc/x", "--from", "deploy"},
		{"get", "svc/x", "--from", "ns/default"},
		{"tap", "deploy/x", "--max-rps", "NaN"},
		{"tap", "deploy/x", "--max-rps", "+Inf"},
		{"unmatched", "deploy/x", "--max-rps", "NaN"},
		{"get", "svc/x", "--request-timeout", "-5s"},
		{"check", "-f", "x.yaml", "--request-timeout", "soon"},
	} {
		streams, _, out, errOut := genericiooptions.NewTestIOStreams()
		if code := Run(args, streams); code != 2 || out.Len() != 0 || strings.Count(errOut.String(), "\n") != 1 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out.String(), errOut.String())
		}
	}
	streams, _, _, errOut := genericiooptions.NewTestIOStreams()
	if code := Run([]string{"version", "--request-timeout", "0"}, streams); code != 0 {
		t.Errorf("--request-timeout 0 (kubectl's no timeout): exit %d, %s", code, errOut.String())
	}
}
