package get

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/report"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

// maxRegex keeps the CONDITION column readable; -o wide shows regexes whole.
const maxRegex = 48

// Render prints one report as text. Every value that comes from the cluster
// goes through cli.Escape (directly or via cli.Table).
func Render(w io.Writer, r report.Report, wide bool, term cli.Term) error {
	p := &printer{w: w, term: term}
	p.kv("SERVICE", r.Service.Namespace+"/"+r.Service.Name)
	p.kv("FQDN", r.FQDN)
	client := "namespace " + r.Client.Namespace
	if r.Client.Pod != "" {
		client += ", pod " + r.Client.Pod
	}
	p.kv("CLIENT", client)
	if wide {
		p.kv("TOKEN", r.Client.Token)
	}
	if len(r.Overrides) > 0 {
		p.kv("OVERRIDES", "clients in "+strings.Join(r.Overrides, ", ")+" get their namespace's profile")
	}
	for _, port := range r.Ports {
		fmt.Fprintln(w)
		if err := renderPort(p, port, wide); err != nil {
			return err
		}
	}
	if len(r.NotLookedUp) > 0 {
		p.line("")
		p.line("NOT LOOKED UP")
		var rows [][]string
		for _, n := range r.NotLookedUp {
			port := "-"
			if n.Port != 0 {
				port = fmt.Sprint(n.Port)
			}
			rows = append(rows, []string{port, n.Reason})
		}
		p.table([]string{"PORT", "WHY"}, rows)
	}
	return p.err
}

type printer struct {
	w    io.Writer
	term cli.Term
	err  error
}

func (p *printer) kv(k, v string) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, "%-14s%s\n", k, cli.Escape(v))
	}
}

func (p *printer) line(s string) {
	if p.err == nil {
		_, p.err = fmt.Fprintln(p.w, s)
	}
}

// table lays rows out to the terminal's width; colour, if any, is added to
// the finished layout.
func (p *printer) table(header []string, rows [][]string) {
	if p.err != nil {
		return
	}
	var b strings.Builder
	if p.err = cli.Table(&b, header, rows, p.term.Width); p.err == nil {
		_, p.err = io.WriteString(p.w, p.term.ColorLevels(b.String()))
	}
}

func renderPort(p *printer, pr report.PortReport, wide bool) error {
	p.line(fmt.Sprintf("PORT %d", pr.Port))
	p.kv("IN EFFECT", inEffect(pr))
	p.kv("LOOKUP", lookup(pr))
	if pr.ControlPlane != nil {
		p.kv("SUBSCRIBERS", pr.ControlPlane.Line())
	}
	if pr.Mode != "" {
		p.kv("MODE", string(pr.Mode)+": "+pr.ModeReason)
	}
	shown := pr.ServedProfile
	if shown == nil {
		shown = pr.ExpectedProfile
	}
	if shown != nil && pr.InEffect.Source != expect.SourceNone {
		p.kv("OPAQUE", fmt.Sprint(shown.GetOpaqueProtocol()))
		p.kv("RETRY BUDGET", budget(shown.GetRetryBudget()))
		if len(shown.GetDstOverrides()) > 0 {
			p.kv("DST OVERRIDES", overrides(shown.GetDstOverrides()))
		}
	}
	if pr.ServedProfile == nil && pr.ExpectedProfile != nil {
		p.kv("", "(nothing served: ROUTES show what the ServiceProfile predicts)")
	}

	if routes := shown.GetRoutes(); len(routes) > 0 {
		p.line("")
		header := []string{"NAME", "CONDITION", "RETRYABLE", "TIMEOUT", "RESPONSE CLASSES", "STATUS"}
		if wide {
			header = append(header, "REGEX")
		}
		var rows [][]string
		for i, rt := range routes {
			row := []string{
				rt.GetMetricsLabels()["route"],
				Condition(rt.GetCondition(), maxRegex),
				yesNo(rt.GetIsRetryable()),
				timeout(rt),
				classes(rt.GetResponseClasses()),
				routeStatus(pr, i),
			}
			if wide {
				row = append(row, strings.Join(regexes(rt.GetCondition()), " "))
			}
			rows = append(rows, row)
		}
		p.table(header, rows)
	}

	renderPolicy(p, pr, wide)

	if len(pr.Drift) > 0 {
		p.line("")
		p.line("DRIFT (served differs from the ServiceProfile in effect)")
		var rows [][]string
		for _, d := range pr.Drift {
			rows = append(rows, []string{d.Field, orDash(d.Expected), orDash(d.Served)})
		}
		p.table([]string{"FIELD", "EXPECTED", "SERVED"}, rows)
	}
	if len(pr.Findings) > 0 {
		p.line("")
		p.line("FINDINGS")
		var rows [][]string
		for _, f := range pr.Findings {
			rows = append(rows, []string{strings.ToUpper(f.Level.String()), f.Code, orDash(f.Route), f.Message})
		}
		p.table([]string{"LEVEL", "CODE", "ROUTE", "MESSAGE"}, rows)
	}
	return p.err
}

func inEffect(pr report.PortReport) string {
	ie := pr.InEffect
	switch ie.Source {
	case expect.SourceDefault:
		return "default profile (no ServiceProfile)"
	case expect.SourceNone:
		return "none (port not on the Service: empty profile)"
	case expect.SourceRejected:
		return "none (the destination rejects this Service)"
	case SourceUnknown:
		return fmt.Sprintf("unknown: ServiceProfiles in namespace %s cannot be read (RBAC), so what is served is shown but not compared", ie.Namespace)
	}
	return fmt.Sprintf("%s/%s from the %s (resourceVersion %s)", ie.Namespace, ie.Name, strings.ReplaceAll(string(ie.Source), "-", " "), ie.ResourceVersion)
}

func lookup(pr report.PortReport) string {
	switch pr.Lookup.Result {
	case report.ResultServed:
		if pr.InEffect.Source == SourceUnknown {
			return "served (not compared: the ServiceProfile in effect is unknown)"
		}
		if len(pr.Drift) == 0 {
			return "served, matches the ServiceProfile in effect"
		}
		return fmt.Sprintf("served, %d field(s) differ (DRIFT)", len(pr.Drift))
	case report.ResultSilent:
		return fmt.Sprintf("nothing served within %s: %s", pr.Lookup.Waited, pr.Lookup.Error)
	}
	if pr.InEffect.Source == expect.SourceRejected {
		return "rejected: " + pr.Lookup.Error
	}
	return "failed: " + pr.Lookup.Error
}

func budget(b *pb.RetryBudget) string {
	if b == nil {
		return "-"
	}
	ttl := "-"
	if b.GetTtl() != nil {
		ttl = b.GetTtl().AsDuration().String()
	}
	return fmt.Sprintf("retryRatio %g, minRetriesPerSecond %d, ttl %s", b.GetRetryRatio(), b.GetMinRetriesPerSecond(), ttl)
}

func overrides(ds []*pb.WeightedDst) string {
	var total uint64
	for _, d := range ds {
		total += uint64(d.GetWeight())
	}
	var parts []string
	for _, d := range ds {
		share := "0%"
		if total > 0 {
			share = fmt.Sprintf("%.4g%%", float64(d.GetWeight())*100/float64(total))
		}
		parts = append(parts, fmt.Sprintf("%s weight %d (%s)", d.GetAuthority(), d.GetWeight(), share))
	}
	return strings.Join(parts, ", ")
}

func timeout(rt *pb.Route) string {
	if rt.GetTimeout() == nil {
		return "-"
	}
	// AsDuration would clamp; the value may be negative (the proxy ignores it).
	return (time.Duration(rt.GetTimeout().GetSeconds())*time.Second + time.Duration(rt.GetTimeout().GetNanos())).String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Condition renders a request match compactly: method and path regex, with
// && / || / ! for all, any and not.
func Condition(m *pb.RequestMatch, maxLen int) string {
	switch t := m.GetMatch().(type) {
	case *pb.RequestMatch_Method:
		return translate.MethodName(t.Method)
	case *pb.RequestMatch_Path:
		re := t.Path.GetRegex()
		if maxLen > 0 && len(re) > maxLen {
			re = re[:maxLen-1] + "…"
		}
		return re
	case *pb.RequestMatch_Not:
		return "!(" + Condition(t.Not, maxLen) + ")"
	case *pb.RequestMatch_All:
		return seq(t.All.GetMatches(), " && ", "*", maxLen)
	case *pb.RequestMatch_Any:
		return seq(t.Any.GetMatches(), " || ", "(nothing)", maxLen)
	}
	return "?"
}

func seq(ms []*pb.RequestMatch, sep, empty string, maxLen int) string {
	if len(ms) == 0 {
		return empty
	}
	parts := make([]string, len(ms))
	for i, c := range ms {
		s := Condition(c, maxLen)
		if _, nested := c.GetMatch().(*pb.RequestMatch_All); nested && len(ms) > 1 {
			s = "(" + s + ")"
		}
		if _, nested := c.GetMatch().(*pb.RequestMatch_Any); nested && len(ms) > 1 {
			s = "(" + s + ")"
		}
		parts[i] = s
	}
	return strings.Join(parts, sep)
}

func regexes(m *pb.RequestMatch) []string {
	switch t := m.GetMatch().(type) {
	case *pb.RequestMatch_Path:
		return []string{t.Path.GetRegex()}
	case *pb.RequestMatch_Not:
		return regexes(t.Not)
	case *pb.RequestMatch_All:
		var out []string
		for _, c := range t.All.GetMatches() {
			out = append(out, regexes(c)...)
		}
		return out
	case *pb.RequestMatch_Any:
		var out []string
		for _, c := range t.Any.GetMatches() {
			out = append(out, regexes(c)...)
		}
		return out
	}
	return nil
}

func classes(cs []*pb.ResponseClass) string {
	if len(cs) == 0 {
		return "-"
	}
	var parts []string
	for _, c := range cs {
		verdict := "success"
		if c.GetIsFailure() {
			verdict = "failure"
		}
		parts = append(parts, responseMatch(c.GetCondition())+" "+verdict)
	}
	return strings.Join(parts, ", ")
}

func responseMatch(m *pb.ResponseMatch) string {
	switch t := m.GetMatch().(type) {
	case *pb.ResponseMatch_Status:
		lo, hi := t.Status.GetMin(), t.Status.GetMax()
		switch {
		case lo == hi:
			return fmt.Sprint(lo)
		case lo == 0:
			return fmt.Sprintf("..%d", hi)
		case hi == 0:
			return fmt.Sprintf("%d..", lo)
		}
		return fmt.Sprintf("%d-%d", lo, hi)
	case *pb.ResponseMatch_Not:
		return "!(" + responseMatch(t.Not) + ")"
	case *pb.ResponseMatch_All:
		return rseq(t.All.GetMatches(), " && ")
	case *pb.ResponseMatch_Any:
		return rseq(t.Any.GetMatches(), " || ")
	}
	return "?"
}

func rseq(ms []*pb.ResponseMatch, sep string) string {
	parts := make([]string, len(ms))
	for i, c := range ms {
		parts[i] = responseMatch(c)
	}
	return "(" + strings.Join(parts, sep) + ")"
}

// routeStatus summarises, for route i, the worst finding about it and any
// drift on it.
func routeStatus(pr report.PortReport, i int) string {
	var codes []string
	worst, any := finding.Info, false
	for _, f := range pr.Findings {
		if f.RouteIndex == i {
			codes = append(codes, f.Code)
			any = true
			if f.Level > worst {
				worst = f.Level
			}
		}
	}
	prefix := fmt.Sprintf("routes[%d]", i)
	for _, d := range pr.Drift {
		if d.Field == prefix || strings.HasPrefix(d.Field, prefix+".") {
			codes = append(codes, "drift")
			break
		}
	}
	if len(codes) == 0 {
		if pr.ServedProfile == nil {
			return "not served" // predicted only: never "ok"
		}
		return "ok"
	}
	sort.Strings(codes)
	if !any {
		return strings.Join(codes, ",") // drift alone
	}
	return strings.ToLower(worst.String()) + ": " + strings.Join(codes, ",")
}
