package plugin

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
)

var updateReadme = flag.Bool("update", false, "rewrite the generated parts of README.md")

// codesTable renders every registered finding code as a Markdown table.
func codesTable() string {
	var b strings.Builder
	b.WriteString("| code | level | meaning |\n|---|---|---|\n")
	for _, c := range finding.Codes() {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", c.Code, c.Level, strings.ReplaceAll(c.Description, "|", "\\|"))
	}
	return b.String()
}

// TestReadmeCodes keeps README's table of finding codes identical to the
// codes the commands register, so the documented contract cannot drift.
func TestReadmeCodes(t *testing.T) {
	const begin, end = "<!-- codes:begin -->\n", "<!-- codes:end -->"
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatal("README.md lacks the codes:begin/codes:end markers")
	}
	want := codesTable()
	if got := readme[i+len(begin) : j]; got != want {
		if *updateReadme {
			if err := os.WriteFile("../README.md", []byte(readme[:i+len(begin)]+want+readme[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README.md's finding codes are out of date: run go test ./plugin -run TestReadmeCodes -update")
	}
}
