package rustregex

import "fmt"

// Error says why the Rust regex crate would refuse a pattern. Offset and End
// are byte offsets into the pattern given to Check.
type Error struct {
	Offset int
	End    int
	// Kind is a stable short name, e.g. "look-around" or "size-limit".
	Kind string
	// Message is what the crate reports (its wording, lightly shortened).
	Message string
	// Hint says what to change.
	Hint string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("offset %d: %s", e.Offset, e.Message)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

type errKind int

const (
	eClassEscapeInvalid errKind = iota
	eClassRangeInvalid
	eClassRangeLiteral
	eClassUnclosed
	eDecimalInvalid
	eEscapeHexEmpty
	eEscapeHexInvalid
	eEscapeHexInvalidDigit
	eEscapeUnexpectedEOF
	eEscapeUnrecognized
	eFlagDanglingNegation
	eFlagDuplicate
	eFlagRepeatedNegation
	eFlagUnexpectedEOF
	eFlagUnrecognized
	eGroupNameDuplicate
	eGroupNameEmpty
	eGroupNameInvalid
	eGroupNameUnexpectedEOF
	eGroupUnclosed
	eGroupUnopened
	eNestLimit
	eRepetitionCountInvalid
	eRepetitionCountDecimalEmpty
	eRepetitionCountUnclosed
	eRepetitionMissing
	eSpecialWordBoundaryUnclosed
	eSpecialWordBoundaryUnrecognized
	eSpecialWordOrRepetitionEOF
	eUnicodeClassInvalid
	eBackreference
	eLookAround
	// translation (HIR) errors
	eUnicodeNotAllowed
	eInvalidUTF8
	eUnicodePropertyNotFound
	eUnicodePropertyValueNotFound
	// compilation
	eSizeLimit
	// input
	eNotUTF8
)

type errInfo struct{ kind, msg, hint string }

var errInfos = map[errKind]errInfo{
	eClassEscapeInvalid:              {"class-escape", "invalid escape sequence found in character class", `assertions such as \b, \A, \z, \< are not allowed inside [...]; move them outside the class`},
	eClassRangeInvalid:               {"class-range", "invalid character class range, the start must be <= the end", "swap the range ends"},
	eClassRangeLiteral:               {"class-range-literal", "invalid range boundary, must be a literal", `a range like [a-\d] needs single characters on both sides; put '-' last to mean a literal dash`},
	eClassUnclosed:                   {"class-unclosed", "unclosed character class", `add the closing ']'; in Rust '[' inside a class opens a nested class, so write \[ for a literal bracket`},
	eDecimalInvalid:                  {"repetition-count", "decimal literal invalid (repetition count larger than 4294967295)", "use a smaller count"},
	eEscapeHexEmpty:                  {"hex-escape", "hexadecimal literal empty", `write e.g. \x{41}`},
	eEscapeHexInvalid:                {"hex-escape", "hexadecimal literal is not a Unicode scalar value", "use a code point up to 10FFFF that is not a surrogate"},
	eEscapeHexInvalidDigit:           {"hex-escape", "invalid hexadecimal digit", `\x takes exactly 2 hex digits, \u 4, \U 8, or any number inside {}`},
	eEscapeUnexpectedEOF:             {"escape-eof", "incomplete escape sequence, reached end of pattern prematurely", `finish the escape, or write \\ for a literal backslash`},
	eEscapeUnrecognized:              {"escape", "unrecognized escape sequence", `letters and digits cannot be escaped unless they are a defined escape (\d \w \s \b \B \A \z \n \t ...); Rust has no \Z, \C, \Q..\E, \e, \h; drop the backslash or escape only punctuation`},
	eFlagDanglingNegation:            {"flags", "dangling flag negation operator", "put a flag after '-', e.g. (?-i)"},
	eFlagDuplicate:                   {"flags", "duplicate flag", "name each flag once"},
	eFlagRepeatedNegation:            {"flags", "flag negation operator repeated", "use one '-' per flag group, e.g. (?i-sU)"},
	eFlagUnexpectedEOF:               {"flags", "expected flag but got end of regex", "close the flag group with ')' or ':'"},
	eFlagUnrecognized:                {"flags", "unrecognized flag", "Rust knows the flags i m s U u R x; atomic groups (?>...) and other PCRE groups are not supported"},
	eGroupNameDuplicate:              {"group-name", "duplicate capture group name", "give each named group a different name"},
	eGroupNameEmpty:                  {"group-name", "empty capture group name", "name the group, or use (?:...)"},
	eGroupNameInvalid:                {"group-name", "invalid capture group character", "names start with a letter or '_' and continue with letters, digits, '_', '.', '[' or ']'"},
	eGroupNameUnexpectedEOF:          {"group-name", "unclosed capture group name", "close the name with '>'"},
	eGroupUnclosed:                   {"group-unclosed", "unclosed group", `add the missing ')' or escape the '(' as \(`},
	eGroupUnopened:                   {"group-unopened", "unopened group", `remove the ')' or escape it as \)`},
	eNestLimit:                       {"nest-limit", fmt.Sprintf("exceed the maximum number of nested parentheses/brackets (%d)", nestLimit), "flatten the pattern"},
	eRepetitionCountInvalid:          {"repetition-count", "invalid repetition count range, the start must be <= the end", "write {min,max} with min <= max"},
	eRepetitionCountDecimalEmpty:     {"repetition-count", "repetition quantifier expects a valid decimal", `Rust has no {,n}: write {0,n}; a literal '{' must be escaped as \{`},
	eRepetitionCountUnclosed:         {"repetition-count", "unclosed counted repetition", `close it with '}', or escape a literal brace as \{`},
	eRepetitionMissing:               {"repetition-missing", "repetition operator missing expression", `escape the operator (\*, \+, \?, \{) to match it literally`},
	eSpecialWordBoundaryUnclosed:     {"word-boundary", "special word boundary assertion is either unclosed or contains an invalid character", `write \b{start}, \b{end}, \b{start-half} or \b{end-half}`},
	eSpecialWordBoundaryUnrecognized: {"word-boundary", "unrecognized special word boundary assertion, valid choices are: start, end, start-half or end-half", ""},
	eSpecialWordOrRepetitionEOF:      {"word-boundary", `found either the beginning of a special word boundary or a bounded repetition on a \b with an opening brace, but no closing brace`, "close the brace"},
	eUnicodeClassInvalid:             {"unicode-class", "invalid Unicode character class", `write \pL or \p{Name}`},
	eBackreference:                   {"backreference", "backreferences are not supported", `Rust has neither backreferences nor octal escapes; use \x{..} for a code point`},
	eLookAround:                      {"look-around", "look-around, including look-ahead and look-behind, is not supported", "rewrite without (?=, (?!, (?<= or (?<!; a separate route or a 'not' condition often helps"},
	eUnicodeNotAllowed:               {"unicode-not-allowed", "Unicode not allowed here", "remove (?-u) around this part"},
	eInvalidUTF8:                     {"invalid-utf8", "pattern can match invalid UTF-8", "inside (?-u) avoid '.', negated classes and \\xNN above 7F; the proxy matches text, not bytes"},
	eUnicodePropertyNotFound:         {"unicode-property", "Unicode property not found", `use a General_Category (\p{L}, \p{Lu}), a script (\p{Greek}) or a binary property (\p{Alphabetic}); Go-only forms like \p{^Greek} do not exist in Rust`},
	eUnicodePropertyValueNotFound:    {"unicode-property", "Unicode property value not found", "check the value name for this property"},
	eSizeLimit:                       {"size-limit", "compiled regex exceeds size limit of 10485760 bytes", "reduce counted repetitions such as {1000} and large Unicode classes like \\w inside them ((?-u:\\w) or [0-9A-Za-z_] is far smaller)"},
	eNotUTF8:                         {"not-utf8", "pattern is not valid UTF-8", "the proxy cannot even decode such a profile; fix the encoding"},
}

func newError(pat string, start, end int, k errKind) *Error {
	info := errInfos[k]
	if start > len(pat) {
		start = len(pat)
	}
	if end < start {
		end = start
	}
	return &Error{Offset: start, End: end, Kind: info.kind, Message: info.msg, Hint: info.hint}
}
