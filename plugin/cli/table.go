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
// and, with maxWidth 0, never wrapped (but cut at MaxCellWidth, except in
// the last column), so piped output stays one row per
// line for grep. maxWidth > 0 (a terminal's width) narrows the widest
// columns to fit, wrapping their cells.
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
			if j < len(header)-1 {
				escaped[i][j] = capCell(escaped[i][j])
			}
		}
	}
	if maxWidth > 0 {
		escaped = fitColumns(header, escaped, maxWidth)
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

// MaxCellWidth bounds the cells of every column but the last: one huge
// value (a 100k-character route name) would otherwise pad every row of the
// table to its width. Longer cells end in "…"; -o json and -o yaml always
// carry the full value. The last column is never padded, so it is kept
// whole (finding messages).
const MaxCellWidth = 120

func capCell(c string) string {
	if len(c) <= MaxCellWidth || runewidth.StringWidth(c) <= MaxCellWidth {
		return c
	}
	return runewidth.Truncate(c, MaxCellWidth, "…")
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

// fitColumns makes rows fit maxWidth: it narrows the widest columns first
// (never below their header) and word-wraps their cells onto continuation
// rows. When even that cannot fit, it does what it can: a wide table beats
// an unreadable one.
func fitColumns(header []string, rows [][]string, maxWidth int) [][]string {
	n := len(header)
	if n == 0 {
		return rows
	}
	widths := make([]int, n)
	header0 := make([]int, n) // the absolute floor: headers never wrap
	words := make([]int, n)   // the longest word: narrower would break words
	for col := range header {
		header0[col] = runewidth.StringWidth(header[col])
		widths[col] = header0[col]
		for _, r := range rows {
			if col >= len(r) {
				continue
			}
			widths[col] = max(widths[col], runewidth.StringWidth(r[col]))
			for _, w := range strings.Fields(r[col]) {
				words[col] = max(words[col], runewidth.StringWidth(w))
			}
		}
	}
	total := colGap * (n - 1)
	for _, w := range widths {
		total += w
	}
	// First keep words whole (up to a sane length), then break them.
	for _, floor := range [][]int{wordFloors(header0, words), header0} {
		for total > maxWidth {
			widest := -1
			for col := range widths {
				if widths[col] > floor[col] && (widest < 0 || widths[col] > widths[widest]) {
					widest = col
				}
			}
			if widest < 0 {
				break
			}
			widths[widest]--
			total--
		}
	}
	var out [][]string
	for _, r := range rows {
		if len(r) != n {
			out = append(out, r)
			continue
		}
		cells := make([][]string, n)
		height := 1
		for col, c := range r {
			cells[col] = []string{c}
			if runewidth.StringWidth(c) > widths[col] {
				cells[col] = wrapWords(c, widths[col])
			}
			height = max(height, len(cells[col]))
		}
		for line := 0; line < height; line++ {
			row := make([]string, n)
			for col := range cells {
				if line < len(cells[col]) {
					row[col] = cells[col][line]
				}
			}
			out = append(out, row)
		}
	}
	return out
}

// wordFloors is the narrowest each column gets while words stay whole;
// words longer than 24 cells (paths, tokens) may still be broken.
func wordFloors(header, words []int) []int {
	out := make([]int, len(header))
	for i := range header {
		out[i] = max(header[i], min(words[i], 24))
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
