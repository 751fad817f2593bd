package analyze

import "testing"

// What the API server does with missing, null and null-item values, as
// observed with server-side dry runs against the real kube-apiserver and the
// ServiceProfile CRD (plugin/check TestDryRunMatchesAPIServer): a null field
// is dropped and then counts as absent for `required`, a null list item is
// rejected where the CRD types the items, and nothing is checked inside the
// nested conditions the CRD preserves.
func TestSchemaRequiredAndNulls(t *testing.T) {
	cases := []struct {
		name, spec string
		rejected   bool
	}{
		{"missing condition", "  routes:\n  - name: r\n", true},
		{"null condition", "  routes:\n  - {name: r, condition: null}\n", true},
		{"null name", "  routes:\n  - {name: null, condition: {method: GET}}\n", true},
		{"missing ttl", okRoute + "  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10}\n", true},
		{"null ttl", okRoute + "  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: null}\n", true},
		{"null route", "  routes: [null]\n", true},
		{"null in all", "  routes:\n  - {name: r, condition: {all: [null]}}\n", true},
		{"null override", "  dstOverrides: [null]\n", true},
		// near misses
		{"empty ttl", okRoute + "  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: ''}\n", false},
		{"null routes", "  routes: null\n", false},
		{"null inside a preserved condition", "  routes:\n  - {name: r, condition: {any: [{all: [null]}]}}\n", false},
		{"null timeout", "  routes:\n  - {name: r, condition: {method: GET}, timeout: null}\n", false},
	}
	for _, c := range cases {
		got := len(issuesOf(checkString(t, sp(c.spec), false), CodeSchemaInvalid)) > 0
		if got != c.rejected {
			t.Errorf("%s: schema-invalid = %v, want %v", c.name, got, c.rejected)
		}
	}
}
