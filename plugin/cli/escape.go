package cli

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape makes untrusted text (paths, headers, names from the cluster or
// from tap) safe to print on a terminal: control characters, including the
// ESC that starts terminal escape sequences, and invalid UTF-8 are shown as
// Go escapes instead of being interpreted. Printable text, backslashes
// included (regexes stay readable), is unchanged.
func Escape(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case Unsafe(r):
			// C1 controls, bidi overrides and other invisible formatting.
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// Unsafe is the one rule for characters that are never printed raw, in any
// output format: C0 controls, DEL, C1 controls (a terminal may act on
// U+009B as CSI), bidi overrides and every other character Go does not
// consider printable (invisible formatting, separators other than the
// space, unassigned code points).
func Unsafe(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && !unicode.IsPrint(r))
}

func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c >= 0x80 {
			return false
		}
	}
	return true
}
