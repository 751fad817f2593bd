package check

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

func TestWriteTextColourOnlyOnTerminals(t *testing.T) {
	out := Output{Findings: []Finding{{Code: "route-unreachable", Level: finding.Error, Message: "evil \x1b[2J name",
		Origin: Origin{Namespace: "books", Name: "web.books.svc.cluster.local"}}}}
	var plain, tty bytes.Buffer
	if err := writeText(&plain, out, cli.Term{}); err != nil {
		t.Fatal(err)
	}
	if err := writeText(&tty, out, cli.Term{Color: true}); err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsRune(plain.Bytes(), 0x1b) {
		t.Errorf("escape in plain output: %q", plain.String())
	}
	if !strings.HasPrefix(tty.String(), "\x1b[31mError\x1b[0m [route-unreachable]") {
		t.Errorf("level not coloured on a terminal: %q", tty.String())
	}
	if strings.Count(tty.String(), "\x1b") != 2 {
		t.Errorf("only the colour codes may be raw escapes: %q", tty.String())
	}
}
