package unmatched

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/template"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapprofile"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapsession"
)

// services returns the services that have unmatched requests, sorted.
func (c *collector) services() []Service {
	out := slices.Clone(c.order)
	slices.SortFunc(out, func(a, b Service) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	return out
}

// print writes the result. Requests that could not be classified are
// said on stdout too (a "# " line), so the result never reads as complete
// when it is not; when no request at all could be classified there is no
// result, and the run fails (exit 1).
func (o *Options) print(s *tapsession.Session, c *collector, elapsed time.Duration) error {
	t := &c.tally
	unclassified := t.Unclassified()
	note := func() {
		if unclassified != "" {
			fmt.Fprintf(o.Streams.Out, "# %s\n", cli.Escape(unclassified))
		}
	}
	switch {
	case t.Requests == 0 && s.NothingSeen(o.sampleDuration()) != nil:
		return s.NothingSeen(o.sampleDuration())
	case t.Requests == 0:
		return &cli.Error{Code: cli.ExitError, Err: fmt.Errorf("%s: nothing was classified, so this is no evidence that every request matches a route%s",
			o.nothingSeen(s, elapsed), o.otherDirection(s, c))}
	case t.Classified() == 0:
		note()
		hint := "see the warnings above"
		noService := t.Count(tapprofile.ReasonNoService)
		unroutable := t.Count(template.UnroutablePath) + t.Count(template.UnroutableMethod)
		switch {
		case noService+unroutable != t.Unknown:
		case noService == 0:
			hint = "no route can match such a request: is this a capture of real traffic?"
		case s.Request.To == nil:
			hint = "a request served names a Service only through the l5d-dst-canonical header a meshed client adds, or a full <svc>.<ns>.svc.<domain> authority (README, tap)"
		default:
			hint = "a call names a Service through the destination's service label or its authority, not an IP address or a pod name (README, tap)"
		}
		return &cli.Error{Code: cli.ExitError, Err: fmt.Errorf("none of the %d requests could be classified (%s), so nothing is known about unmatched ones: %s",
			t.Requests, t.Reasons(), hint)}
	}
	svcs := c.services()
	if len(svcs) == 0 {
		note()
		if unclassified != "" {
			fmt.Fprintf(o.Streams.ErrOut, "no unmatched requests among the %d classified; %s\n", t.Classified(), cli.Escape(unclassified))
		} else {
			fmt.Fprintln(o.Streams.ErrOut, "no unmatched requests")
		}
		return nil
	}
	if o.Output == cli.OutputYAML {
		note() // a comment before the first document
		files, _ := s.Classifier.Source.(*tapprofile.Files)
		return o.printYAML(o.Streams.Out, c, svcs, files)
	}
	defer note()
	for i, svc := range svcs {
		if len(svcs) > 1 {
			if i > 0 {
				fmt.Fprintln(o.Streams.Out)
			}
			fmt.Fprintf(o.Streams.Out, "==> %s <==\n", cli.Escape(profile.FQDN(svc.Name, svc.Namespace, o.Dest.ClusterDomain)))
		}
		if err := writeTable(o.Streams.Out, c.groupers[svc].Groups(), cli.TermOf(o.Streams.Out).Width); err != nil {
			return err
		}
	}
	return nil
}

// nothingSeen names what a run that saw no request read.
func (o *Options) nothingSeen(s *tapsession.Session, elapsed time.Duration) string {
	if !s.Live {
		return fmt.Sprintf("no requests in %s (after the filters)", cli.Escape(o.File))
	}
	return fmt.Sprintf("no requests sampled in %s (is traffic flowing to %s?)", elapsed.Round(100*time.Millisecond), cli.Escape(s.Request.Target.String()))
}

// otherDirection explains requests left out for their direction.
func (o *Options) otherDirection(s *tapsession.Session, c *collector) string {
	n := c.c.other.Load()
	switch {
	case n == 0:
		return ""
	case s.Request.To == nil:
		return fmt.Sprintf("; %d outbound requests were left out: without --to only the requests the workload serves count (add --to to look at its calls)", n)
	}
	return fmt.Sprintf("; %d inbound requests were left out: with --to only the workload's calls to it count", n)
}

// writeTable prints METHOD TEMPLATE COUNT EXAMPLE PATH STATUS CODES, most
// frequent first, the other bucket last. Cells are escaped by cli.Table;
// width > 0 (a terminal) wraps the last column to fit.
func writeTable(w io.Writer, groups []template.Group, width int) error {
	rows := make([][]string, 0, len(groups))
	for _, g := range groups {
		example := ""
		if len(g.Examples) > 0 {
			example = g.Examples[0]
		}
		rows = append(rows, []string{g.Method, g.Template, strconv.Itoa(g.Count), example, statusCodes(g)})
	}
	return cli.Table(w, []string{"METHOD", "TEMPLATE", "COUNT", "EXAMPLE PATH", "STATUS CODES"}, rows, width)
}

// statusCodes renders "200=12 404=3 none=2": none counts requests whose
// response was not seen (reset, or still open when sampling stopped),
// other those beyond the codes tracked per group.
func statusCodes(g template.Group) string {
	var parts []string
	none := 0
	for _, sc := range g.StatusCodes {
		if sc.Code == 0 {
			none = sc.Count
			continue
		}
		parts = append(parts, strconv.Itoa(sc.Code)+"="+strconv.Itoa(sc.Count))
	}
	if none > 0 {
		parts = append(parts, "none="+strconv.Itoa(none))
	}
	if g.OtherStatus > 0 {
		parts = append(parts, "other="+strconv.Itoa(g.OtherStatus))
	}
	return strings.Join(parts, " ")
}

// printYAML prints one ServiceProfile per Service. With --profile, the
// file's profile for the Service is the base and the new routes are
// appended (first match wins, so requests that matched before keep their
// route); otherwise the profile holds only the new routes.
func (o *Options) printYAML(w io.Writer, c *collector, svcs []Service, files *tapprofile.Files) error {
	for i, svc := range svcs {
		groups := c.groupers[svc].Groups()
		if st := c.policy[c.lookup[svc]]; st != nil {
			if i > 0 {
				fmt.Fprintln(w, "---")
			}
			if err := o.printPolicyYAML(w, svc, c.lookup[svc], st, groups); err != nil {
				return err
			}
			continue
		}
		sp := template.ProfileFor(svc.Name, svc.Namespace, o.Dest.ClusterDomain, groups)
		fresh := len(sp.Spec.Routes)
		var base *profile.ServiceProfile
		if files != nil {
			base = files.InEffect(c.lookup[svc])
		}
		if base != nil {
			sp = merge(base, sp)
		}
		var out bytes.Buffer // as every -o yaml: every character survives
		if err := cli.WriteYAML(&out, sp); err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(w, "---")
		}
		cov := template.CoverageOf(groups)
		fmt.Fprintf(w, "# %d route(s) covering %d of %d unmatched request(s) to %s, from kubectl profiles unmatched.\n", fresh, cov.Covered, cov.Total, cli.Escape(sp.Name))
		if cov.Other > 0 {
			fmt.Fprintf(w, "# %d request(s) fell into \"%s %s\" (templates beyond the first %d, or an overlong method): no route is proposed for them; narrow the run (--path, --method) and run again.\n",
				cov.Other, template.OtherMethod, template.OtherTemplate, template.DefaultMaxTemplates)
		}
		if cov.CatchAll > 0 {
			fmt.Fprintf(w, "# %d request(s) have a first path segment over %d bytes: no route is proposed for them (it would match every path).\n", cov.CatchAll, template.MaxPathLen)
		}
		switch {
		case base != nil:
			fmt.Fprintf(w, "# The routes of --profile come first, unchanged; the new ones are appended. Review before applying.\n")
		case c.hasRoutes[svc]:
			fmt.Fprintf(w, "# %s already has routes: merge these into it; applying this file would replace them.\n", cli.Escape(sp.Name))
			fmt.Fprintf(o.Streams.ErrOut, "warning: %s already has a ServiceProfile with routes: merge the printed routes into it instead of applying the file as is\n", cli.Escape(sp.Name))
		default:
			fmt.Fprintf(w, "# Review before applying.\n")
		}
		if _, err := w.Write(out.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// merge appends fresh's routes to a copy of base, skipping names base
// already uses.
func merge(base, fresh *profile.ServiceProfile) *profile.ServiceProfile {
	cp := *base // shallow: only the routes slice is changed, and it is cloned
	out := &cp
	out.TypeMeta = fresh.TypeMeta
	out.Spec.Routes = slices.Clone(base.Spec.Routes)
	out.ResourceVersion, out.UID, out.CreationTimestamp, out.Generation, out.ManagedFields = "", "", fresh.CreationTimestamp, 0, nil
	names := map[string]bool{}
	for _, r := range out.Spec.Routes {
		if r != nil {
			names[r.Name] = true
		}
	}
	for _, r := range fresh.Spec.Routes {
		if !names[r.Name] {
			out.Spec.Routes = append(out.Spec.Routes, r)
		}
	}
	return out
}
