package analyze

import (
	"strconv"
	"strings"

	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// Issue is a finding located in a ServiceProfile object.
type Issue struct {
	finding.Finding
	// Field is the path of the offending field, e.g. spec.routes[2].timeout
	// ("" for the whole object).
	Field string
	// Line is the 1-based line of Field in the file, 0 when unknown.
	Line int
}

// Origin says where a checked object comes from.
type Origin struct {
	File      string // "" for objects read from the cluster, "-" for stdin
	Line      int
	Namespace string // "" when the file does not say and no default was given
	Name      string
}

// Result is what Check found in one object.
type Result struct {
	Origin
	// Profile is false for documents that could not be read at all
	// (yaml-invalid): they are not counted as checked profiles.
	Profile bool
	// PolicyResource: an HTTPRoute, GRPCRoute or Service checked for the
	// policy path (CheckPolicy).
	PolicyResource bool
	Issues         []Issue
}

// The cluster facts the analyzers read are the model's.
type (
	NamespacedName = model.NamespacedName
	HTTPRoute      = model.HTTPRoute
	Cluster        = model.Cluster
)

// IsServiceProfile tells whether doc is a linkerd.io ServiceProfile (any
// version). Other objects are not checked.
func IsServiceProfile(doc *source.Document) bool {
	if doc.Err != nil {
		return false
	}
	group, _, _ := strings.Cut(doc.APIVersion(), "/")
	return doc.Kind() == profile.Kind && group == profile.Group
}

// Check runs every analyzer that applies to doc. A document that is not
// valid YAML gives one yaml-invalid issue.
func Check(doc *source.Document, opts Options) Result {
	f := ObjectFacts(doc, opts)
	res := Result{Origin: Origin{File: doc.File, Line: doc.Line, Namespace: f.Namespace, Name: f.Name}}
	res.Profile = doc.Err == nil
	res.Issues = Run(f)
	return res
}

// parseFieldPath reads "spec.routes[2].condition" back into a Path.
func parseFieldPath(s string) source.Path {
	var out source.Path
	for _, part := range strings.Split(s, ".") {
		for part != "" {
			i := strings.IndexByte(part, '[')
			if i < 0 {
				out = append(out, part)
				break
			}
			if i > 0 {
				out = append(out, part[:i])
			}
			j := strings.IndexByte(part, ']')
			if j < i {
				break
			}
			if n, err := strconv.Atoi(part[i+1 : j]); err == nil {
				out = append(out, n)
			}
			part = part[j+1:]
		}
	}
	return out
}

// sortIssues orders issues like finding.Sort (worst first, then route,
// then code), then by line and message so output is stable.
func sortIssues(is []Issue) {
	less := func(a, b Issue) bool {
		if a.Level != b.Level {
			return a.Level > b.Level
		}
		if a.RouteIndex != b.RouteIndex {
			return a.RouteIndex < b.RouteIndex
		}
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Message < b.Message
	}
	for i := 1; i < len(is); i++ {
		for j := i; j > 0 && less(is[j], is[j-1]); j-- {
			is[j], is[j-1] = is[j-1], is[j]
		}
	}
}
