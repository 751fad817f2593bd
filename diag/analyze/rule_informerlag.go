package analyze

import (
	"fmt"
	"strconv"
)

// Informers a profile change goes through (ServiceProfiles, Services) that
// saw API changes late.
var _ = register(Analyzer{
	Name:  "destination-informer-lag",
	Codes: []string{CodeInformerLag},
	Needs: []Scope{ControlPlane},
	Run: func(f *Facts, e *Emitter) {
		c := f.Control
		for _, l := range c.Metrics.Lags {
			if l.Kind != "serviceprofiles" && l.Kind != "services" {
				continue
			}
			n := l.Above(c.LagThreshold.Seconds())
			if n <= 0 {
				continue
			}
			p99 := "?"
			if l.P99 != nil {
				p99 = fmt.Sprintf("%.1fs", *l.P99)
			}
			e.At(CodeInformerLag, nil, "the %s informer of destination pod %s saw %s of %s update(s) more than %s after the API server (p99 %s): changes reach proxies that late; check the API server's load and the destination's CPU",
				l.Kind, l.Pod, strconv.FormatFloat(n, 'f', -1, 64), strconv.FormatFloat(l.Count, 'f', -1, 64), c.LagThreshold, p99)
		}
	},
})
