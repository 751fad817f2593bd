package get

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/report"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/destination"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
	"golang.org/x/term"
)

// Audit looks up every Service that has a ServiceProfile (or every Service
// with AllServices) in ns ("" for all namespaces), as seen from the
// service's namespace and from each namespace holding an override, or only
// as --from-namespace (and --from) when set. Profiles are listed
// cluster-wide when allowed, else in fallbackNS; none for -A, where a
// refused cluster-wide list must fail rather than look like a cluster
// without profiles.
func (e *Engine) Audit(ctx context.Context, ns string, fallbackNS []string) (*Result, error) {
	e.Start(ctx)
	svcs, err := listServices(ctx, e.Kube, ns)
	if err != nil {
		return nil, err
	}
	if len(svcs) == 0 {
		if err := kube.NamespaceMissing(ctx, e.Kube, ns); err != nil {
			return nil, err
		}
	}
	all, partial, err := kube.ListProfiles(ctx, e.Dynamic, "", fallbackNS)
	if err != nil {
		return nil, err
	}
	e.warn(partial.Warning("client-side overrides in other namespaces are not shown"))
	domain := e.Config.ClusterDomain
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
		if ref, ok := profile.ParseFQDN(c.Name, domain); ok && known[report.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}] {
			continue
		}
		suspects[c.Namespace] = append(suspects[c.Namespace], report.NamespacedName{Namespace: c.Namespace, Name: c.Name})
	}
	routes := e.httpRoutes(ctx, []string{ns})

	// --from-namespace/--from: every lookup as that one client.
	var fixed *report.Client
	var fixedTok destination.Token
	if e.Config.FromNamespace != "" {
		c, tok, err := e.clientFor(ctx, e.Config.FromNamespace)
		if err != nil {
			return nil, err
		}
		fixed, fixedTok = &c, tok
	}
	var views []view
	for _, svc := range svcs {
		fqdn := profile.FQDN(svc.Name, svc.Namespace, domain)
		cands := byFQDN[fqdn]
		if len(cands) == 0 && !e.Config.AllServices {
			continue
		}
		s := kube.ToService(svc)
		lookups, skip := e.lookupsFor(svc, cands)
		clients := []report.Client{}
		tokens := []destination.Token{}
		if fixed != nil {
			clients, tokens = append(clients, *fixed), append(tokens, fixedTok)
		} else {
			for _, client := range append([]string{svc.Namespace}, expect.Overrides(s, domain, cands)...) {
				tok := destination.Token{Namespace: client}
				clients, tokens = append(clients, report.Client{Namespace: client, Token: tok.String()}), append(tokens, tok)
			}
		}
		for k, client := range clients {
			if len(lookups) == 0 && k > 0 {
				break // one line says why a Service was not looked up
			}
			in := report.Input{Service: s, ClusterDomain: domain, Candidates: cands, Client: client,
				NearbyProfiles: suspects[svc.Namespace], KnownServices: known,
				HTTPRoutes: routes[report.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}],
				Lookups:    append([]report.PortLookup(nil), lookups...)}
			in.Policy = e.policyInput(ctx, svc, []string{ns})
			v := view{in: in, tok: tokens[k], skip: skip, svc: svc}
			v.unreadable = unknownInEffect(partial, svc.Namespace, client.Namespace)
			views = append(views, v)
		}
	}
	res, err := e.lookupAndBuild(ctx, views)
	if err != nil {
		return nil, err
	}
	if res.DomainMismatch == "" {
		res.DomainMismatch = otherDomain(svcs, all, domain)
	}
	SortReports(res.Reports)
	return res, nil
}

// otherDomain is one line when no ServiceProfile is named for a Service
// under domain but some are under another cluster domain: then the audit
// found nothing only because --cluster-domain differs from the cluster's.
func otherDomain(svcs []*corev1.Service, profiles []expect.Candidate, domain string) string {
	known := map[string]bool{}
	for _, s := range svcs {
		known[s.Name+"."+s.Namespace] = true
	}
	var other []string
	example := ""
	for _, c := range profiles {
		if _, ok := profile.ParseFQDN(c.Name, domain); ok {
			return "" // some profiles use this domain: the others are misnamed, which findings say
		}
		svcNS, d, ok := strings.Cut(c.Name, ".svc.")
		if !ok || d == "" || !known[svcNS] || strings.Count(svcNS, ".") != 1 {
			continue
		}
		if !slices.Contains(other, d) {
			other = append(other, d)
		}
		if example == "" {
			example = c.Namespace + "/" + c.Name
		}
	}
	// A domain a typo away from the flag's is a misnamed profile, which
	// name-near-miss reports, not a cluster with another domain.
	if len(other) != 1 || profile.EditDistance(other[0], domain, 3) <= 2 {
		return ""
	}
	return fmt.Sprintf("no ServiceProfile is named for --cluster-domain %s, but some are named for %s (e.g. %s): if that is the cluster's domain, run again with --cluster-domain %s",
		domain, other[0], cli.Escape(cli.OneLine(example)), other[0])
}

func listServices(ctx context.Context, cs kubernetes.Interface, ns string) ([]*corev1.Service, error) {
	svcs, err := kube.ListServiceObjects(ctx, cs, ns)
	if err != nil {
		where := "in namespace " + ns
		if ns == "" {
			where = "in all namespaces"
		}
		return nil, kube.Explain(err, "list services "+where)
	}
	return svcs, nil
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
	h := []string{"NAMESPACE", "SERVICE", "PORT", "CLIENT", "IN EFFECT", "MODE", "ROUTES", "DRIFT", "FINDINGS"}
	if wide {
		h = append(h, "CODES")
	}
	return h
}

// SummaryRows is one row per (service, client namespace, port), and one per
// port or Service not looked up, saying why.
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
				routes = "failed"
				if p.InEffect.Source == expect.SourceRejected {
					routes = "rejected"
				}
			}
			eff := string(p.InEffect.Source)
			if p.InEffect.Namespace != "" && (p.InEffect.Source == expect.SourceClient || p.InEffect.Source == SourceUnknown) {
				eff += " (" + p.InEffect.Namespace + ")"
			}
			row := []string{r.Service.Namespace, r.Service.Name, fmt.Sprint(p.Port), r.Client.Namespace, eff, modeCell(p), routes,
				fmt.Sprint(len(p.Drift) + policyDrift(p)), countFindings(p.Findings)}
			if wide {
				var cs []string
				for _, f := range p.Findings {
					cs = append(cs, f.Code)
				}
				row = append(row, strings.Join(cs, ","))
			}
			rows = append(rows, row)
		}
		for _, n := range r.NotLookedUp {
			port := "-"
			if n.Port != 0 {
				port = fmt.Sprint(n.Port)
			}
			row := []string{r.Service.Namespace, r.Service.Name, port, r.Client.Namespace, "-", "-", "not looked up", "-", n.Reason}
			if wide {
				row = append(row, "")
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

func (o *Options) progress() *progressLine {
	p := &progressLine{start: time.Now()}
	if f, ok := o.Streams.ErrOut.(*os.File); ok && !o.NoProgress && term.IsTerminal(int(f.Fd())) {
		p.enabled, p.w = true, f
	}
	return p
}

// begin is Engine.Progress.
func (p *progressLine) begin(total int) func() {
	p.total, p.start = total, time.Now()
	return p.tick
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

// Summary is the audit's last line on stderr: how every lookup ended.
func (s Stats) Summary() string {
	parts := []string{fmt.Sprintf("%d served", s.Served)}
	if s.SilentPredicted > 0 {
		parts = append(parts, fmt.Sprintf("%d silent as predicted (unservable profile; waited %s each)", s.SilentPredicted, s.Waited))
	}
	if s.SilentUnexpected > 0 {
		parts = append(parts, fmt.Sprintf("%d silent unexpectedly", s.SilentUnexpected))
	}
	if s.Rejected > 0 {
		parts = append(parts, fmt.Sprintf("%d rejected (ExternalName)", s.Rejected))
	}
	if s.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", s.Failed))
	}
	line := fmt.Sprintf("%d lookups: %s", s.Lookups, strings.Join(parts, ", "))
	if s.NotLookedUp > 0 {
		line += fmt.Sprintf("; %d not looked up (see NOT LOOKED UP rows)", s.NotLookedUp)
	}
	return line
}
