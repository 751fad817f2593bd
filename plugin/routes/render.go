package routes

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

func (o *Options) render(rep *Report) error {
	switch o.Output {
	case cli.OutputJSON:
		return cli.WriteJSON(o.Streams.Out, rep)
	case cli.OutputYAML:
		if o.Watch {
			fmt.Fprintln(o.Streams.Out, "---")
		}
		return cli.WriteYAML(o.Streams.Out, rep)
	}
	term := cli.TermOf(o.Streams.Out)
	var b bytes.Buffer
	writeTable(&b, rep, o.Output == cli.OutputWide, term.Width)
	_, err := io.WriteString(o.Streams.Out, term.ColorLevels(b.String()))
	return err
}

// writeTable prints the report as text: a summary line, the table, the
// notes and the pods left out. Cluster text (route names, labels, reasons)
// is escaped by cli.Table or cli.Escape.
func writeTable(w *bytes.Buffer, rep *Report, wide bool, width int) {
	via := []string{}
	for _, k := range []string{"pod-proxy", "port-forward"} {
		if n := rep.Via[k]; n > 0 {
			via = append(via, fmt.Sprintf("%d via %s", n, k))
		}
	}
	fmt.Fprintf(w, "%s routes of %s, from %d of %d proxies of %s (%s), over %s\n",
		titleDirection(rep.Direction), cli.Escape(rep.Target), rep.Proxies.Scraped, rep.Proxies.Selected, cli.Escape(rep.Scraped),
		orNone(strings.Join(via, ", ")), rep.Window)
	if ie := rep.InEffect; ie != nil {
		prof := "no ServiceProfile"
		if ie.Profile != "" {
			prof = fmt.Sprintf("ServiceProfile %s (%d route(s))", cli.Escape(ie.Profile), ie.Routes)
		}
		fmt.Fprintf(w, "In effect for these proxies: %s; HTTPRoutes with the Service as parent: %s\n", prof, countOrUnknown(ie.PolicyRoutes))
	}
	if len(rep.Rows) > 0 {
		header := []string{"SERVICE", "ROUTE", "API", "SUCCESS", "RPS", "P50", "P95", "P99"}
		if wide {
			header = append(header, "ACTUAL SUCCESS", "RETRIES", "TIMEOUTS", "PODS")
		}
		var rows [][]string
		for _, r := range rep.Rows {
			route := r.Route
			if r.RouteNamespace != "" && r.Parent != nil && r.RouteNamespace != r.Parent.Namespace {
				route = r.RouteNamespace + "/" + route
			}
			row := []string{r.Target(), route, r.API, pct(r.Success), rps(r.RPS, r.Requests), ms(r.LatencyMs.P50), ms(r.LatencyMs.P95), ms(r.LatencyMs.P99)}
			if wide {
				row = append(row, pct(r.ActualSuccess), pct(r.RetryRate), pct(r.TimeoutRate), strconv.Itoa(r.Pods))
			}
			rows = append(rows, row)
			if wide {
				for _, be := range r.Backends {
					name := be.Name + "." + be.Namespace + ":" + be.Port
					if be.Kind != "Service" {
						name = be.Kind + "/" + name
					}
					rows = append(rows, []string{"", "  → " + name, "backend", "", rps(be.AttemptsPerSecond, be.Attempts),
						ms(be.LatencyMs.P50), ms(be.LatencyMs.P95), ms(be.LatencyMs.P99), pct(be.Success), "", "", ""})
				}
			}
		}
		_ = cli.Table(w, header, rows, width)
	} else {
		fmt.Fprintln(w, "No route metrics.")
	}
	for _, n := range rep.Notes {
		level := "Info"
		if n.Level == "warning" {
			level = "Warning"
		}
		fmt.Fprintf(w, "%s [%s] %s\n", level, n.Code, cli.Escape(n.Message))
	}
	if rep.Resets > 0 || rep.Vanished > 0 {
		fmt.Fprintf(w, "Counters: %d series reset (counted from 0), %d series vanished between the scrapes (left out)\n", rep.Resets, rep.Vanished)
	}
	if len(rep.NotScraped) > 0 {
		fmt.Fprintf(w, "Not scraped (%d of %d pods, left out of every number):\n", len(rep.NotScraped), rep.Proxies.Selected)
		var rows [][]string
		for _, n := range rep.NotScraped {
			rows = append(rows, []string{n.Pod, n.Reason})
		}
		_ = cli.Table(w, []string{"POD", "REASON"}, rows, width)
	}
}

func titleDirection(d string) string {
	if d == "inbound" {
		return "Inbound"
	}
	return "Outbound"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func countOrUnknown(n int) string {
	if n < 0 {
		return "unknown"
	}
	return strconv.Itoa(n)
}

func pct(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v*100, 'f', 2, 64) + "%"
}

func rps(v, n float64) string {
	if n == 0 {
		return "0"
	}
	if v < 0.1 {
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func ms(v *float64) string {
	if v == nil {
		return "-"
	}
	switch {
	case *v >= 1000:
		return strconv.FormatFloat(*v/1000, 'f', 2, 64) + "s"
	case *v >= 10:
		return strconv.FormatFloat(*v, 'f', 0, 64) + "ms"
	}
	return strconv.FormatFloat(*v, 'f', 1, 64) + "ms"
}

// progress prints on a terminal's stderr only, and only once something is
// slow (more than a second).
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	on      bool
	start   time.Time
	printed bool
}

func newProgress(w io.Writer, enabled bool) *progress {
	p := &progress{w: w, start: time.Now()}
	f, ok := w.(*os.File)
	p.on = enabled && ok && cli.TermOf(f).Width > 0
	return p
}

func (p *progress) scraped(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.on || time.Since(p.start) < time.Second || done == total {
		return
	}
	fmt.Fprintf(p.w, "\rscraping proxies: %d/%d ", done, total)
	p.printed = true
}

func (p *progress) waiting(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.start = time.Now()
	if !p.on || d < 2*time.Second {
		return
	}
	fmt.Fprintf(p.w, "\rsecond scrape in %s (--window) ", d)
	p.printed = true
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.printed {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.printed = false
	}
	p.start = time.Now()
}
