package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestDemo runs `make demo`'s program and checks that each command it shows
// says what the sample data is there to show.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts kube-apiserver and etcd")
	}
	var out bytes.Buffer
	if err := run(&out, false); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"LOCAL STAND-IN",
		"OVERRIDES     clients in traffic get their namespace's profile",
		"timeout-unparsable",
		"name-near-miss",
		"booksapp    books     7002   booksapp   service-namespace            policy           silent",
		"Error [profile-unservable] (booksapp/books.booksapp.svc.cluster.local)",
		"4 matched a route, 8 unmatched",
		"GET      /authors/{id}           3",
		"pathRegex: /books/[^/]+/reviews",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "unknown command") {
		t.Errorf("the demo runs a command that does not exist:\n%s", out.String())
	}
}
