package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/api/v1/users", "/api/v1/users"},
		{"/a b", "/a b"},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"line\nbreak\ttab\r", `line\nbreak\ttab\r`},
		{"bell\a", `bell\x07`},
		{"del\x7f", `del\x7f`},
		{"back\\slash", `back\slash`},
		{`/(\w+)/\d`, `/(\w+)/\d`},
		{"caf\u00e9", "caf\u00e9"},
		{"bad\xffutf8", `bad\xffutf8`},
		{"c1\u009b31m", `c1\u009b31m`},
		{"bidi\u202eevil", `bidi\u202eevil`},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTableEscapesCells(t *testing.T) {
	var b bytes.Buffer
	if err := Table(&b, []string{"NAME", "PATH"}, [][]string{{"a", "/x\x1b]0;pwned\a"}}, 0); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsRune(out, 0x1b) || strings.ContainsRune(out, 0x07) {
		t.Fatalf("control characters reached the output: %q", out)
	}
	if !strings.Contains(out, `/x\x1b]0;pwned\x07`) {
		t.Fatalf("escaped cell missing: %q", out)
	}
	if !strings.HasPrefix(out, "NAME") {
		t.Fatalf("header not first: %q", out)
	}
}
