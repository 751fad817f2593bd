package template

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// Total is the number of requests added.
func (g *Grouper) Total() int { return g.total }

func TestGrouperCountsAndOrder(t *testing.T) {
	g := NewGrouper(Options{})
	for i := range 5 {
		g.Add("GET", "/users/"+strconv.Itoa(i), 200)
	}
	g.Add("GET", "/users/7", 404)
	g.Add("POST", "/users", 201)
	g.Add("POST", "/users", 500)
	g.Add("GET", "/health", 200)
	g.Add("GET", "/health?full=1", 0)
	g.Add("DELETE", "/users/9", 0)

	want := []Group{
		{Method: "GET", Template: "/users/{id}", Count: 6,
			Examples:    []string{"/users/0", "/users/1", "/users/2"},
			StatusCodes: []StatusCount{{200, 5}, {404, 1}}},
		{Method: "GET", Template: "/health", Count: 2,
			Examples:    []string{"/health"},
			StatusCodes: []StatusCount{{0, 1}, {200, 1}}},
		{Method: "POST", Template: "/users", Count: 2,
			Examples:    []string{"/users"},
			StatusCodes: []StatusCount{{201, 1}, {500, 1}}},
		{Method: "DELETE", Template: "/users/{id}", Count: 1,
			Examples:    []string{"/users/9"},
			StatusCodes: []StatusCount{{0, 1}}},
	}
	got := g.Groups()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Groups() =\n%+v\nwant\n%+v", got, want)
	}
	if g.Total() != 11 {
		t.Errorf("Total() = %d, want 11", g.Total())
	}
}

func TestGrouperOtherBucket(t *testing.T) {
	g := NewGrouper(Options{MaxTemplates: 2, MaxExamples: 2})
	g.Add("GET", "/a", 200)
	g.Add("GET", "/b", 200)
	g.Add("GET", "/a", 200) // existing groups still count after the cap
	g.Add("GET", "/c", 200)
	g.Add("PUT", "/a", 503) // a new method is a new group too
	g.Add("GET", "/d", 200)
	g.Add(strings.Repeat("X", MaxMethodLen+1), "/a", 200)

	got := g.Groups()
	if len(got) != 3 {
		t.Fatalf("got %d groups, want 3: %+v", len(got), got)
	}
	if got[0].Template != "/a" || got[0].Count != 2 || got[1].Template != "/b" || got[1].Count != 1 {
		t.Errorf("kept groups = %+v, %+v; want /a x2, /b x1", got[0], got[1])
	}
	other := got[2]
	if !other.IsOther() || other.Count != 4 {
		t.Errorf("other bucket = %+v, want %s %s x4", other, OtherMethod, OtherTemplate)
	}
	if want := []string{"/c", "/a"}; !reflect.DeepEqual(other.Examples, want) {
		t.Errorf("other examples = %q, want %q", other.Examples, want)
	}
	if want := []StatusCount{{200, 3}, {503, 1}}; !reflect.DeepEqual(other.StatusCodes, want) {
		t.Errorf("other status codes = %v, want %v", other.StatusCodes, want)
	}
}

func TestGrouperOtherBucketSortsLast(t *testing.T) {
	g := NewGrouper(Options{MaxTemplates: 1})
	g.Add("GET", "/a", 200)
	for i := range 10 {
		g.Add("GET", "/b"+strings.Repeat("x", i), 200)
	}
	got := g.Groups()
	if len(got) != 2 || got[0].Template != "/a" || !got[1].IsOther() || got[1].Count != 10 {
		t.Errorf("Groups() = %+v, want /a then the other bucket with 10", got)
	}
}

func TestGrouperNoOtherBucketWhenUnused(t *testing.T) {
	g := NewGrouper(Options{MaxTemplates: 1})
	g.Add("GET", "/a", 200)
	for _, gr := range g.Groups() {
		if gr.IsOther() {
			t.Errorf("unexpected other bucket %+v", gr)
		}
	}
}

func TestGrouperExamples(t *testing.T) {
	g := NewGrouper(Options{MaxExamples: 2})
	g.Add("GET", "/u/1", 200)
	g.Add("GET", "/u/1?again", 200) // same path once the query is dropped
	g.Add("GET", "/u/2", 200)
	g.Add("GET", "/u/3", 200)
	got := g.Groups()[0].Examples
	if want := []string{"/u/1", "/u/2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("examples = %q, want %q", got, want)
	}

	long := "/a/" + strings.Repeat("x", 3*MaxPathLen)
	g.Add("GET", long, 200)
	for _, gr := range g.Groups() {
		if gr.Template == "/a/"+RestPlaceholder {
			if len(gr.Examples) != 1 || len(gr.Examples[0]) != MaxPathLen {
				t.Errorf("long example kept as %d bytes, want %d", len(gr.Examples[0]), MaxPathLen)
			}
		}
	}
}

func TestGrouperStatusCodeCap(t *testing.T) {
	g := NewGrouper(Options{MaxStatusCodes: 3})
	for _, code := range []int{500, 200, 200, 0, 404, 503, 404, 200} {
		g.Add("GET", "/x", code)
	}
	gr := g.Groups()[0]
	if want := []StatusCount{{0, 1}, {200, 3}, {500, 1}}; !reflect.DeepEqual(gr.StatusCodes, want) {
		t.Errorf("status codes = %v, want %v", gr.StatusCodes, want)
	}
	if gr.OtherStatus != 3 {
		t.Errorf("OtherStatus = %d, want 3 (404, 503, 404)", gr.OtherStatus)
	}
}

func TestGrouperGroupsIsACopy(t *testing.T) {
	g := NewGrouper(Options{})
	g.Add("GET", "/u/1", 200)
	first := g.Groups()
	first[0].Examples[0] = "mutated"
	first[0].StatusCodes[0].Count = 99
	again := g.Groups()
	if again[0].Examples[0] != "/u/1" || again[0].StatusCodes[0].Count != 1 {
		t.Errorf("Groups() shares state with the Grouper: %+v", again[0])
	}
}

func TestGrouperTieOrder(t *testing.T) {
	g := NewGrouper(Options{})
	g.Add("POST", "/b", 200)
	g.Add("GET", "/b", 200)
	g.Add("GET", "/a", 200)
	var got []string
	for _, gr := range g.Groups() {
		got = append(got, gr.Method+" "+gr.Template)
	}
	if want := []string{"GET /a", "GET /b", "POST /b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("order = %q, want %q", got, want)
	}
}

func TestGrouperAddExistingDoesNotAllocate(t *testing.T) {
	g := NewGrouper(Options{})
	paths := []string{
		"/users/42/orders/123e4567-e89b-12d3-a456-426614174000",
		"/emojivoto.v1.VotingService/VoteDoughnut",
		"/books/1.json?x=y",
	}
	for _, p := range paths {
		g.Add("GET", p, 200)
		g.Add("GET", p, 0)
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		g.Add("GET", paths[i%len(paths)], 200)
		i++
	})
	if allocs != 0 {
		t.Errorf("Add to an existing group allocated %.2f times per call, want 0", allocs)
	}
}
