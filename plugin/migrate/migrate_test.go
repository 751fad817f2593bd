package migrate_test

import (
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/internal/clitest"
)

// Every output of migrate from a file, against goldens (-update rewrites).
func TestMigrateGoldens(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"booksapp", []string{"-f", "testdata/booksapp-profile.yaml"}, 0},
		{"booksapp-replay", []string{"-f", "testdata/booksapp-profile.yaml", "--file", "testdata/capture.json"}, 0},
		{"booksapp-no-catch-all", []string{"-f", "testdata/booksapp-profile.yaml", "--file", "testdata/capture.json", "--no-catch-all", "--rule-timeouts"}, 0},
		{"authors-uncompilable-regex", []string{"-f", "testdata/authors-profile.yaml"}, 0},
		{"voting-grpcroute", []string{"-f", "testdata/voting-profile.yaml", "--kind", "grpcroute"}, 0},
		{"usage-kind", []string{"-f", "testdata/voting-profile.yaml", "--kind", "grpcroute", "--rule-timeouts"}, 2},
		{"usage-both", []string{"svc/webapp", "-f", "testdata/booksapp-profile.yaml"}, 2},
		{"not-a-profile", []string{"-f", "testdata/capture.json"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := clitest.Run("", append([]string{"migrate"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			clitest.Golden(t, "testdata/"+tc.name+".golden", "== stdout\n"+out+"== stderr\n"+errOut)
		})
	}
}
