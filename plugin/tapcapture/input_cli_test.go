package tapcapture_test

import (
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/internal/clitest"
)

// --profile used to be read whole, without a bound (`--profile /dev/zero`
// grew until the process was killed): it is now one error line, exit 1.
func TestProfileInputOverBound(t *testing.T) {
	for _, cmd := range []string{"tap", "unmatched"} {
		out, errOut, code := clitest.Run(strings.Repeat("x", 40<<20), cmd, "--file", "../tapsession/testdata/capture.json", "--profile", "-", "-n", "booksapp")
		if code != 1 || out != "" || errOut != "error: --profile: stdin: input larger than 32 MiB (the limit keeps memory bounded): check fewer or smaller files at once\n" {
			t.Errorf("%s: exit %d stdout %.200q stderr %.300q", cmd, code, out, errOut)
		}
	}
}
