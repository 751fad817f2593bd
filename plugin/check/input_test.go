package check_test

import (
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

// An input over the run's bound is one error line and exit 1, not a broken
// document nor a process that grows until it is killed (40 MiB on one line
// used to be read whole, then reported as a finding).
func TestInputOverBound(t *testing.T) {
	out, errOut, code := run(t, strings.Repeat("x", 40<<20), "check", "-f", "-")
	if code != cli.ExitError || out != "" || errOut != "error: stdin: input larger than 32 MiB (the limit keeps memory bounded): check fewer or smaller files at once\n" {
		t.Errorf("exit %d stdout %.200q stderr %.300q", code, out, errOut)
	}
}
