package check

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

// writeCodes prints every registered finding code (--list-codes).
func writeCodes(w io.Writer, format string) error {
	codes := finding.Codes()
	switch format {
	case cli.OutputJSON:
		return cli.WriteJSON(w, codes)
	case cli.OutputYAML:
		return cli.WriteYAML(w, codes)
	case outputMarkdown:
		_, err := io.WriteString(w, CodesMarkdown())
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tLEVEL\tDESCRIPTION")
	for _, c := range codes {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Code, c.Level, c.Description)
	}
	return tw.Flush()
}

// CodesMarkdown is the README's table of codes, generated so that it
// cannot drift from the code.
func CodesMarkdown() string {
	var b strings.Builder
	b.WriteString("| Code | Level | Description |\n|---|---|---|\n")
	for _, c := range finding.Codes() {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", c.Code, c.Level, strings.ReplaceAll(c.Description, "|", `\|`))
	}
	return b.String()
}
