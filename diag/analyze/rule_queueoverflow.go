package analyze

import "strconv"

// Streams the destination aborted on a full update queue.
var _ = register(Analyzer{
	Name:  "destination-queue-overflow",
	Codes: []string{CodeQueueOverflow},
	Needs: []Scope{ControlPlane},
	Run: func(f *Facts, e *Emitter) {
		c := f.Control
		if n := c.Metrics.Overflows(c.FQDN, c.Port); n > 0 {
			e.At(CodeQueueOverflow, nil, "the destination aborted %s stream(s) for %s:%d on a full update queue since its replicas started: those proxies reconnected and may have missed updates; raise -stream-queue-capacity or find the update storm",
				strconv.FormatFloat(n, 'f', -1, 64), c.FQDN, c.Port)
		}
	},
})
