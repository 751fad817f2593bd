package tapsession

import (
	"strings"

	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// filter applies a tap request's matches to a capture, the way the tap
// server has the proxies apply them: on the request, with its response and
// end events following it. Target and label selector are not applied (a
// capture was already taken for some target).
type filter struct {
	req  tapclient.Request
	dst  map[string]string // --to as destination labels
	open *tapclient.Correlator
}

func newFilter(req tapclient.Request) *filter {
	f := &filter{req: req}
	if req.To != nil {
		f.dst = map[string]string{}
		if req.To.Name != "" {
			key := req.To.Type
			if key == tapclient.TypeJob {
				key = "k8s_job"
			}
			f.dst[key] = req.To.Name
		}
		if req.To.Type != tapclient.TypeNamespace && req.To.Namespace != "" {
			f.dst["namespace"] = req.To.Namespace
		}
	}
	if f.active() {
		f.open = tapclient.NewCorrelator(0)
	}
	return f
}

func (f *filter) active() bool {
	r := f.req
	return r.To != nil || r.Scheme != "" || r.Method != "" || r.Authority != "" || r.Path != ""
}

func (f *filter) pass(ev *tapclient.Event) bool {
	if f.open == nil {
		return true
	}
	if ev.Kind != tapclient.KindRequest {
		return f.open.Observe(ev) != nil
	}
	if !f.match(ev) {
		return false
	}
	f.open.Observe(ev)
	return true
}

func (f *filter) match(ev *tapclient.Event) bool {
	r := f.req
	if r.Scheme != "" && !strings.EqualFold(r.Scheme, ev.Scheme) ||
		r.Method != "" && !strings.EqualFold(r.Method, ev.Method) ||
		r.Authority != "" && r.Authority != ev.Authority ||
		r.Path != "" && !strings.HasPrefix(ev.Path, r.Path) {
		return false
	}
	for k, v := range f.dst {
		if ev.Destination.Labels[k] != v {
			return false
		}
	}
	return true
}
