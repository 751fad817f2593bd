package tapprofile

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// maxReasons bounds the distinct reasons a Tally keeps; further ones are
// counted as "other reasons".
const maxReasons = 32

// Tally counts the requests a run classified and, for those it could not,
// why. tap and unmatched both conclude with it, so a run never reads as an
// all-clear when part of its traffic was not classified.
type Tally struct {
	// Requests is the number of requests counted; Unknown how many of
	// them could not be classified.
	Requests, Unknown int
	reasons           map[string]int
}

// Add counts one classified request.
func (t *Tally) Add(res Result) {
	t.Requests++
	if res.Status != Unknown {
		return
	}
	t.Unknown++
	if t.reasons == nil {
		t.reasons = map[string]int{}
	}
	r := res.Reason
	if r == "" {
		r = "unknown"
	}
	if _, ok := t.reasons[r]; !ok && len(t.reasons) >= maxReasons {
		r = "other reasons"
	}
	t.reasons[r]++
}

// Count is the number of requests not classified for reason.
func (t *Tally) Count(reason string) int { return t.reasons[reason] }

// Classified is the number of requests whose route is known.
func (t *Tally) Classified() int { return t.Requests - t.Unknown }

// Reasons renders the reasons, most frequent first:
// "no Service name in the request: 10, profile lookup silent: 2".
func (t *Tally) Reasons() string {
	type rc struct {
		r string
		n int
	}
	list := make([]rc, 0, len(t.reasons))
	for r, n := range t.reasons {
		list = append(list, rc{r, n})
	}
	slices.SortFunc(list, func(a, b rc) int { return cmp.Or(cmp.Compare(b.n, a.n), strings.Compare(a.r, b.r)) })
	parts := make([]string, len(list))
	for i, e := range list {
		parts[i] = fmt.Sprintf("%s: %d", e.r, e.n)
	}
	return strings.Join(parts, ", ")
}

// Unclassified says how many requests could not be classified and why
// ("12 of 15 requests could not be classified: no Service name in the
// request: 10, profile lookup silent: 2"), or "" when all were.
func (t *Tally) Unclassified() string {
	if t.Unknown == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d requests could not be classified: %s", t.Unknown, t.Requests, t.Reasons())
}
