package get

import (
	"fmt"
	"strings"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/report"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

// renderPolicy prints the policy half of a port: the protocol, the routes
// this client gets (rules with matches, timeouts, retry and backends, and
// where each value comes from), routes not served and why, and the drift
// between what the controller serves and what the cluster predicts.
func renderPolicy(p *printer, pr report.PortReport, wide bool) {
	pol := pr.Policy
	if pol == nil {
		return
	}
	p.line("")
	head := "POLICY"
	switch pol.Lookup.Result {
	case report.ResultServed:
		if len(pol.Drift) == 0 {
			head += " (served by the policy controller"
			if pol.Expected != nil {
				head += ", matches the cluster's routes and annotations"
			}
			head += ")"
		} else {
			head += fmt.Sprintf(" (served, %d field(s) differ: POLICY DRIFT)", len(pol.Drift))
		}
	case report.PolicyNotFound:
		head += " (none: " + pol.Lookup.Error + ")"
	default:
		head += " (not served: ROUTES show the prediction; the lookup failed: " + pol.Lookup.Error + ")"
	}
	if pr.Mode == dpolicy.ModeServiceProfile {
		head += ": not used for this port's routes (MODE serviceprofile)"
	}
	p.line(cli.Escape(head)) // the lookup error carries server text
	if pol.Protocol != "" {
		p.kv("PROTOCOL", string(pol.Protocol))
	}
	if fa := pol.FailureAccrual; fa != nil {
		p.kv("FAILURE ACCR.", fmt.Sprintf("%s, max failures %d", fa.Kind, fa.MaxFailures))
	}
	if len(pol.Routes) > 0 {
		header := []string{"ROUTE", "RULE", "MATCHES", "TIMEOUTS", "RETRY", "BACKENDS"}
		var rows [][]string
		for _, r := range pol.Routes {
			name := r.Name
			if r.Kind != "default" {
				name = r.Kind + " " + r.Namespace + "/" + r.Name
			} else {
				name = "default " + r.Name
			}
			for i, rule := range r.Rules {
				rows = append(rows, []string{name, fmt.Sprint(i), matches(rule.Matches, wide), ruleTimeouts(rule), ruleRetry(rule), backends(rule)})
			}
		}
		p.table(header, rows)
	}
	if len(pol.NotServed) > 0 {
		p.line("")
		p.line("ROUTES NOT SERVED TO THIS CLIENT ON THIS PORT")
		var rows [][]string
		for _, v := range pol.NotServed {
			why := v.Reason
			if v.Detail != "" {
				why += ": " + v.Detail
			}
			rows = append(rows, []string{v.Kind + " " + v.Namespace + "/" + v.Name, v.Group, why})
		}
		p.table([]string{"ROUTE", "GROUP", "WHY"}, rows)
	}
	if len(pol.Drift) > 0 {
		p.line("")
		p.line("POLICY DRIFT (served differs from the routes and annotations in the cluster)")
		var rows [][]string
		for _, d := range pol.Drift {
			rows = append(rows, []string{d.Field, orDash(d.Expected), orDash(d.Served)})
		}
		p.table([]string{"FIELD", "EXPECTED", "SERVED"}, rows)
	}
}

func matches(ms []dpolicy.Match, wide bool) string {
	if len(ms) == 0 {
		return "*"
	}
	var parts []string
	for _, m := range ms {
		var c []string
		if m.Method != "" {
			c = append(c, m.Method)
		}
		if m.Path != "" {
			path := m.Path
			if !wide && len(path) > maxRegex {
				path = path[:maxRegex-1] + "…"
			}
			c = append(c, path)
		}
		if m.RPC != nil {
			c = append(c, "rpc "+orAny(m.RPC.Service)+"/"+orAny(m.RPC.Method))
		}
		for _, h := range m.Headers {
			c = append(c, fmt.Sprintf("header %s %s %s", h.Name, h.Kind, h.Value))
		}
		for _, q := range m.QueryParams {
			c = append(c, fmt.Sprintf("query %s %s %s", q.Name, q.Kind, q.Value))
		}
		if len(c) == 0 {
			c = append(c, "*")
		}
		parts = append(parts, strings.Join(c, " && "))
	}
	return strings.Join(parts, " || ")
}

func orAny(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

func from(src string) string {
	if src == "" {
		return ""
	}
	return " (" + src + ")"
}

func ruleTimeouts(r dpolicy.Rule) string {
	var src dpolicy.Sources
	if r.Sources != nil {
		src = *r.Sources
	}
	var parts []string
	if r.Timeouts.Request != "" {
		parts = append(parts, "request "+r.Timeouts.Request+from(src.Request))
	}
	if r.Timeouts.Response != "" {
		parts = append(parts, "response "+r.Timeouts.Response+from(src.Response))
	}
	if r.Timeouts.Idle != "" {
		parts = append(parts, "idle "+r.Timeouts.Idle+from(src.Idle))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func ruleRetry(r dpolicy.Rule) string {
	if r.Retry == nil {
		return "-"
	}
	cond := strings.Join(r.Retry.Conditions, ",")
	if cond == "" {
		cond = "no conditions (nothing retried)"
	}
	s := fmt.Sprintf("limit %d on %s", r.Retry.Limit, cond)
	if r.Retry.Timeout != "" {
		s += ", per try " + r.Retry.Timeout
	}
	if r.Sources != nil {
		s += from(r.Sources.Retry)
	}
	return s
}

func backends(r dpolicy.Rule) string {
	if len(r.Backends) == 0 {
		if r.Distribution == "empty" {
			return "none (" + filterKinds(r.Filters) + ")"
		}
		return "-"
	}
	var total uint64
	for _, b := range r.Backends {
		total += uint64(b.Weight)
	}
	var parts []string
	for _, b := range r.Backends {
		name := b.Ref.Name
		if b.Ref.Namespace != "" {
			name = b.Ref.Namespace + "/" + name
		}
		if b.Ref.Port != 0 {
			name += fmt.Sprintf(":%d", b.Ref.Port)
		}
		if name == "" {
			name = b.Ref.Default
		}
		if r.Distribution == "randomAvailable" {
			share := "0%"
			if total > 0 {
				share = fmt.Sprintf("%.4g%%", float64(b.Weight)*100/float64(total))
			}
			name += fmt.Sprintf(" weight %d (%s)", b.Weight, share)
		}
		if b.Invalid != "" {
			name += " INVALID: " + b.Invalid + " (HTTP 500)"
		}
		parts = append(parts, name)
	}
	return strings.Join(parts, ", ")
}

func filterKinds(fs []dpolicy.Filter) string {
	var ks []string
	for _, f := range fs {
		ks = append(ks, f.Kind)
	}
	if len(ks) == 0 {
		return "no backend"
	}
	return strings.Join(ks, ", ")
}

// modeCell is the audit's MODE column.
func modeCell(p report.PortReport) string {
	if p.Mode == "" {
		return "-"
	}
	return string(p.Mode)
}

func policyDrift(p report.PortReport) int {
	if p.Policy == nil {
		return 0
	}
	return len(p.Policy.Drift)
}
