package analyze

import "testing"

// One part the destination cannot translate must not hide what is wrong
// with the rest of the profile.
func TestUnservableHidesNothing(t *testing.T) {
	for _, c := range []struct{ name, spec string }{
		{"route without condition", "  routes:\n  - name: bad\n    condition: {}\n  - name: POST /orders\n    condition: {method: POST, pathRegex: /orders}\n    isRetryable: true\n  - name: GET /x\n    condition: {method: GET, pathRegex: '/x/.*'}\n  - name: GET /x/y\n    condition: {method: GET, pathRegex: /x/y}\n"},
		{"retry budget ttl", "  routes:\n  - name: POST /orders\n    condition: {method: POST, pathRegex: /orders}\n    isRetryable: true\n  - name: GET /x\n    condition: {method: GET, pathRegex: '/x/.*'}\n  - name: GET /x/y\n    condition: {method: GET, pathRegex: /x/y}\n  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: soon}\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := checkString(t, sp(c.spec), false)
			for _, code := range []string{CodeUnservable, CodeRetryNonIdempotent, CodeRouteUnreachable} {
				if len(issuesOf(r, code)) == 0 {
					t.Errorf("no %s in %s", code, renderResults([]Result{r}))
				}
			}
			for _, is := range r.Issues {
				if is.Route == "(unservable)" {
					t.Errorf("a placeholder route leaked into a finding: %+v", is)
				}
			}
		})
	}
}
