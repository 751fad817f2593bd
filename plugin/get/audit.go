package get

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/report"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/destination"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
	"golang.org/x/term"
)

// runAudit looks up every Service that has a ServiceProfile (or every
// Service with --all-services) in scope, as seen from the service's
// namespace and from each namespace holding an override.
func (o *Options) runAudit(ctx context.Context, e *env) error {
	ns := e.ns
	if o.AllNamespaces {
		ns = metav1.NamespaceAll
	}
	if err := e.connect(ctx); err != nil {
		return err
	}
	svcs, err := listServices(ctx, e, ns)
	if err != nil {
		return err
	}
	// Overrides may live anywhere, so profiles are listed cluster-wide when
	// allowed (falling back to the audited namespace).
	// With -A there is no fallback: a refused cluster-wide list must fail,
	// not look like a cluster without profiles.
	fallback := []string{e.ns}
	if o.AllNamespaces {
		fallback = nil
	}
	all, partial, err := kube.ListProfiles(ctx, e.dyn, "", fallback)
	if err != nil {
		return err
	}
	e.warn(partial.Warning("client-side overrides in other namespaces are not shown"))
	// The same findings as a single get, from data already read: near-miss
	// names among the profiles of each service's namespace, and HTTPRoutes
	// (one more list).
	known := map[report.NamespacedName]bool{}
	for _, svc := range svcs {
		known[report.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}] = true
	}
	byFQDN := map[string][]expect.Candidate{}
	suspects := map[string][]report.NamespacedName{} // per namespace
	for _, c := range all {
		byFQDN[c.Name] = append(byFQDN[c.Name], c)
		// The profile of an existing Service is never a near miss of
		// another one: checking only the rest keeps this linear.
		if ref, ok := profile.ParseFQDN(c.Name, o.Dest.ClusterDomain); ok && known[report.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}] {
			continue
		}
		suspects[c.Namespace] = append(suspects[c.Namespace], report.NamespacedName{Namespace: c.Namespace, Name: c.Name})
	}
	routes := kube.HTTPRoutes(ctx, e.dc, e.dyn, []string{ns})

	var inputs []report.Input
	var tokens []destination.Token
	for _, svc := range svcs {
		fqdn := profile.FQDN(svc.Name, svc.Namespace, o.Dest.ClusterDomain)
		cands := byFQDN[fqdn]
		if len(cands) == 0 && !o.AllServices {
			continue
		}
		s := kube.ToService(svc)
		views := append([]string{svc.Namespace}, expect.Overrides(s, o.Dest.ClusterDomain, cands)...)
		for _, client := range views {
			tok := destination.Token{Namespace: client}
			in := report.Input{Service: s, ClusterDomain: o.Dest.ClusterDomain, Candidates: cands,
				Client:         report.Client{Namespace: client, Token: tok.String()},
				NearbyProfiles: suspects[svc.Namespace], KnownServices: known,
				HTTPRoutes: routes[report.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}]}
			for _, p := range s.Ports {
				if o.Port == 0 || int(p.Port) == o.Port {
					in.Lookups = append(in.Lookups, report.PortLookup{Port: p.Port})
				}
			}
			if len(in.Lookups) == 0 {
				continue
			}
			inputs = append(inputs, in)
			tokens = append(tokens, tok)
		}
	}

	total := 0
	for _, in := range inputs {
		total += len(in.Lookups)
	}
	progress := o.progress(total)
	e.lookupAll(ctx, inputs, tokens, progress.tick)
	progress.done()
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted")
	}

	reports := make([]report.Report, len(inputs))
	for i := range inputs {
		reports[i] = report.Build(inputs[i])
	}
	SortReports(reports)
	switch o.Output {
	case cli.OutputJSON:
		return cli.WriteJSON(o.Streams.Out, reports)
	case cli.OutputYAML:
		return cli.WriteYAML(o.Streams.Out, reports)
	}
	if len(reports) == 0 {
		where := "namespace " + ns
		if ns == "" {
			where = "any namespace"
		}
		fmt.Fprintf(o.Streams.ErrOut, "No Service with a ServiceProfile in %s (use --all-services to audit every Service).\n", where)
		return nil
	}
	return cli.Table(o.Streams.Out, SummaryHeader(o.Output == cli.OutputWide), SummaryRows(reports, o.Output == cli.OutputWide), cli.TermOf(o.Streams.Out).Width)
}

func listServices(ctx context.Context, e *env, ns string) ([]*corev1.Service, error) {
	var out []*corev1.Service
	opts := metav1.ListOptions{Limit: 500}
	for {
		list, err := e.cs.CoreV1().Services(ns).List(ctx, opts)
		if err != nil {
			where := "in namespace " + ns
			if ns == "" {
				where = "in all namespaces"
			}
			return nil, kube.Explain(err, "list services "+where)
		}
		for i := range list.Items {
			out = append(out, &list.Items[i])
		}
		if list.Continue == "" {
			return out, nil
		}
		opts.Continue = list.Continue
	}
}

// SortReports orders reports by service namespace and name, the view from
// the service's own namespace first, then client namespaces by name.
func SortReports(rs []report.Report) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.Service.Namespace != b.Service.Namespace {
			return a.Service.Namespace < b.Service.Namespace
		}
		if a.Service.Name != b.Service.Name {
			return a.Service.Name < b.Service.Name
		}
		aOwn, bOwn := a.Client.Namespace == a.Service.Namespace, b.Client.Namespace == b.Service.Namespace
		if aOwn != bOwn {
			return aOwn
		}
		return a.Client.Namespace < b.Client.Namespace
	})
}

// SummaryHeader is the audit table's header.
func SummaryHeader(wide bool) []string {
	h := []string{"NAMESPACE", "SERVICE", "PORT", "CLIENT", "IN EFFECT", "ROUTES", "DRIFT", "FINDINGS"}
	if wide {
		h = append(h, "CODES")
	}
	return h
}

// SummaryRows is one row per (service, client namespace, port).
func SummaryRows(rs []report.Report, wide bool) [][]string {
	var rows [][]string
	for _, r := range rs {
		for _, p := range r.Ports {
			routes := "-"
			switch {
			case p.ServedProfile != nil:
				routes = fmt.Sprint(len(p.ServedProfile.GetRoutes()))
			case p.Lookup.Result == report.ResultSilent:
				routes = "silent"
			case p.Lookup.Result == report.ResultError:
				routes = "error"
			}
			eff := string(p.InEffect.Source)
			if p.InEffect.Namespace != "" && p.InEffect.Source == expect.SourceClient {
				eff += " (" + p.InEffect.Namespace + ")"
			}
			row := []string{r.Service.Namespace, r.Service.Name, fmt.Sprint(p.Port), r.Client.Namespace, eff, routes,
				fmt.Sprint(len(p.Drift)), countFindings(p.Findings)}
			if wide {
				var cs []string
				for _, f := range p.Findings {
					cs = append(cs, f.Code)
				}
				row = append(row, strings.Join(cs, ","))
			}
			rows = append(rows, row)
		}
	}
	return rows
}

func countFindings(fs []finding.Finding) string {
	var e, w, i int
	for _, f := range fs {
		switch f.Level {
		case finding.Error:
			e++
		case finding.Warning:
			w++
		default:
			i++
		}
	}
	if e+w+i == 0 {
		return "-"
	}
	var parts []string
	if e > 0 {
		parts = append(parts, fmt.Sprintf("%d error", e))
	}
	if w > 0 {
		parts = append(parts, fmt.Sprintf("%d warning", w))
	}
	if i > 0 {
		parts = append(parts, fmt.Sprintf("%d info", i))
	}
	return strings.Join(parts, ", ")
}

// progressLine prints "looked up N/M" on stderr for runs that take more
// than a moment, only on a terminal.
type progressLine struct {
	enabled bool
	total   int
	n       atomic.Int64
	start   time.Time
	last    atomic.Int64
	w       *os.File
}

func (o *Options) progress(total int) *progressLine {
	p := &progressLine{total: total, start: time.Now()}
	if f, ok := o.Streams.ErrOut.(*os.File); ok && !o.NoProgress && term.IsTerminal(int(f.Fd())) {
		p.enabled, p.w = true, f
	}
	return p
}

func (p *progressLine) tick() {
	n := p.n.Add(1)
	if !p.enabled {
		return
	}
	now := time.Since(p.start)
	if now < 500*time.Millisecond || now.Milliseconds()-p.last.Load() < 200 {
		return
	}
	p.last.Store(now.Milliseconds())
	fmt.Fprintf(p.w, "\rlooked up %d/%d service ports (%s)", n, p.total, now.Round(time.Second))
}

func (p *progressLine) done() {
	if p.enabled && p.last.Load() > 0 {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
