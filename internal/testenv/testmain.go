package testenv

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
)

// Run is the body of a package's TestMain: it starts one Env for the whole
// test binary, stores it in *env, runs the tests and stops it. With -short
// nothing is started and *env stays nil (tests call SkipIfShort). A start
// failure fails the binary with the reason, e.g. binaries not built yet.
func Run(m *testing.M, opts Options, env **Env) int {
	if !flag.Parsed() {
		flag.Parse() // testing.Short needs parsed flags; m.Run would parse them too late
	}
	if testing.Short() {
		return m.Run()
	}
	e, err := Start(context.Background(), opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		return 1
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "testenv: kube-apiserver %s at %s, started in %s\n", KubeVersion, e.Host, e.StartedIn.Round(1e6))
	}
	*env = e
	code := m.Run()
	if err := e.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
	}
	return code
}

// SkipIfShort skips t under -short: tests that need an Env are end-to-end.
func SkipIfShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test needs kube-apiserver and etcd; skipped with -short")
	}
}
