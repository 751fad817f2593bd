package cli

import "strings"

// OneLine collapses a multi-line message into one line, so every failure is
// reported on a single line of stderr.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
