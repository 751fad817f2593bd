package cli

import (
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// Term is what the output stream can do.
type Term struct {
	// Color: a terminal, NO_COLOR unset and TERM not "dumb".
	Color bool
	// Width of the terminal in cells; 0 when not a terminal (no wrapping).
	Width int
}

// TermOf inspects w. Only an *os.File connected to a terminal gets colour
// or wrapping; pipes and files get plain, unwrapped text.
func TermOf(w io.Writer) Term {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return Term{}
	}
	t := Term{Color: os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"}
	if width, _, err := term.GetSize(int(f.Fd())); err == nil && width > 0 {
		t.Width = width
	}
	return t
}

const (
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	cyan   = "\x1b[36m"
	reset  = "\x1b[0m"
)

// ColorLevels colours the level word at the start of each line (ERROR,
// WARNING, INFO, or Error/Warning/Info). It runs after layout and escaping:
// escapes added here are the only ones that reach the terminal.
func (t Term) ColorLevels(text string) string {
	if !t.Color {
		return text
	}
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		for word, c := range map[string]string{"ERROR": red, "Error": red, "WARNING": yellow, "Warning": yellow, "INFO": cyan, "Info": cyan} {
			if strings.HasPrefix(l, word) && len(l) > len(word) && (l[len(word)] == ' ' || l[len(word)] == '\t') {
				lines[i] = c + word + reset + l[len(word):]
				break
			}
		}
	}
	return strings.Join(lines, "")
}
