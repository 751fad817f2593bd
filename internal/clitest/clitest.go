// Package clitest runs the plugin in-process for tests, exactly as main
// does, and compares output with golden files.
package clitest

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-profiles/kubectl-profiles/plugin"
)

// Update is the -update flag of every test binary that uses this package.
var Update = flag.Bool("update", false, "rewrite golden files")

// Run executes `kubectl profiles args...` with stdin and returns what it
// printed and its exit status.
func Run(stdin string, args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
	code = plugin.Run(args, streams)
	return out.String(), errOut.String(), code
}

// Golden compares got with the file at path, or rewrites it under -update.
func Golden(t testing.TB, path, got string) {
	t.Helper()
	if *Update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
