package tapprofile

import (
	"fmt"
	"testing"
)

func TestTally(t *testing.T) {
	var tl Tally
	if tl.Unclassified() != "" {
		t.Fatal("an empty tally has nothing unclassified")
	}
	for i := 0; i < 3; i++ {
		tl.Add(Result{Status: Matched})
	}
	for i := 0; i < 10; i++ {
		tl.Add(Result{Status: Unknown, Reason: ReasonNoService})
	}
	tl.Add(Result{Status: Unknown, Reason: ReasonSilent})
	tl.Add(Result{Status: Unknown, Reason: ReasonSilent})
	want := "12 of 15 requests could not be classified: no Service name in the request: 10, profile lookup silent: 2"
	if got := tl.Unclassified(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if tl.Classified() != 3 || tl.Count(ReasonSilent) != 2 {
		t.Errorf("classified %d, silent %d", tl.Classified(), tl.Count(ReasonSilent))
	}
	// Distinct reasons are bounded.
	for i := 0; i < 100; i++ {
		tl.Add(Result{Status: Unknown, Reason: fmt.Sprint("reason ", i)})
	}
	if len(tl.reasons) > maxReasons+1 || tl.Count("other reasons") == 0 || tl.Unknown != 112 {
		t.Errorf("%d reasons kept, %d other, %d unknown", len(tl.reasons), tl.Count("other reasons"), tl.Unknown)
	}
}
