package rustregex

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"strings"
	"unicode"
)

// Difference is one place where Go's regexp and the Rust crate disagree about
// a pattern, so that matching it locally with Go may not predict the proxy.
type Difference struct {
	// Offset is the byte offset of the construct, or -1 for the whole pattern.
	Offset int
	// Construct is the piece of pattern concerned.
	Construct string
	// Rust and Go say what each engine does with it.
	Rust, Go string
	// ASCIISafe is true when both engines agree on ASCII-only input (the
	// difference is only in Unicode tables or Unicode-aware classes).
	ASCIISafe bool
}

func (d Difference) String() string {
	where := "pattern"
	if d.Offset >= 0 {
		where = fmt.Sprintf("offset %d", d.Offset)
	}
	return fmt.Sprintf("%s %q: Rust %s; Go %s", where, d.Construct, d.Rust, d.Go)
}

// GoCompatible lists the constructs in pattern that Go's regexp (RE2 syntax,
// as used by regexp.Compile) rejects or reads differently from the Rust crate
// the proxy uses. An empty result means a Go match of this pattern predicts
// the proxy's (up to Unicode table versions).
func GoCompatible(pattern string) []Difference {
	var out []Difference
	_, goErr := syntax.Parse(pattern, syntax.Perl)
	rustErr := check(pattern)
	switch {
	case rustErr != nil && goErr == nil:
		out = append(out, Difference{Offset: rustErr.Offset, Construct: excerpt(pattern, rustErr.Offset, rustErr.End),
			Rust: "rejects it: " + rustErr.Message, Go: "accepts it"})
	case rustErr == nil && goErr != nil:
		d := Difference{Offset: -1, Construct: pattern, Rust: "accepts it", Go: "rejects it: " + goErr.Error()}
		var se *syntax.Error
		if errors.As(goErr, &se) && se.Expr != "" {
			d.Construct = se.Expr
			if i := strings.Index(pattern, se.Expr); i >= 0 {
				d.Offset = i
			}
		}
		out = append(out, d)
	}
	if rustErr != nil || len(pattern) > 1<<16 {
		return out
	}
	root, err := parse(pattern)
	if err != nil {
		return out
	}
	w := &compatWalker{pat: pattern}
	flags := flagUni
	w.walk(root, &flags)
	return append(out, w.out...)
}

type compatWalker struct {
	pat  string
	out  []Difference
	seen map[string]bool
}

func (w *compatWalker) add(n *node, rust, golang string) { w.addDiff(n, rust, golang, false) }

func (w *compatWalker) addSafe(n *node, rust, golang string) { w.addDiff(n, rust, golang, true) }

func (w *compatWalker) addDiff(n *node, rust, golang string, safe bool) {
	key := rust + "\x00" + golang
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	if w.seen[key] { // one note per kind of difference is enough
		return
	}
	w.seen[key] = true
	w.out = append(w.out, Difference{Offset: n.start, Construct: excerpt(w.pat, n.start, n.end), Rust: rust, Go: golang, ASCIISafe: safe})
}

func (w *compatWalker) walk(n *node, flags *uint8) {
	uni := *flags&flagUni != 0
	switch n.kind {
	case nFlags:
		*flags = n.flags.apply(*flags)
	case nPerlClass:
		if uni {
			w.addSafe(n, `matches Unicode `+perlName(n.perl)+` (e.g. non-ASCII digits or letters)`, "matches ASCII only")
		}
	case nAssertion:
		switch n.assert {
		case aWordBoundary, aNotWordBoundary:
			if uni {
				w.addSafe(n, "uses Unicode word characters for the boundary", "uses ASCII word characters")
			}
		case aWordStartAngle, aWordEndAngle, aWordStart, aWordEnd, aWordStartHalf, aWordEndHalf:
			w.add(n, "reads it as a word-boundary assertion", `reads it as literal text (\< is '<', {start} is literal)`)
		}
	case nUnicodeClass:
		w.addSafe(n, "uses Unicode 16.0 tables", "uses Unicode "+unicode.Version+" tables (property names also differ)")
	case nBracketed:
		if hasNestedOrOps(n.set) {
			w.add(n, "reads '[' inside a class as a nested class and &&, --, ~~ as set operations", "reads them as literal characters")
		} else if uni && setHasPerl(n.set) {
			w.addSafe(n, `matches Unicode \d/\w/\s inside the class`, "matches ASCII only")
		}
	case nRepetition:
		raw := w.pat[n.subs[0].end:n.end]
		if strings.HasPrefix(raw, "{") && strings.ContainsAny(raw, " \t\n\r\f\v") {
			w.add(n, "ignores spaces inside a counted repetition", "reads the braces as literal text")
		}
	case nGroup:
		inner := *flags
		if n.hasFlag {
			inner = n.flags.apply(inner)
		}
		for _, s := range n.subs {
			w.walk(s, &inner)
		}
		return
	}
	for _, s := range n.subs {
		w.walk(s, flags)
	}
}

func perlName(k byte) string {
	return map[byte]string{'d': `\d`, 's': `\s`, 'w': `\w`}[k]
}

func hasNestedOrOps(s *classSet) bool {
	switch s.kind {
	case sBracketed, sBinOp:
		return true
	case sUnion:
		for _, it := range s.items {
			if hasNestedOrOps(it) {
				return true
			}
		}
	}
	return false
}

func setHasPerl(s *classSet) bool {
	switch s.kind {
	case sPerl:
		return true
	case sUnion:
		for _, it := range s.items {
			if setHasPerl(it) {
				return true
			}
		}
	}
	return false
}

func excerpt(pat string, start, end int) string {
	if start < 0 {
		start = 0
	}
	if end > len(pat) {
		end = len(pat)
	}
	if end <= start {
		end = min(start+1, len(pat))
	}
	s := pat[start:end]
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}
