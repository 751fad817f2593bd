package template

import (
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/lang"
)

// Unroutable refuses exactly the paths whose route (PathRegex of the
// template, anchored as the proxy anchors it) matches no request in
// diag/lang's model of request paths: the route of such a path never
// applies.
func TestUnroutablePath(t *testing.T) {
	e := lang.NewEngine(0)
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"/books", true},
		{"", true},                // the proxy reports "/"
		{"?x=1", true},            // an empty path too
		{"/books/42?q=a b", true}, // the query is not part of the path
		{"/café/%20/x{y}", true},  // non-ASCII, escapes and braces are path text
		{"/a\u202e\u009bb", true}, // invisible, but a path may hold them
		{"/books/\u001b]0;pwned\u0007\u001b[31mRED\u202e\u009b", false},
		{"/a b", false},
		{"/a\tb", false},
		{"/a\x00", false},
		{"/a\nGET /b", false},
		{"/a\u001b?x=1", false},
		{"books", false},
		{"*", false},
	} {
		want := UnroutablePath
		if tc.ok {
			want = ""
		}
		if got := Unroutable("GET", tc.path); got != want {
			t.Errorf("Unroutable(GET, %q) = %q, want %q", tc.path, got, want)
		}
		re := "^" + PathRegex(Template(tc.path)) + "$"
		c := e.Path(re)
		if why := c.Undecidable(); why != "" {
			t.Fatalf("%q: %s", re, why)
		}
		if _, ok, decided := e.Example(c); !decided || ok != tc.ok {
			t.Errorf("%q: a request matches %q: %v (decided %v), want %v", tc.path, re, ok, decided, tc.ok)
		}
	}
}

// A route's method must be one a request can have and one the destination
// controller serves unchanged (it upper-cases route methods, so a route
// written "get" matches GET, never the request with method "get").
func TestUnroutableMethod(t *testing.T) {
	for m, ok := range map[string]bool{
		"GET": true, "PATCH": true, "X-FOO": true, "BREW": true, "M-SEARCH": true,
		"":    true, // no method: the route matches any
		"get": false, "Get": false, "x-foo": false,
		"G ET": false, "GET\u001b": false, "GETé": false, "GET\n": false, "(GET)": false,
	} {
		want := UnroutableMethod
		if ok {
			want = ""
		}
		if got := Unroutable(m, "/books"); got != want {
			t.Errorf("Unroutable(%q, /books) = %q, want %q", m, got, want)
		}
	}
}
