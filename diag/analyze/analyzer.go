package analyze

import (
	"fmt"
	"sort"

	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// Scope is a set of kinds of facts. An analyzer declares the facts it
// needs; `get` and `check` run every registered analyzer whose needs the
// facts they have meet, so both run the same rules.
type Scope uint8

const (
	// Unparsed: a document that is not valid YAML (Facts.Doc.Err).
	Unparsed Scope = 1 << iota
	// Written: the object as written (a file, or the object read from the
	// cluster): raw fields, positions. Only `check` has it.
	Written
	// Decoded: a ServiceProfile as the controller decodes it, its
	// translation to a DestinationProfile and what the proxy keeps of that.
	Decoded
	// InCluster: the Service the profile is for, HTTPRoutes attached to it
	// and the other ServiceProfiles (model.Cluster).
	InCluster
	// Served: one live GetProfile lookup and what the destination answered.
	// Only `get` has it.
	Served
	// PolicyPath: what the policy controller indexes for one Service port
	// and client (routes, statuses, Service annotations) and, for `get`,
	// what it served (Facts.PolicyPath).
	PolicyPath
	// ControlPlane: the destination's own metrics about one port's profile
	// (diag/ctrlplane). Only `get` has it.
	ControlPlane
)

// Analyzer is one rule: the codes it may emit, the facts it needs and a
// function over plain data.
type Analyzer struct {
	Name string
	// Codes are the only codes Run may emit; each code's level is its
	// registered one (finding.Register), never chosen here.
	Codes []string
	// Needs lists alternatives: the analyzer runs when the facts contain
	// every kind of any one of them.
	Needs []Scope
	Run   func(f *Facts, e *Emitter)
}

var analyzers = map[string]*Analyzer{}

// register adds an analyzer at init. Duplicate names, unregistered codes
// and codes claimed by two analyzers are programming errors.
func register(a Analyzer) *Analyzer {
	if _, dup := analyzers[a.Name]; dup {
		panic("analyze: duplicate analyzer " + a.Name)
	}
	if len(a.Codes) == 0 || len(a.Needs) == 0 || a.Run == nil {
		panic("analyze: analyzer " + a.Name + " needs codes, needs and a function")
	}
	for _, c := range a.Codes {
		if _, ok := finding.Lookup(c); !ok {
			panic("analyze: analyzer " + a.Name + " emits unregistered code " + c)
		}
		for _, other := range analyzers {
			for _, oc := range other.Codes {
				if oc == c {
					panic("analyze: code " + c + " claimed by " + other.Name + " and " + a.Name)
				}
			}
		}
	}
	p := &a
	analyzers[a.Name] = p
	return p
}

// Analyzers lists every registered analyzer, by name.
func Analyzers() []*Analyzer {
	out := make([]*Analyzer, 0, len(analyzers))
	for _, a := range analyzers {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Applies tells whether the facts meet one of the analyzer's needs.
func (a *Analyzer) Applies(have Scope) bool {
	for _, n := range a.Needs {
		if have&n == n {
			return true
		}
	}
	return false
}

// Run runs every analyzer that applies to f and returns the issues, sorted.
func Run(f *Facts) []Issue {
	var out []Issue
	for _, a := range Analyzers() {
		if !a.Applies(f.Scope) {
			continue
		}
		e := &Emitter{a: a, f: f}
		a.Run(f, e)
		out = append(out, e.out...)
	}
	sortIssues(out)
	return out
}

// Emitter collects an analyzer's findings, with the level of their code
// and, for findings inside spec.routes, the route's index and name.
type Emitter struct {
	a   *Analyzer
	f   *Facts
	out []Issue
}

// At reports code about the field at path ("" path: the whole object).
func (e *Emitter) At(code string, path source.Path, format string, args ...interface{}) {
	e.add(code, path, fmt.Sprintf(format, args...))
}

func (e *Emitter) add(code string, path source.Path, msg string) {
	declared := false
	for _, c := range e.a.Codes {
		declared = declared || c == code
	}
	spec, ok := finding.Lookup(code)
	if !declared || !ok {
		panic("analyze: analyzer " + e.a.Name + " emitted undeclared code " + code) // caught by any test
	}
	if e.f.Doc != nil && e.f.Doc.Object != nil {
		path = existing(e.f.Doc.Object, path)
	}
	ri, name := e.f.routeOf(path)
	iss := Issue{Finding: finding.Finding{Code: code, Level: spec.Level, Message: msg, RouteIndex: ri, Route: name}, Field: path.String()}
	if e.f.Doc != nil && e.f.Doc.File != "" {
		iss.Line = e.f.Doc.LineOf(path)
	}
	e.out = append(e.out, iss)
}

// existing trims path to the part that exists in obj: translated and
// proxy paths can name parts the spec does not have (e.g. the `all` that
// wraps a condition with several fields).
func existing(obj map[string]interface{}, path source.Path) source.Path {
	var v interface{} = obj
	for i, e := range path {
		switch k := e.(type) {
		case string:
			m, ok := v.(map[string]interface{})
			if !ok {
				return path[:i]
			}
			if v, ok = m[k]; !ok {
				return path[:i]
			}
		case int:
			l, ok := v.([]interface{})
			if !ok || k < 0 || k >= len(l) {
				return path[:i]
			}
			v = l[k]
		}
	}
	return path
}

func routePath(i int, rest ...interface{}) source.Path {
	return source.Path{"spec", "routes", i}.Append(rest...)
}
