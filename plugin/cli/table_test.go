package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"
)

func TestTableFitsWidth(t *testing.T) {
	msg := "spec.routes[1].timeout: timeout \"10 s\" does not parse as a Go duration: served without timeout; use a Go duration such as 500ms, 10s or 1m30s"
	var b bytes.Buffer
	if err := Table(&b, []string{"LEVEL", "CODE", "MESSAGE"}, [][]string{{"WARNING", "timeout-unparsable", msg}, {"INFO", "x", "short"}}, 60); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	for _, l := range lines {
		if w := runewidth.StringWidth(l); w > 60 {
			t.Errorf("line wider than 60 (%d): %q", w, l)
		}
	}
	var rejoined []string
	for _, l := range lines[1 : len(lines)-1] {
		rejoined = append(rejoined, strings.TrimSpace(l[strings.Index(lines[0], "MESSAGE"):]))
	}
	if got := strings.Join(rejoined, " "); got != msg {
		t.Errorf("wrapped message lost words:\n%s\n%s", got, msg)
	}
	if !strings.HasPrefix(lines[len(lines)-1], "INFO") {
		t.Errorf("rows out of order: %q", lines)
	}
	// Unwrapped (piped) output keeps one row per line.
	b.Reset()
	_ = Table(&b, []string{"A", "B"}, [][]string{{"x", msg}}, 0)
	if strings.Count(b.String(), "\n") != 2 {
		t.Errorf("width 0 must not wrap: %q", b.String())
	}
}

func TestWrapWordsHardBreaks(t *testing.T) {
	got := wrapWords("aaaaaaaaaa bb", 4)
	want := []string{"aaaa", "aaaa", "aa", "bb"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("wrapWords = %q, want %q", got, want)
	}
}

func TestColorLevels(t *testing.T) {
	in := "LEVEL   CODE\nERROR   x\nWARNING y\nINFORMATIVE z\n"
	if got := (Term{}).ColorLevels(in); got != in {
		t.Errorf("colour without a terminal: %q", got)
	}
	got := (Term{Color: true}).ColorLevels(in)
	if !strings.Contains(got, red+"ERROR"+reset+"   x") || !strings.Contains(got, yellow+"WARNING"+reset+" y") {
		t.Errorf("levels not coloured: %q", got)
	}
	if strings.Contains(got, cyan) {
		t.Errorf("INFORMATIVE is not a level: %q", got)
	}
}

func TestTableNarrowsMiddleColumns(t *testing.T) {
	var b bytes.Buffer
	rows := [][]string{
		{"POST", "/books/{id}/edit/with/a/long/template", "3", "/books/1234/edit/with/a/long/template", "303=2"},
		{"GET", "/x", "1", "/x", "200=1"},
	}
	if err := Table(&b, []string{"METHOD", "TEMPLATE", "COUNT", "EXAMPLE PATH", "STATUS"}, rows, 60); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	for _, l := range lines {
		if w := runewidth.StringWidth(l); w > 60 {
			t.Errorf("line wider than 60 (%d): %q", w, l)
		}
	}
	if !strings.HasPrefix(lines[len(lines)-1], "GET") || !strings.Contains(b.String(), "303=2") {
		t.Errorf("rows lost or out of order:\n%s", b.String())
	}
	if !strings.HasPrefix(lines[0], "METHOD   TEMPLATE") {
		t.Errorf("header changed: %q", lines[0])
	}
}

// One huge value does not pad every row: cells but the last are cut at
// MaxCellWidth with an ellipsis (escaping first, so an escape sequence is
// never cut in half into raw bytes).
func TestTableCapsCellWidth(t *testing.T) {
	huge := strings.Repeat("r", 100000)
	var b bytes.Buffer
	if err := Table(&b, []string{"NAME", "STATUS", "MESSAGE"}, [][]string{{huge, "ok", "m " + huge}, {"b", "ok", "short"}}, 0); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	want := "b" + strings.Repeat(" ", MaxCellWidth-1+3) + "ok       short"
	if lines[2] != want {
		t.Errorf("short row padded to %d characters, want %d", len(lines[2]), len(want))
	}
	if !strings.HasPrefix(lines[1], strings.Repeat("r", MaxCellWidth-1)+"…   ok") || !strings.HasSuffix(lines[1], huge) {
		t.Errorf("long row: %.200q", lines[1])
	}
}
