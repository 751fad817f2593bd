package proxy

import "fmt"

// Drop is one thing the proxy discards from a served profile, and why.
type Drop struct {
	// Route is the route's index in the served profile, or -1 for
	// profile-level fields (retry_budget, dst_overrides, the name).
	Route int
	// RouteName is the route's metrics_labels["route"], if any.
	RouteName string
	// Field locates the dropped part, e.g. "condition.all[1].path".
	Field string
	// Reason is one sentence: what is wrong and what the proxy does.
	Reason string
}

// String renders a drop on one line, e.g.
// `route 2 "GET /books/{id}" condition.path: regex "/books/(?=x)" does not compile ...`.
func (d Drop) String() string {
	if d.Route < 0 {
		return fmt.Sprintf("profile %s: %s", d.Field, d.Reason)
	}
	name := ""
	if d.RouteName != "" {
		name = fmt.Sprintf(" %q", d.RouteName)
	}
	return fmt.Sprintf("route %d%s %s: %s", d.Route, name, d.Field, d.Reason)
}
