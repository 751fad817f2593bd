// Package template groups observed HTTP requests by method and path template
// and turns the groups into ServiceProfile routes. It is the pure core of
// `kubectl profiles unmatched`: no network, bounded memory.
package template

import (
	"strings"
	"unicode/utf8"

	"github.com/kubectl-profiles/kubectl-profiles/diag/lang"
	"github.com/kubectl-profiles/kubectl-profiles/diag/proxy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
)

// MaxPathLen is how many bytes of a path (after dropping the query) are
// templated. A longer path keeps its complete segments within the first
// MaxPathLen bytes and the remainder becomes the RestPlaceholder, so a
// template is never much longer than MaxPathLen.
const MaxPathLen = 1024

// Placeholders that Template writes. They are the only places a template
// contains '{' or '}': a raw path segment holding a brace is itself replaced
// by IDPlaceholder (braces are not legal unencoded in a URI path).
const (
	// IDPlaceholder stands for one non-empty path segment, or the stem of a
	// segment before a short file extension ("{id}.json").
	IDPlaceholder = "{id}"
	// RestPlaceholder stands for anything, including further slashes. It only
	// ends templates of paths longer than MaxPathLen.
	RestPlaceholder = "{rest}"
)

// appendTemplate turns a request path into a template by replacing segments
// that look like identifiers with IDPlaceholder. The rules, applied per segment
// (the text between slashes), are:
//
//   - The query string ("?...") and any fragment ("#...") are dropped: the
//     proxy matches ServiceProfile regexes against the path only.
//   - An empty path becomes "/" (an HTTP request never has an empty path; the
//     proxy's http::Uri reports "/").
//   - Empty segments are kept, so "/a/" and "/a//b" stay distinct from "/a"
//     and "/a/b" exactly as the proxy's full-match regexes see them.
//   - A short file extension (1-5 ASCII alphanumerics starting with a letter,
//     after the last '.') is kept when the stem is an id: "1.json" -> "{id}.json".
//   - A segment (or stem) is an id when it is
//     a number, date, time, version or address: only digits and "-._:,+",
//     with at least one digit ("42", "2024-01-31", "12:30:00", "1.2.3");
//     an ISO 8601 date or timestamp ("2024-01-31T10:00:00Z");
//     a UUID ("123e4567-e89b-12d3-a456-426614174000");
//     hex of at least 8 characters with a digit ("5f2b9c0e", "deadbeef00");
//     a token of at least 16 base64url characters ([A-Za-z0-9_+-], optional
//     trailing '=') with a letter and at least two digits
//     ("01ARZ3NDEKTSV4RRFFQ69G5FAV", "dGhpcyBpcyBhIHRva2VuMTI=");
//     anything holding a run of 6 or more digits ("order-1234567");
//     an e-mail-like value ("bob@localhost"; "bob@example.com" and
//     "bob%40example.com" become "{id}.com" by the extension rule);
//     or not valid UTF-8, or holding '{' or '}'.
//   - Everything else is kept byte for byte, including percent-escapes and
//     non-ASCII text ("caf%C3%A9", "café", "emojivoto.v1.VotingService").
//
// Words without digits are never ids ("deadbeef", "VotingService"), so
// gRPC method paths and ordinary REST nouns stay literal. Replacements are
// whole segments or stems, so valid UTF-8 input gives valid UTF-8 output.
//
// It appends the template of path to dst, and allocates only if dst lacks
// capacity.
func appendTemplate(dst []byte, path string) []byte {
	p := stripQuery(path)
	if p == "" {
		return append(dst, '/')
	}
	truncated := false
	if len(p) > MaxPathLen {
		i := strings.LastIndexByte(p[:MaxPathLen], '/')
		if i < 0 {
			return append(dst, RestPlaceholder...)
		}
		p, truncated = p[:i], true
	}
	for {
		j := strings.IndexByte(p, '/')
		if j < 0 {
			dst = appendSegment(dst, p)
			break
		}
		dst = appendSegment(dst, p[:j])
		dst = append(dst, '/')
		p = p[j+1:]
	}
	if truncated {
		dst = append(dst, '/')
		dst = append(dst, RestPlaceholder...)
	}
	return dst
}

// Why a request is left out by Unroutable, said by every command that
// leaves one out, so that it is counted, never silently dropped.
const (
	UnroutablePath   = "a path no request can have (it holds a control character or a space, or lacks the leading /)"
	UnroutableMethod = "a method no route can name (not an HTTP token, or not in the upper case the destination controller gives route methods)"
)

// Unroutable says why no route can be made for a request (as a tap reports
// it) that would match it, or "" when one can. A route made from such a
// request would match no request, or other requests than it:
//
//   - its path (the query and fragment, if any, dropped as appendTemplate
//     drops them; an empty path is "/") is one no request the proxy routes
//     can have, by lang.RequestPath, the rule route conditions are analysed
//     with;
//   - its method (if any) is not one http::Method accepts
//     (proxy.ValidMethod), or one the destination controller changes when
//     it serves a route's condition (translate.ParseMethod upper-cases it).
//
// Callers leave such a request out of their groups and count it.
func Unroutable(method, path string) string {
	if p := stripQuery(path); p != "" && !lang.RequestPath(p) {
		return UnroutablePath
	}
	if method != "" && (!proxy.ValidMethod(method) || translate.MethodName(translate.ParseMethod(method)) != method) {
		return UnroutableMethod
	}
	return ""
}

// stripQuery drops the query string and fragment.
func stripQuery(path string) string {
	// Two byte searches are faster than one IndexAny.
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if i := strings.IndexByte(path, '#'); i >= 0 {
		path = path[:i]
	}
	return path
}

// examplePath is the path as it is kept for display: query dropped, at most
// MaxPathLen bytes cut on a rune boundary, "" shown as "/" like Template.
func examplePath(path string) string {
	p := stripQuery(path)
	if p == "" {
		return "/"
	}
	if len(p) > MaxPathLen {
		n := MaxPathLen
		for n > 0 && !utf8.RuneStart(p[n]) {
			n--
		}
		p = p[:n]
	}
	return p
}

func appendSegment(dst []byte, seg string) []byte {
	if seg == "" {
		return dst
	}
	if ext := extension(seg); ext > 0 {
		stem := seg[:len(seg)-ext]
		if isID(stem) {
			dst = append(dst, IDPlaceholder...)
			return append(dst, seg[len(stem):]...)
		}
		return append(dst, seg...)
	}
	if isID(seg) {
		return append(dst, IDPlaceholder...)
	}
	return append(dst, seg...)
}

// extension returns the length of a short file extension at the end of seg,
// including its dot, or 0. The stem before it must be non-empty.
func extension(seg string) int {
	dot := strings.LastIndexByte(seg, '.')
	if dot <= 0 {
		return 0
	}
	ext := seg[dot+1:]
	if len(ext) < 1 || len(ext) > 5 || !isLetter(ext[0]) {
		return 0
	}
	for i := 1; i < len(ext); i++ {
		if !isLetter(ext[i]) && !isDigit(ext[i]) {
			return 0
		}
	}
	return len(ext) + 1
}

// isID applies the id rules documented on Template in one pass over s. It
// also reports segments that cannot be kept literally: braces would be
// confused with placeholders, and invalid UTF-8 cannot go into a regex the
// proxy compiles (its regexes match text).
func isID(s string) bool {
	if s == "" {
		return false
	}
	var digits, letters, run, maxRun int
	numeric, hex, token := true, true, true
	pad := 0 // trailing '=' of a base64 token
	at, brace, nonASCII := false, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isDigit(c) {
			digits++
			run++
			maxRun = max(maxRun, run)
			if pad > 0 {
				token = false
			}
			continue
		}
		run = 0
		switch {
		case isLetter(c):
			letters++
			numeric = false
			if !isHexLetter(c) {
				hex = false
			}
			if pad > 0 {
				token = false
			}
		case c == '-' || c == '+' || c == '_' || c == '.' || c == ':' || c == ',':
			hex = false
			if c == '.' || c == ':' || c == ',' || pad > 0 {
				token = false
			}
		case c == '=':
			numeric, hex = false, false
			pad++
		default:
			switch {
			case c == '@' && i > 0 && i < len(s)-1:
				at = true
			case c == '{' || c == '}':
				brace = true
			case c >= utf8.RuneSelf:
				nonASCII = true
			}
			numeric, hex, token = false, false, false
		}
	}
	switch {
	case brace, nonASCII && !utf8.ValidString(s):
		return true
	case numeric && digits > 0:
		return true
	case isUUID(s), isISODate(s):
		return true
	case hex && len(s) >= 8 && digits > 0:
		return true
	case token && pad <= 2 && len(s)-pad >= 16 && letters > 0 && digits >= 2:
		return true
	case maxRun >= 6:
		return true
	case at:
		return true
	}
	if i := strings.Index(s, "%40"); i > 0 && i+3 < len(s) {
		return true
	}
	return false
}

// isISODate matches a leading yyyy-mm-dd, as in timestamps.
func isISODate(s string) bool {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9} {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isUUID matches the 8-4-4-4-12 hex form in either case.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isDigit(s[i]) && !isHexLetter(s[i]) {
				return false
			}
		}
	}
	return true
}

func isDigit(c byte) bool     { return '0' <= c && c <= '9' }
func isLetter(c byte) bool    { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isHexLetter(c byte) bool { return 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
