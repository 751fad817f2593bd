package check

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kubectl-profiles/kubectl-profiles/diag/analyze"
	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

// Output is the -o json|yaml contract of check. Fields are only ever added.
type Output struct {
	Findings []Finding `json:"findings"`
	Summary  Summary   `json:"summary"`
}

// Finding is one finding with where it applies.
type Finding struct {
	Code    string        `json:"code"`
	Level   finding.Level `json:"level"`
	Message string        `json:"message"`
	Origin  Origin        `json:"origin"`
}

// Origin locates a finding: the file and line (file mode) or nothing
// (cluster mode), the profile's namespace and name, the route, and the
// field path inside the object.
type Origin struct {
	File       string `json:"file,omitempty"`
	Line       int    `json:"line,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name,omitempty"`
	Route      string `json:"route,omitempty"`
	RouteIndex *int   `json:"routeIndex,omitempty"`
	Field      string `json:"field,omitempty"`
}

// Summary counts what was checked and found.
type Summary struct {
	Profiles int `json:"profiles"`
	// PolicyResources counts HTTPRoutes, GRPCRoutes and Services checked
	// for the policy path.
	PolicyResources int    `json:"policyResources"`
	Errors          int    `json:"errors"`
	Warnings        int    `json:"warnings"`
	Infos           int    `json:"infos"`
	FailOn          string `json:"failOn"`
	// Failed is true when a finding reached FailOn (exit status 3).
	Failed bool `json:"failed"`
	// Unread lists what the cluster did not let the run read (e.g. routes
	// RBAC does not let you list): findings about it may be missing.
	Unread []string `json:"unread,omitempty"`
}

func buildOutput(results []analyze.Result, failOn finding.Level) Output {
	out := Output{Findings: []Finding{}, Summary: Summary{FailOn: failOn.String()}}
	for _, r := range results {
		if r.Profile {
			out.Summary.Profiles++
		}
		if r.PolicyResource {
			out.Summary.PolicyResources++
		}
		for _, is := range r.Issues {
			f := Finding{Code: is.Code, Level: is.Level, Message: is.Message, Origin: Origin{
				File: r.File, Line: is.Line, Namespace: r.Namespace, Name: r.Name, Route: is.Route, Field: is.Field,
			}}
			if f.Origin.Line == 0 && r.File != "" {
				f.Origin.Line = r.Line
			}
			if is.RouteIndex >= 0 {
				i := is.RouteIndex
				f.Origin.RouteIndex = &i
			}
			switch is.Level {
			case finding.Error:
				out.Summary.Errors++
			case finding.Warning:
				out.Summary.Warnings++
			default:
				out.Summary.Infos++
			}
			if is.Level >= failOn {
				out.Summary.Failed = true
			}
			out.Findings = append(out.Findings, f)
		}
	}
	return out
}

// report prints the findings and turns --fail-on into the exit status.
func (o *Options) report(results []analyze.Result, scope string) error {
	out := buildOutput(results, o.failOn)
	out.Summary.Unread = slices.Compact(slices.Sorted(slices.Values(o.unread))) // both halves list the same routes
	var err error
	switch o.Output {
	case "json":
		err = cli.WriteJSON(o.Streams.Out, out)
	case "yaml":
		err = cli.WriteYAML(o.Streams.Out, out)
	default:
		err = writeText(o.Streams.Out, out, cli.TermOf(o.Streams.Out))
	}
	if err != nil {
		return err
	}
	s := out.Summary
	switch {
	case s.Profiles == 0 && s.PolicyResources == 0 && len(out.Findings) == 0 && len(s.Unread) == 0:
		fmt.Fprintf(o.Streams.ErrOut, "No ServiceProfiles found in %s.\n", scope)
	case s.Profiles == 0 && s.PolicyResources == 0 && len(out.Findings) == 0:
		fmt.Fprintf(o.Streams.ErrOut, "No ServiceProfiles found in %s, and not everything could be read (%s).\n", scope, unreadSummary(s.Unread))
	case len(out.Findings) == 0 && len(s.Unread) == 0:
		fmt.Fprintf(o.Streams.ErrOut, "✔ No problems found in %s.\n", checked(s))
	case len(out.Findings) == 0:
		fmt.Fprintf(o.Streams.ErrOut, "No problems found in %s, but not everything could be read (%s): findings about it may be missing.\n", checked(s), unreadSummary(s.Unread))
	case len(s.Unread) > 0:
		fmt.Fprintf(o.Streams.ErrOut, "%s in %s; not everything could be read (%s): findings about it may be missing.\n", counts(s), checked(s), unreadSummary(s.Unread))
	default:
		fmt.Fprintf(o.Streams.ErrOut, "%s in %s.\n", counts(s), checked(s))
	}
	if s.Failed {
		return cli.Findings("findings at or above --fail-on %s (%s)", s.FailOn, counts(s))
	}
	return nil
}

// unreadSummary names the first unread item, without its explanation, and
// how many more there are (the warning line above has them in full).
func unreadSummary(unread []string) string {
	first, _, _ := strings.Cut(cli.OneLine(unread[0]), " (")
	first = cli.Escape(first)
	if len(unread) == 1 {
		return first
	}
	return fmt.Sprintf("%s, and %d more", first, len(unread)-1)
}

// checked says what was checked: the ServiceProfiles, and the policy
// resources when there were any.
func checked(s Summary) string {
	if s.PolicyResources == 0 {
		return plural(s.Profiles, "ServiceProfile")
	}
	return plural(s.Profiles, "ServiceProfile") + " and " + plural(s.PolicyResources, "policy resource")
}

func counts(s Summary) string {
	return fmt.Sprintf("%s, %s, %s", plural(s.Errors, "error"), plural(s.Warnings, "warning"), plural(s.Infos, "info"))
}

func plural(n int, word string) string {
	if n == 1 || word == "info" {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// writeText prints one line per finding, istioctl-style, grouped by
// profile in input order:
//
//	Error [code] (books/web.books.svc.cluster.local routes[2] "GET /x", f.yaml:14) message
//
// On a terminal the level word is coloured (after escaping: the colour
// codes are the only escapes that reach it).
func writeText(w io.Writer, out Output, term cli.Term) error {
	for _, f := range out.Findings {
		line := fmt.Sprintf("%s [%s] (%s) %s\n", title(f.Level), f.Code, origin(f.Origin), cli.Escape(f.Message))
		if _, err := io.WriteString(w, term.ColorLevels(line)); err != nil {
			return err
		}
	}
	return nil
}

func title(l finding.Level) string {
	s := l.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

func origin(o Origin) string {
	var parts []string
	name := o.Name
	if o.Namespace != "" {
		name = o.Namespace + "/" + o.Name
	}
	if o.Name != "" {
		parts = append(parts, cli.Escape(name))
	}
	if o.RouteIndex != nil {
		r := fmt.Sprintf("routes[%d]", *o.RouteIndex)
		if o.Route != "" {
			r += " " + cli.Escape(fmt.Sprintf("%q", o.Route))
		}
		parts = append(parts, r)
	}
	where := strings.Join(parts, " ")
	if o.File != "" {
		file := cli.Escape(o.File)
		if o.File == "-" {
			file = "<stdin>"
		}
		if o.Line > 0 {
			file = fmt.Sprintf("%s:%d", file, o.Line)
		}
		if where != "" {
			where += ", "
		}
		where += file
	}
	return where
}
