package completion

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

// newRoot builds a root like plugin.NewRootCmd does: kubectl flags on the
// root, a `get` taking services, a `tap` taking workloads, and completion.
func newRoot(t *testing.T) (*cobra.Command, *bytes.Buffer) {
	t.Helper()
	streams, _, out, _ := genericiooptions.NewTestIOStreams()
	flags := genericclioptions.NewConfigFlags(false)
	root := &cobra.Command{Use: "profiles", SilenceUsage: true, SilenceErrors: true}
	flags.AddFlags(root.PersistentFlags())
	RegisterConfigFlags(root, flags)
	noop := func(*cobra.Command, []string) error { return nil }
	root.AddCommand(
		&cobra.Command{Use: "get", RunE: noop, ValidArgsFunction: CompleteResources(flags, Services...)},
		&cobra.Command{Use: "tap", RunE: noop, ValidArgsFunction: CompleteResources(flags, Workloads...)},
		NewCmd(streams),
	)
	root.SetOut(out)
	root.SetErr(out)
	return root, out
}

func writeKubeconfig(t *testing.T, server string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["fake"] = &clientcmdapi.Cluster{Server: server}
	cfg.AuthInfos["me"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["fake"] = &clientcmdapi.Context{Cluster: "fake", AuthInfo: "me", Namespace: "shop"}
	cfg.Contexts["staging"] = &clientcmdapi.Context{Cluster: "fake", AuthInfo: "me"}
	cfg.CurrentContext = "fake"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// complete runs cobra's hidden __complete command, exactly what kubectl and
// the shell scripts run, and returns its output lines.
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	root, out := newRoot(t)
	root.SetArgs(append([]string{"__complete"}, args...))
	if err := root.Execute(); err != nil {
		t.Fatalf("__complete %q: %v", args, err)
	}
	return strings.Split(strings.TrimSpace(out.String()), "\n")
}

func TestCompleteThroughCobra(t *testing.T) {
	srv, _ := fakeAPIServer(t, map[string][]string{
		"/api/v1/namespaces/shop/services":          {"webapp", "books"},
		"/api/v1/namespaces/other/services":         {"elsewhere"},
		"/apis/apps/v1/namespaces/other/daemonsets": {"agent"},
		"/api/v1/namespaces":                        {"shop", "other"},
	})
	kc := writeKubeconfig(t, srv.URL)
	tests := []struct {
		args []string
		want string
	}{
		// get takes svc/NAME: a bare name would be read as a resource type.
		{[]string{"--kubeconfig", kc, "get", ""}, "svc/books\nsvc/webapp\n:4"},
		{[]string{"--kubeconfig", kc, "get", "web"}, ":4"},
		{[]string{"--kubeconfig", kc, "get", "svc/w"}, "svc/webapp\n:4"},
		{[]string{"--kubeconfig", kc, "get", "service", ""}, "books\nwebapp\n:4"},
		{[]string{"--kubeconfig", kc, "-n", "other", "get", ""}, "svc/elsewhere\n:4"},
		{[]string{"--kubeconfig", kc, "--namespace=other", "tap", "ds/"}, "ds/agent\n:4"},
		{[]string{"--kubeconfig", kc, "get", "-n", ""}, "other\nshop\n:4"},
		{[]string{"--kubeconfig", kc, "get", "--context", "st"}, "staging\n:4"},
		{[]string{"completion", ""}, "bash\nzsh\nfish\npowershell\nhelper\n:4"},
	}
	for _, tt := range tests {
		got := complete(t, tt.args...)
		// The last line is a human note on stderr-like output; drop it.
		if n := len(got); n > 0 && strings.HasPrefix(got[n-1], "Completion ended") {
			got = got[:n-1]
		}
		if g := strings.Join(got, "\n"); g != tt.want {
			t.Errorf("__complete %q:\n got %q\nwant %q", tt.args, g, tt.want)
		}
	}
}

func TestWriteScripts(t *testing.T) {
	root, _ := newRoot(t)
	for shell, marker := range map[string]string{
		"bash":       "complete -o default -F __start_kubectl-profiles kubectl-profiles",
		"zsh":        "#compdef kubectl-profiles",
		"fish":       "complete -c kubectl-profiles",
		"powershell": "Register-ArgumentCompleter -CommandName 'kubectl-profiles'",
		"helper":     HelperScript,
	} {
		var b bytes.Buffer
		if err := Write(&b, root, shell, true); err != nil {
			t.Fatalf("%s: %v", shell, err)
		}
		if !strings.Contains(b.String(), marker) {
			t.Errorf("%s script lacks %q", shell, marker)
		}
	}
	if root.Use != "profiles" {
		t.Errorf("Write left root.Use = %q", root.Use)
	}
	if err := Write(&bytes.Buffer{}, root, "tcsh", true); err == nil {
		t.Error("unknown shell: want an error")
	}
}

func TestCmdRejectsBadArgs(t *testing.T) {
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}, {"completion", "bash", "zsh"}} {
		root, _ := newRoot(t)
		root.SetArgs(args)
		if err := root.Execute(); cli.CodeOf(err) != cli.ExitUsage {
			t.Errorf("%q: got %v, want a usage error", args, err)
		}
	}
}

// TestBashScriptCompletes sources the generated bash script in a real bash
// and asks it to complete, with the binary replaced by a stub that prints
// what cobra's __complete would.
func TestBashScriptCompletes(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	root, _ := newRoot(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "completion.bash")
	var b bytes.Buffer
	if err := Write(&b, root, "bash", false); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// __complete or __completeNoDesc, depending on the descriptions flag.
	stub := "#!/bin/sh\ncase \"$1\" in __complete*) printf 'get\\ntap\\nversion\\n:4\\n';; esac\n"
	if err := os.WriteFile(filepath.Join(dir, "kubectl-profiles"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	// Stand-ins: bash-completion's word splitter, and compopt, which only
	// works inside a real completion.
	prog := `compopt() { :; }
_get_comp_words_by_ref() { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
source "$1"
COMP_WORDS=(kubectl-profiles t); COMP_CWORD=1; COMP_LINE="kubectl-profiles t"; COMP_POINT=${#COMP_LINE}
__start_kubectl-profiles
printf '%s\n' "${COMPREPLY[@]}"`
	cmd := exec.Command(bash, "-c", prog, "bash", script)
	cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, got)
	}
	if strings.TrimSpace(string(got)) != "tap" {
		t.Errorf("bash completed %q, want tap", got)
	}
}

func TestHelperFileMatchesScript(t *testing.T) {
	// The release archive ships krew/kubectl_complete-profiles; keep it equal
	// to what `completion helper` prints.
	path := filepath.Join("..", "..", "krew", HelperName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != HelperScript {
		t.Errorf("%s = %q, want %q", path, b, HelperScript)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&0o111 == 0 {
		t.Errorf("%s is not executable", path)
	}
}
