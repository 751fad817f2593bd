package cli

import (
	"bytes"
	"io"
	"strings"

	"github.com/mattn/go-runewidth"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Table writes a kubectl-style table: no borders, left-aligned columns
// separated by three spaces. Cells are escaped (they may hold cluster data)
// and, with maxWidth 0, never wrapped, so piped output stays one row per
// line for grep. maxWidth > 0 (a terminal's width) wraps the last column.
func Table(w io.Writer, header []string, rows [][]string, maxWidth int) error {
	opts := []tablewriter.Option{
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenRows: tw.Off, BetweenColumns: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "   ", Overwrite: true}),
		tablewriter.WithTrimSpace(tw.Off),
	}
	var buf bytes.Buffer
	t := tablewriter.NewTable(&buf, opts...)
	t.Header(toAny(header)...)
	escaped := make([][]string, len(rows))
	for i, r := range rows {
		escaped[i] = make([]string, len(r))
		for j, c := range r {
			escaped[i][j] = Escape(c)
		}
	}
	if maxWidth > 0 {
		escaped = wrapLastColumn(header, escaped, maxWidth)
	}
	for _, cells := range escaped {
		if err := t.Append(cells); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	// The last column is padded too; kubectl's tables have no trailing blanks.
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		trimmed := strings.TrimRight(line, " \n")
		if line == "" {
			continue
		}
		if _, err := io.WriteString(w, trimmed+"\n"); err != nil {
			return err
		}
	}
	return nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// colGap is the space between columns.
const colGap = 3

// wrapLastColumn makes rows fit maxWidth by word-wrapping the last column
// (the long free-text one: messages, conditions) onto continuation rows.
// When the other columns leave too little room it gives up: a wide table
// beats an unreadable one.
func wrapLastColumn(header []string, rows [][]string, maxWidth int) [][]string {
	n := len(header)
	if n == 0 {
		return rows
	}
	used := 0
	for col := 0; col < n-1; col++ {
		w := runewidth.StringWidth(header[col])
		for _, r := range rows {
			if col < len(r) {
				w = max(w, runewidth.StringWidth(r[col]))
			}
		}
		used += w + colGap
	}
	room := maxWidth - used
	if room < 20 {
		return rows
	}
	var out [][]string
	for _, r := range rows {
		if len(r) != n || runewidth.StringWidth(r[n-1]) <= room {
			out = append(out, r)
			continue
		}
		for i, line := range wrapWords(r[n-1], room) {
			row := make([]string, n)
			if i == 0 {
				copy(row, r[:n-1])
			}
			row[n-1] = line
			out = append(out, row)
		}
	}
	return out
}

// wrapWords splits s into lines of at most width cells, breaking at spaces,
// and hard-breaking words longer than a line.
func wrapWords(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		for runewidth.StringWidth(word) > width {
			if line != "" {
				lines, line = append(lines, line), ""
			}
			cut := runewidth.Truncate(word, width, "")
			lines = append(lines, cut)
			word = word[len(cut):]
		}
		switch {
		case line == "":
			line = word
		case runewidth.StringWidth(line)+1+runewidth.StringWidth(word) <= width:
			line += " " + word
		default:
			lines, line = append(lines, line), word
		}
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}
