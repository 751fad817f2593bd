package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"
)

// inTerminal runs the built binary on a pseudo-terminal of the given width
// (util-linux `script`), as a user at a shell would, and returns what the
// terminal received.
func inTerminal(t *testing.T, bin string, cols int, env []string, args ...string) string {
	t.Helper()
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("util-linux `script` is not installed: no pseudo-terminal to test with")
	}
	cmdline := "stty cols " + strconv.Itoa(cols) + "; exec " + bin + " " + strings.Join(args, " ")
	cmd := exec.Command(script, "-qec", cmdline, "/dev/null")
	cmd.Env = append(os.Environ(), env...)
	out, _ := cmd.Output() // findings make check exit 3
	return strings.ReplaceAll(string(out), "\r\n", "\n")
}

func TestTerminalManners(t *testing.T) {
	bin := filepath.Join(buildPlugin(t), "kubectl-profiles")
	profiles := "../../testdata/profiles/proxy-drops.yaml"

	colour := inTerminal(t, bin, 100, []string{"NO_COLOR="}, "check", "-f", profiles)
	if !strings.Contains(colour, "\x1b[31mError\x1b[0m [") {
		t.Errorf("no colour on a terminal:\n%q", colour)
	}
	plain := inTerminal(t, bin, 100, []string{"NO_COLOR=1"}, "check", "-f", profiles)
	if strings.Contains(plain, "\x1b[") || !strings.Contains(plain, "Error [") {
		t.Errorf("NO_COLOR=1 still coloured, or no output:\n%q", plain)
	}
	piped, _ := exec.Command(bin, "check", "-f", profiles).Output()
	if strings.Contains(string(piped), "\x1b[") {
		t.Errorf("colour in piped output:\n%q", piped)
	}

	// Tables fit the terminal: the last column wraps.
	capture := "../../plugin/tapsession/testdata/capture.json"
	sp := "../../plugin/tapsession/testdata/webapp-sp.yaml"
	narrow := inTerminal(t, bin, 60, nil, "unmatched", "--file", capture, "--profile", sp, "-n", "booksapp")
	lines := 0
	for _, l := range strings.Split(narrow, "\n") {
		if strings.HasPrefix(l, "METHOD") || strings.HasPrefix(l, "GET ") || strings.HasPrefix(l, "POST ") {
			lines++
			if w := runewidth.StringWidth(l); w > 60 {
				t.Errorf("table row wider than the 60-column terminal (%d): %q", w, l)
			}
		}
	}
	if lines < 3 {
		t.Errorf("no table in the output:\n%s", narrow)
	}
}
