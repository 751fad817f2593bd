package unmatched

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

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

func (o *Options) print(s *tapsession.Session, c *collector) error {
	svcs := c.services()
	if len(svcs) == 0 {
		fmt.Fprintln(o.Streams.ErrOut, "no unmatched requests")
		return nil
	}
	if o.Output == cli.OutputYAML {
		files, _ := s.Classifier.Source.(*tapprofile.Files)
		return o.printYAML(o.Streams.Out, c, svcs, files)
	}
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
		sp := template.ProfileFor(svc.Name, svc.Namespace, o.Dest.ClusterDomain, groups)
		fresh := len(sp.Spec.Routes)
		var base *profile.ServiceProfile
		if files != nil {
			base = files.Find(sp.Name, svc.Namespace)
		}
		if base != nil {
			sp = merge(base, sp)
		}
		out, err := yaml.Marshal(sp)
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(w, "---")
		}
		total := 0
		for _, g := range groups {
			total += g.Count
		}
		fmt.Fprintf(w, "# %d route(s) for %d unmatched request(s) to %s, from kubectl profiles unmatched.\n", fresh, total, cli.Escape(sp.Name))
		switch {
		case base != nil:
			fmt.Fprintf(w, "# The routes of --profile come first, unchanged; the new ones are appended. Review before applying.\n")
		case c.hasRoutes[svc]:
			fmt.Fprintf(w, "# %s already has routes: merge these into it; applying this file would replace them.\n", cli.Escape(sp.Name))
			fmt.Fprintf(o.Streams.ErrOut, "warning: %s already has a ServiceProfile with routes: merge the printed routes into it instead of applying the file as is\n", cli.Escape(sp.Name))
		default:
			fmt.Fprintf(w, "# Review before applying.\n")
		}
		if _, err := w.Write(out); err != nil {
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
