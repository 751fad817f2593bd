// Package metricstest is a stand-in for the admin port of Linkerd proxies:
// a traffic model that renders the /metrics exposition the way the proxy
// does (legacy route_* families first, then the OpenMetrics registry with
// outbound_{http,grpc}_route_* and "# EOF"), HTTP servers that serve it,
// and a network namespace to run them at non-loopback addresses the API
// server agrees to proxy to. It implements the documented format itself
// (shared/reference/proxy-metrics.md); it never calls the plugin's code.
package metricstest

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// LegacyBucketsMs are the proxy's latency buckets for route_response_latency_ms.
var LegacyBucketsMs = []float64{1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000}

// RouteBucketsSeconds are the buckets of *_route_request_duration_seconds.
var RouteBucketsSeconds = []float64{0.05, 0.5, 1, 10}

// BackendBucketsSeconds are the buckets of *_route_backend_response_duration_seconds.
var BackendBucketsSeconds = []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 10}

// FrameBuckets are the buckets of the frame-size histograms.
var FrameBuckets = []float64{128, 1024, 10240}

// SPRequest is a batch of requests on a ServiceProfile route.
type SPRequest struct {
	Direction string // outbound | inbound
	Dst       string // e.g. webapp.books.svc.cluster.local:7000
	// Route is the rt_route value; "" is the default route (no rt_route label).
	Route string
	// Status is the final HTTP status (0: no response, Error must be set).
	Status int
	// GRPCStatus is the numeric gRPC status, "" for plain HTTP.
	GRPCStatus string
	// Failure classifies the final response (responseClasses; default 5xx).
	Failure bool
	Error   string
	// LatencyMs of each request.
	LatencyMs float64
	// Retries is the number of extra attempts per request; each failed
	// with RetryStatus (default 503) before the final one.
	Retries     int
	RetryStatus int
	// InFlight requests are counted in route_request_total only.
	InFlight bool
}

// PolicyRequest is a batch of requests on a policy route.
type PolicyRequest struct {
	GRPC bool
	// Parent Service.
	ParentNamespace, ParentName, ParentPort string
	// Route: group, kind, namespace, name. Kind "default" (group and
	// namespace "") is a synthetic route, e.g. name "http".
	RouteGroup, RouteKind, RouteNamespace, RouteName string
	// Status: http_status (e.g. "200", "" without response) or, for gRPC,
	// grpc_status name (e.g. "OK", "UNAVAILABLE").
	Status string
	Error  string
	// LatencySeconds of each request, and of each backend response.
	LatencySeconds float64
	// Backend Service (namespace, name, port).
	BackendNamespace, BackendName, BackendPort string
	// Retries per request; retried attempts answer RetryStatus (default
	// "503" or, for gRPC, "UNAVAILABLE").
	Retries     int
	RetryStatus string
}

type hist struct {
	bounds []float64
	counts []float64 // per bucket (not cumulative); last is +Inf
	sum    float64
	n      float64
}

func newHist(bounds []float64) *hist {
	return &hist{bounds: bounds, counts: make([]float64, len(bounds)+1)}
}

func (h *hist) observe(v float64, n int) {
	i := sort.SearchFloat64s(h.bounds, v) // first bound >= v
	h.counts[i] += float64(n)
	h.sum += v * float64(n)
	h.n += float64(n)
}

// series: labels (already formatted, in exposition order) -> value
type family struct {
	name, typ, help string
	series          map[string]float64
	hists           map[string]*hist
	order           []string
}

// Proxy is one proxy's counters.
type Proxy struct {
	mu        sync.Mutex
	StartTime float64
	fams      map[string]*family
	// HostnameLabels mirrors proxy.metrics.hostnameLabels (default false:
	// hostname="").
	Hostname string
}

// NewProxy returns a proxy that started at startTime (unix seconds).
func NewProxy(startTime float64) *Proxy {
	return &Proxy{StartTime: startTime, fams: map[string]*family{}}
}

func (p *Proxy) fam(name, typ, help string) *family {
	f := p.fams[name]
	if f == nil {
		f = &family{name: name, typ: typ, help: help, series: map[string]float64{}, hists: map[string]*hist{}}
		p.fams[name] = f
	}
	return f
}

func (f *family) inc(labels string, v float64) {
	if _, ok := f.series[labels]; !ok {
		f.order = append(f.order, labels)
	}
	f.series[labels] += v
}

func (f *family) hist(labels string, bounds []float64) *hist {
	h := f.hists[labels]
	if h == nil {
		h = newHist(bounds)
		f.hists[labels] = h
		f.order = append(f.order, labels)
	}
	return h
}

// lbl formats label pairs as the proxy does: name="value", values written
// as given (the legacy encoder does not escape).
func lbl(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[i])
		b.WriteString(`="`)
		b.WriteString(kv[i+1])
		b.WriteByte('"')
	}
	return b.String()
}

// RecordSP counts n requests on a ServiceProfile route.
func (p *Proxy) RecordSP(r SPRequest, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	base := []string{"direction", r.Direction, "dst", r.Dst}
	if r.Route != "" {
		base = append(base, "rt_route", r.Route)
	}
	p.fam("route_request_total", "counter", "Total count of HTTP requests.").inc(lbl(base...), float64(n))
	p.fam("route_actual_request_total", "counter", "Total count of HTTP requests.").inc(lbl(base...), float64(n*(1+r.Retries)))
	if r.InFlight {
		return
	}
	status := func(code int) []string {
		if code == 0 {
			return nil
		}
		return []string{"status_code", strconv.Itoa(code)}
	}
	class := func(failure bool) string {
		if failure {
			return "failure"
		}
		return "success"
	}
	withStatus := append(append([]string{}, base...), status(r.Status)...)
	p.fam("route_response_latency_ms", "histogram", "Elapsed times between a request's headers being received and its response stream completing").
		hist(lbl(withStatus...), LegacyBucketsMs).observe(r.LatencyMs, n)
	resp := append(append([]string{}, withStatus...), "classification", class(r.Failure), "grpc_status", r.GRPCStatus, "error", r.Error)
	p.fam("route_response_total", "counter", "Total count of HTTP responses.").inc(lbl(resp...), float64(n))
	p.fam("route_actual_response_total", "counter", "Total count of HTTP responses.").inc(lbl(resp...), float64(n))
	if r.Retries > 0 {
		rs := r.RetryStatus
		if rs == 0 {
			rs = 503
		}
		retried := append(append(append([]string{}, base...), status(rs)...), "classification", "failure", "grpc_status", "", "error", "")
		p.fam("route_actual_response_total", "counter", "").inc(lbl(retried...), float64(n*r.Retries))
		p.fam("route_retryable_total", "counter", "Total count of retryable HTTP responses.").inc(lbl(base...), float64(n*r.Retries))
		p.fam("route_retryable_total", "counter", "").inc(lbl(append(append([]string{}, base...), "skipped", "no_budget")...), 0)
	}
}

// RecordPolicy counts n requests on a policy route.
func (p *Proxy) RecordPolicy(r PolicyRequest, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	prefix, statusLabel, retryStatus := "outbound_http_route_", "http_status", "503"
	if r.GRPC {
		prefix, statusLabel, retryStatus = "outbound_grpc_route_", "grpc_status", "UNAVAILABLE"
	}
	if r.RetryStatus != "" {
		retryStatus = r.RetryStatus
	}
	pr := []string{"parent_group", "core", "parent_kind", "Service", "parent_namespace", r.ParentNamespace, "parent_name", r.ParentName,
		"parent_port", r.ParentPort, "parent_section_name", "",
		"route_group", r.RouteGroup, "route_kind", r.RouteKind, "route_namespace", r.RouteNamespace, "route_name", r.RouteName}
	prh := append(append([]string{}, pr...), "hostname", p.Hostname)
	prb := append(append([]string{}, pr...), "backend_group", "core", "backend_kind", "Service", "backend_namespace", r.BackendNamespace,
		"backend_name", r.BackendName, "backend_port", r.BackendPort, "backend_section_name", "")
	p.fam(prefix+"request_duration_seconds", "histogram", "The time between request initialization and response completion.").
		hist(lbl(prh...), RouteBucketsSeconds).observe(r.LatencySeconds, n)
	p.fam(prefix+"request_frame_size_bytes", "histogram", "Request data frame sizes.").hist(lbl(prh...), FrameBuckets).observe(100, n)
	p.fam(prefix+"request_statuses", "counter", "Completed request-response streams.").
		inc(lbl(append(append([]string{}, prh...), statusLabel, r.Status, "error", r.Error)...), float64(n))
	for _, f := range []string{"retry_requests", "retry_successes", "retry_limit_exceeded", "retry_overflow"} {
		v := 0.0
		if f == "retry_requests" {
			v = float64(n * r.Retries)
		}
		p.fam(prefix+f, "counter", "Retry counters.").inc(lbl(prh...), v)
	}
	p.fam(prefix+"backend_requests", "counter", "The total number of requests dispatched.").inc(lbl(prb...), float64(n*(1+r.Retries)))
	bd := p.fam(prefix+"backend_response_duration_seconds", "histogram", "The time between request completion and response completion.").
		hist(lbl(prb...), BackendBucketsSeconds)
	bd.observe(r.LatencySeconds, n*(1+r.Retries))
	st := p.fam(prefix+"backend_response_statuses", "counter", "Completed responses.")
	st.inc(lbl(append(append([]string{}, prb...), statusLabel, r.Status, "error", r.Error)...), float64(n))
	if r.Retries > 0 {
		st.inc(lbl(append(append([]string{}, prb...), statusLabel, retryStatus, "error", "")...), float64(n*r.Retries))
	}
}

// RecordEndpoint counts n requests on the per-endpoint request_total, which
// the proxy keeps whatever the route API.
func (p *Proxy) RecordEndpoint(direction, authority, dstNamespace, dstService string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	kv := []string{"direction", direction, "authority", authority, "target_addr", "10.42.0.7:7000", "tls", "true"}
	if dstService != "" {
		kv = append(kv, "dst_namespace", dstNamespace, "dst_service", dstService)
	}
	p.fam("request_total", "counter", "Total count of HTTP requests.").inc(lbl(kv...), float64(n))
}

// EvictLegacy drops every legacy series of dst's route (idle eviction):
// the next request recreates them from 0.
func (p *Proxy) EvictLegacy(dst, route string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	needle := `dst="` + dst + `"`
	for name, f := range p.fams {
		if !strings.HasPrefix(name, "route_") {
			continue
		}
		var keep []string
		for _, l := range f.order {
			hasRoute := strings.Contains(l, `rt_route="`)
			if strings.Contains(l, needle) && ((route == "" && !hasRoute) || strings.Contains(l, `rt_route="`+route+`"`)) {
				delete(f.series, l)
				delete(f.hists, l)
				continue
			}
			keep = append(keep, l)
		}
		f.order = keep
	}
}

// Restart forgets every counter, as a new proxy process would.
func (p *Proxy) Restart(startTime float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.StartTime = startTime
	p.fams = map[string]*family{}
}

func fmtFloat(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// Exposition renders /metrics: the legacy text part, then the OpenMetrics
// part ending with "# EOF".
func (p *Proxy) Exposition() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	names := make([]string, 0, len(p.fams))
	for n := range p.fams {
		names = append(names, n)
	}
	sort.Strings(names)
	// Legacy part: Prometheus text; counters named with _total in TYPE.
	legacy := []string{"request_total", "route_request_total", "route_response_latency_ms", "route_response_total",
		"route_actual_request_total", "route_actual_response_total", "route_retryable_total"}
	for _, n := range legacy {
		f := p.fams[n]
		if f == nil {
			continue
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", n, f.help, n, f.typ)
		for _, l := range f.order {
			if h := f.hists[l]; h != nil {
				cum := 0.0
				for i, bound := range h.bounds {
					cum += h.counts[i]
					fmt.Fprintf(&b, "%s_bucket{%s,le=\"%s\"} %s\n", n, l, fmtFloat(bound), fmtFloat(cum))
				}
				fmt.Fprintf(&b, "%s_bucket{%s,le=\"+Inf\"} %s\n", n, l, fmtFloat(h.n))
				fmt.Fprintf(&b, "%s_count{%s} %s\n%s_sum{%s} %s\n", n, l, fmtFloat(h.n), n, l, fmtFloat(h.sum))
				continue
			}
			fmt.Fprintf(&b, "%s{%s} %s\n", n, l, fmtFloat(f.series[l]))
		}
	}
	// Noise every proxy has.
	b.WriteString("# HELP tcp_open_total Total count of opened connections\n# TYPE tcp_open_total counter\n")
	b.WriteString("tcp_open_total{direction=\"inbound\",peer=\"src\",target_addr=\"10.42.0.7:7000\",tls=\"true\"} 12\n")
	// OpenMetrics part.
	fmt.Fprintf(&b, "# HELP process_start_time_seconds Time that the process started (in seconds since the UNIX epoch).\n# TYPE process_start_time_seconds gauge\n# UNIT process_start_time_seconds seconds\nprocess_start_time_seconds %s\n", fmtFloat(p.StartTime))
	for _, n := range names {
		if !strings.HasPrefix(n, "outbound_") {
			continue
		}
		f := p.fams[n]
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", n, f.help, n, f.typ)
		if strings.HasSuffix(n, "_seconds") {
			fmt.Fprintf(&b, "# UNIT %s seconds\n", n)
		} else if strings.HasSuffix(n, "_bytes") {
			fmt.Fprintf(&b, "# UNIT %s bytes\n", n)
		}
		for _, l := range f.order {
			if h := f.hists[l]; h != nil {
				fmt.Fprintf(&b, "%s_sum{%s} %s\n%s_count{%s} %s\n", n, l, fmtFloat(h.sum), n, l, fmtFloat(h.n))
				cum := 0.0
				for i, bound := range h.bounds {
					cum += h.counts[i]
					fmt.Fprintf(&b, "%s_bucket{le=\"%s\",%s} %s\n", n, fmtFloat(bound), l, fmtFloat(cum))
				}
				fmt.Fprintf(&b, "%s_bucket{le=\"+Inf\",%s} %s\n", n, l, fmtFloat(h.n))
				continue
			}
			fmt.Fprintf(&b, "%s_total{%s} %s\n", n, l, fmtFloat(f.series[l]))
		}
	}
	b.WriteString("# EOF\n")
	return b.String()
}
