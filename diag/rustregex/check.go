// Package rustregex tells whether linkerd2-proxy can compile a path regex.
//
// The proxy compiles ServiceProfile PathMatch regexes with the Rust `regex`
// crate (v1.13.1 at linkerd2-proxy HEAD 29637b64, default features, default
// limits) and silently drops a route whose regex fails to compile. This
// package models that crate's acceptance rules in Go: its syntax (parser and
// translation errors, nest limit 250) and, approximately, its 10 MiB compiled
// size limit. GoCompatible lists constructs that Go's regexp parses
// differently, so a local Go match can differ from the proxy's.
//
// The model was checked against the real crate (run locally on thousands of
// patterns, including fuzzed ones); see the tests for the cases pinned down.
package rustregex

import "unicode/utf8"

// SizeLimit is the crate's default compiled size limit (RegexBuilder::size_limit).
const SizeLimit = 10 * (1 << 20)

// Check returns nil if the Rust regex crate compiles pattern as given (the
// caller adds any anchors), or an *Error saying where and why it would not.
//
// The size limit is estimated, not computed exactly: patterns whose estimate
// is within about 15% of the limit may be judged wrongly (see estimateSize).
func Check(pattern string) error {
	if e := check(pattern); e != nil {
		return e
	}
	return nil
}

func check(pattern string) *Error {
	if !utf8.ValidString(pattern) {
		off := 0
		for off < len(pattern) {
			r, n := utf8.DecodeRuneInString(pattern[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return newError(pattern, off, off+1, eNotUTF8)
	}
	root, err := parse(pattern)
	if err != nil {
		return err
	}
	t := &translator{pat: pattern}
	flags := flagUni
	if err := t.walk(root, &flags); err != nil {
		return err
	}
	if est := estimateSize(root); est > SizeLimit {
		e := newError(pattern, 0, len(pattern), eSizeLimit)
		e.Message += " (estimated " + itoa(est) + " bytes)"
		return e
	}
	return nil
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [24]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
