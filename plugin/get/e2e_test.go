package get_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/internal/clitest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/desttest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/policytest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/testenv"
)

var (
	env  *testenv.Env
	dest *desttest.Server
	// pol is the test policy controller: every get run asks it (run adds
	// --policy-addr unless the test passes its own).
	pol *policytest.Server
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Run(m, testenv.Options{ExtraCRDs: policytest.CRDs()}, &env))
}

// setup applies the fixtures once and starts the test destination server.
func setup(t testing.TB) {
	t.Helper()
	testenv.SkipIfShort(t)
	if dest != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := env.Apply(ctx, fixtures); err != nil {
		t.Fatalf("apply fixtures: %v", err)
	}
	var err error
	dest, err = desttest.Start(ctx, env.Clientset, env.Dynamic, "127.0.0.1:0", desttest.Options{})
	if err != nil {
		t.Fatalf("start test destination: %v", err)
	}
	pol, err = policytest.Start(env.Clientset, env.Dynamic, "127.0.0.1:0", policytest.Options{})
	if err != nil {
		t.Fatalf("start test policy controller: %v", err)
	}
}

// run executes the plugin in-process, as the test environment's admin.
func run(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return clitest.Run("", append([]string{"--kubeconfig", env.Kubeconfig}, withPolicy(args)...)...)
}

// withPolicy adds --policy-addr of the test policy controller to a get
// run that does not name one.
func withPolicy(args []string) []string {
	if pol == nil {
		return args
	}
	at := -1
	for i, a := range args {
		if a == "--policy-addr" || a == "__complete" {
			return args
		}
		if a == "get" && at < 0 {
			at = i
		}
	}
	if at < 0 {
		return args
	}
	out := append([]string{}, args[:at+1]...)
	out = append(out, "--policy-addr", pol.Addr())
	return append(out, args[at+1:]...)
}

func get(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return run(t, append([]string{"get", "--destination-addr", dest.Addr(), "--timeout", "1500ms"}, args...)...)
}

var resourceVersion = regexp.MustCompile(`(resourceVersion"?:? ?"?)[0-9]+`)

// golden compares got with testdata/<name>.golden; resourceVersions vary
// between runs and are normalised.
func golden(t *testing.T, name, got string) {
	t.Helper()
	clitest.Golden(t, filepath.Join("testdata", name+".golden"), resourceVersion.ReplaceAllString(got, "${1}N"))
}

type jsonReport struct {
	Service   struct{ Namespace, Name string }
	FQDN      string
	Client    struct{ Namespace, Pod, Token string }
	Overrides []string
	Ports     []struct {
		Port     int
		InEffect struct{ Source, Namespace, Name, ResourceVersion string }
		Lookup   struct{ Result, Error string }
		Served   json.RawMessage
		Expected json.RawMessage
		Drift    []struct{ Field, Expected, Served string }
		Findings []struct{ Code, Level, Message, Route string }
	}
}

func getJSON(t *testing.T, args ...string) jsonReport {
	t.Helper()
	out, errOut, code := get(t, append(args, "-o", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	compactProfiles(t, &r)
	return r
}

// compactProfiles compacts the embedded profiles so tests can look for
// "key":value.
func compactProfiles(t *testing.T, r *jsonReport) {
	t.Helper()
	for i := range r.Ports {
		for _, raw := range []*json.RawMessage{&r.Ports[i].Served, &r.Ports[i].Expected} {
			var b bytes.Buffer
			if err := json.Compact(&b, *raw); err != nil {
				t.Fatal(err)
			}
			*raw = b.Bytes()
		}
	}
}

func codes(fs []struct{ Code, Level, Message, Route string }) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestCompletionOfServices(t *testing.T) {
	setup(t)
	// __complete parses its own arguments: global flags go after it.
	out, _, code := run(t, "__complete", "get", "--kubeconfig", env.Kubeconfig, "-n", "books", "svc/web")
	if code != 0 || !strings.Contains(out, "svc/webapp\n") || strings.Contains(out, "plain\n") {
		t.Errorf("completion of `get svc/web`: exit %d\n%s", code, out)
	}
	out, _, _ = run(t, "__complete", "get", "--kubeconfig", env.Kubeconfig, "svc/webapp", "-n", "foobar", "--from", "deploy/")
	if !strings.Contains(out, "deployment/traffic") && !strings.Contains(out, "deploy/traffic") {
		t.Errorf("completion of --from deploy/: %s", out)
	}
}
