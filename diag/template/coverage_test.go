package template

import "testing"

func TestCoverageOf(t *testing.T) {
	g := NewGrouper(Options{MaxTemplates: 2})
	for _, p := range []string{"/a", "/a", "/b/1", "/c", "/d", "/" + string(make([]byte, MaxPathLen+5))} {
		g.Add("GET", p, 200)
	}
	groups := g.Groups()
	got := CoverageOf(groups)
	// /a (2) and /b/{id} (1) get routes; /c, /d and the overlong path are
	// beyond the two templates kept.
	want := Coverage{Total: 6, Covered: 3, Other: 3}
	if got != want {
		t.Fatalf("CoverageOf = %+v, want %+v (groups %+v)", got, want, groups)
	}
	if n := len(Routes(groups)); n != 2 {
		t.Errorf("%d routes, want 2", n)
	}

	// A catch-all template gets no route and is counted apart.
	g = NewGrouper(Options{})
	g.Add("GET", "/x", 200)
	g.Add("GET", "/"+string(make([]byte, MaxPathLen+5)), 200)
	if got, want := CoverageOf(g.Groups()), (Coverage{Total: 2, Covered: 1, CatchAll: 1}); got != want {
		t.Errorf("with a catch-all: %+v, want %+v (groups %+v)", got, want, g.Groups())
	}
}
