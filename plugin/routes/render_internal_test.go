package routes

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"

	"github.com/kubectl-profiles/kubectl-profiles/diag/metrics"
)

// On a terminal the table is narrowed to its width (long route names
// wrap); piped output (width 0) keeps one row per line.
func TestTableFitsTerminal(t *testing.T) {
	one := 1.0
	rep := &Report{Target: "svc/webapp", Scraped: "deploy/traffic", Direction: "outbound", Window: "10s", Via: map[string]int{"pod-proxy": 1},
		Rows: []metrics.Row{{API: metrics.APIServiceProfile, Route: "GET /api/v1/books/{id}/authors/{author}/reviews/{review}/comments", Dst: "webapp.books.svc.cluster.local:7000",
			Requests: 10, RPS: 1, Success: &one, LatencyMs: metrics.Latency{P50: &one, P95: &one, P99: &one}}}}
	rep.Proxies.Selected, rep.Proxies.Scraped = 1, 1
	for _, c := range []struct {
		wide  bool
		width int
	}{{false, 72}, {true, 110}} { // -o wide's header alone needs 100 cells
		wide := c.wide
		var b bytes.Buffer
		writeTable(&b, rep, wide, c.width)
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		for _, l := range lines[1:] { // the summary line is prose
			if w := runewidth.StringWidth(l); w > c.width {
				t.Errorf("wide=%v: %d cells: %q", wide, w, l)
			}
		}
		var piped bytes.Buffer
		writeTable(&piped, rep, wide, 0)
		if n := strings.Count(piped.String(), "\n"); n != 3 {
			t.Errorf("piped: %d lines:\n%s", n, piped.String())
		}
	}
}
