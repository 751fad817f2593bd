package check_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/internal/clitest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	os.Exit(testenv.Run(m, testenv.Options{}, &env))
}

// run executes the plugin in-process exactly as main does, with stdin.
func run(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return clitest.Run(stdin, args...)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	clitest.Golden(t, filepath.Join("testdata", name+".golden"), got)
}
