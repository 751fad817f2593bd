package metrics

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Scrape is one proxy's Snapshot and when it was received.
type Scrape struct {
	At   time.Time
	Snap *Snapshot
}

// Pair is two scrapes of the same proxy, Before then After.
type Pair struct {
	// Pod is "namespace/name" of the scraped pod.
	Pod           string
	Before, After Scrape
}

// Filter chooses the series of one direction and, optionally, one Service.
type Filter struct {
	// Direction is "inbound" (server proxies: ServiceProfile routes only)
	// or "outbound" (client proxies: both route APIs).
	Direction string
	// Namespace and Name of the Service; empty Name: any destination.
	Namespace, Name string
	// FQDN of the Service (name.ns.svc.<cluster domain>), compared with the
	// host part of the legacy dst label.
	FQDN string
	// Port of the Service, 0 for any.
	Port uint32
}

// APIs that produce rows.
const (
	APIServiceProfile = "ServiceProfile"
	APIHTTPRoute      = "HTTPRoute"
	APIGRPCRoute      = "GRPCRoute"
	// APIPolicyDefault is a policy route the proxy synthesised (no
	// HTTPRoute/GRPCRoute applies: route_kind="default").
	APIPolicyDefault = "policy-default"
)

// DefaultRoute is how the default route (no route matched) is shown.
const DefaultRoute = "[DEFAULT]"

// Latency quantiles in milliseconds; nil when nothing was measured.
type Latency struct {
	P50 *float64 `json:"p50"`
	P95 *float64 `json:"p95"`
	P99 *float64 `json:"p99"`
}

// Parent is the object a policy route is attached to.
type Parent struct {
	Group       string `json:"group"`
	Kind        string `json:"kind"`
	Namespace   string `json:"namespace"`
	Name        string `json:"name"`
	Port        string `json:"port"`
	SectionName string `json:"sectionName,omitempty"`
}

// Backend is one backend of a policy route (every attempt, after retries).
type Backend struct {
	Group       string  `json:"group"`
	Kind        string  `json:"kind"`
	Namespace   string  `json:"namespace"`
	Name        string  `json:"name"`
	Port        string  `json:"port"`
	SectionName string  `json:"sectionName,omitempty"`
	Attempts    float64 `json:"attempts"`
	// AttemptsPerSecond over the window.
	AttemptsPerSecond float64  `json:"attemptsPerSecond"`
	Success           *float64 `json:"success"`
	// LatencyMs from the end of the request to the end of the response,
	// per attempt (backend_response_duration_seconds).
	LatencyMs Latency `json:"latencyMs"`

	acc *counts
}

// Row is one route of one destination, summed over the scraped proxies.
type Row struct {
	// API that produced the row: ServiceProfile, HTTPRoute, GRPCRoute or
	// policy-default.
	API       string `json:"api"`
	Direction string `json:"direction"`
	// Route name; [DEFAULT] for the default route. Untrusted text.
	Route string `json:"route"`
	// RouteNamespace and RouteGroup of a policy route.
	RouteNamespace string `json:"routeNamespace,omitempty"`
	RouteGroup     string `json:"routeGroup,omitempty"`
	// Dst is the legacy dst label (ServiceProfile rows).
	Dst string `json:"dst,omitempty"`
	// Parent of a policy route.
	Parent *Parent `json:"parent,omitempty"`
	// Requests is the number of requests completed in the window, as the
	// application saw them (effective, after retries).
	Requests float64 `json:"requests"`
	// RPS summed over proxies, each over its own window.
	RPS float64 `json:"rps"`
	// Success is the effective success rate (0..1), nil without requests.
	Success *float64 `json:"success"`
	// ActualSuccess is the success rate of every attempt, retries included;
	// nil without attempts.
	ActualSuccess *float64 `json:"actualSuccess"`
	// Attempts is the number of attempts (retries included), when counted.
	Attempts *float64 `json:"attempts"`
	// RetryRate: extra attempts per request; nil when not counted.
	RetryRate *float64 `json:"retryRate"`
	// TimeoutRate: requests that ended in a timeout, per request.
	TimeoutRate *float64 `json:"timeoutRate"`
	// LatencyMs quantiles of the route (effective) latency.
	LatencyMs Latency `json:"latencyMs"`
	// Backends of a policy route (per attempt).
	Backends []Backend `json:"backends,omitempty"`
	// Pods whose proxy counted this route.
	Pods int `json:"pods"`

	acc  *counts
	pods map[string]bool
	back map[string]*Backend
}

// Result is the computation over every pair.
type Result struct {
	Rows []Row `json:"rows"`
	// Proxies compared (pairs).
	Proxies int `json:"proxies"`
	// Traffic is the number of requests the proxies counted for the
	// filter's direction and Service on their per-endpoint (route-less)
	// request_total, whatever route API applies: evidence of traffic.
	Traffic float64 `json:"traffic"`
	// Restarted lists pods whose proxy restarted between the scrapes (all
	// their series count from zero).
	Restarted []string `json:"restarted,omitempty"`
	// Resets counts series that went down between the scrapes (counter
	// reset: an evicted legacy series recreated, or a restart).
	Resets int `json:"resets"`
	// Vanished counts series present in the first scrape and not in the
	// second (legacy series evicted after being idle).
	Vanished int `json:"vanished"`
}

type counts struct {
	requests, failures, timeouts float64
	routeRequests                float64 // SP route_request_total
	actual, actualFailures       float64
	hasActual                    bool
	attempts                     float64
	hasAttempts                  bool
	retries                      float64
	hasRetries                   bool
	buckets                      map[float64]float64
	rps                          float64
}

func (c *counts) bucket(le string, d float64) {
	b, err := strconv.ParseFloat(le, 64)
	if err != nil {
		return
	}
	if c.buckets == nil {
		c.buckets = map[float64]float64{}
	}
	c.buckets[b] += d
}

var timeoutErrors = map[string]bool{
	"REQUEST_TIMEOUT": true, "RESPONSE_HEADERS_TIMEOUT": true, "RESPONSE_STREAM_TIMEOUT": true, "IDLE_TIMEOUT": true,
}

// Compute aggregates every pair's deltas into rows.
func Compute(pairs []Pair, f Filter) Result {
	var res Result
	rows := map[string]*Row{}
	for _, p := range pairs {
		if p.Before.Snap == nil || p.After.Snap == nil {
			continue
		}
		res.Proxies++
		dt := p.After.At.Sub(p.Before.At).Seconds()
		restarted := p.Before.Snap.StartTime != 0 && p.After.Snap.StartTime != 0 && p.Before.Snap.StartTime != p.After.Snap.StartTime
		if restarted {
			res.Restarted = append(res.Restarted, p.Pod)
		}
		for key, s1 := range p.Before.Snap.Series {
			if _, ok := p.After.Snap.Series[key]; !ok && matches(s1, f) {
				res.Vanished++
			}
		}
		for key, s2 := range p.After.Snap.Series {
			if !matches(s2, f) {
				continue
			}
			d := s2.Value
			if s1, ok := p.Before.Snap.Series[key]; ok && !restarted {
				if s2.Value >= s1.Value {
					d = s2.Value - s1.Value
				} else {
					res.Resets++
				}
			}
			if s2.Name == "request_total" {
				res.Traffic += d
				continue
			}
			add(rows, p.Pod, s2, d, dt)
		}
	}
	for _, r := range rows {
		res.Rows = append(res.Rows, finish(r))
	}
	sort.Strings(res.Restarted)
	sort.Slice(res.Rows, func(i, j int) bool { return rowLess(&res.Rows[i], &res.Rows[j]) })
	return res
}

func rowLess(a, b *Row) bool {
	if ta, tb := a.target(), b.target(); ta != tb {
		return ta < tb
	}
	if a.API != b.API {
		return a.API < b.API
	}
	if (a.Route == DefaultRoute) != (b.Route == DefaultRoute) {
		return b.Route == DefaultRoute
	}
	if a.Route != b.Route {
		return a.Route < b.Route
	}
	return a.RouteNamespace < b.RouteNamespace
}

func (r *Row) target() string {
	if r.Parent != nil {
		return r.Parent.Namespace + "/" + r.Parent.Name + ":" + r.Parent.Port
	}
	return r.Dst
}

// Target is the destination in a short form: "name.namespace:port" for a
// Service (both APIs), the dst label otherwise.
func (r *Row) Target() string {
	if r.Parent != nil {
		if r.Parent.Kind == "Service" {
			return r.Parent.Name + "." + r.Parent.Namespace + ":" + r.Parent.Port
		}
		return r.Parent.Kind + "/" + r.Parent.Name + "." + r.Parent.Namespace + ":" + r.Parent.Port
	}
	host, port := splitHostPort(r.Dst)
	if parts := strings.Split(host, "."); len(parts) >= 4 && parts[2] == "svc" {
		return parts[0] + "." + parts[1] + ":" + port
	}
	return r.Dst
}

func splitHostPort(s string) (string, string) {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// matches tells whether a series belongs to the filter's direction and
// Service.
func matches(s *Series, f Filter) bool {
	switch {
	case s.Name == "request_total":
		if s.Labels.Get("direction") != f.Direction {
			return false
		}
		if f.Name == "" || f.Direction == "inbound" {
			// Server proxies: every request they receive is for the
			// scraped workload.
			return true
		}
		if s.Labels.Get("dst_service") == f.Name && s.Labels.Get("dst_namespace") == f.Namespace {
			return portMatches(s.Labels.Get("authority"), f.Port)
		}
		host, port := splitHostPort(s.Labels.Get("authority"))
		return (host == f.FQDN || host == f.Name+"."+f.Namespace || strings.HasPrefix(host, f.Name+"."+f.Namespace+".svc.")) &&
			(f.Port == 0 || port == strconv.Itoa(int(f.Port)))
	case strings.HasPrefix(s.Name, "route_"):
		if s.Labels.Get("direction") != f.Direction {
			return false
		}
		if f.Name == "" {
			return true
		}
		host, port := splitHostPort(s.Labels.Get("dst"))
		return host == f.FQDN && (f.Port == 0 || port == strconv.Itoa(int(f.Port)))
	case strings.HasPrefix(s.Name, "outbound_http_route_"), strings.HasPrefix(s.Name, "outbound_grpc_route_"):
		if f.Direction != "outbound" {
			return false
		}
		if f.Name == "" {
			return true
		}
		l := s.Labels
		return l.Get("parent_kind") == "Service" && l.Get("parent_group") == "core" &&
			l.Get("parent_namespace") == f.Namespace && l.Get("parent_name") == f.Name &&
			(f.Port == 0 || l.Get("parent_port") == strconv.Itoa(int(f.Port)))
	}
	return false
}

func portMatches(authority string, port uint32) bool {
	if port == 0 {
		return true
	}
	_, p := splitHostPort(authority)
	return p == "" || p == strconv.Itoa(int(port))
}

func add(rows map[string]*Row, pod string, s *Series, d, dt float64) {
	l := s.Labels
	if strings.HasPrefix(s.Name, "route_") {
		route := l.Get("rt_route")
		if !l.Has("rt_route") {
			route = DefaultRoute
		}
		key := "sp\x00" + l.Get("direction") + "\x00" + l.Get("dst") + "\x00" + route
		r := rows[key]
		if r == nil {
			r = &Row{API: APIServiceProfile, Direction: l.Get("direction"), Route: route, Dst: l.Get("dst"), acc: &counts{}, pods: map[string]bool{}}
			rows[key] = r
		}
		addSP(r, pod, s, d, dt)
		return
	}
	grpc := strings.HasPrefix(s.Name, "outbound_grpc_route_")
	fam := strings.TrimPrefix(strings.TrimPrefix(s.Name, "outbound_http_route_"), "outbound_grpc_route_")
	var key strings.Builder
	key.WriteString("policy")
	for _, n := range policyKeyLabels {
		key.WriteByte(0)
		key.WriteString(l.Get(n))
	}
	if grpc {
		key.WriteString("\x00grpc")
	}
	r := rows[key.String()]
	if r == nil {
		r = &Row{Direction: "outbound", Route: l.Get("route_name"), RouteNamespace: l.Get("route_namespace"), RouteGroup: l.Get("route_group"),
			Parent: &Parent{Group: l.Get("parent_group"), Kind: l.Get("parent_kind"), Namespace: l.Get("parent_namespace"),
				Name: l.Get("parent_name"), Port: l.Get("parent_port"), SectionName: l.Get("parent_section_name")},
			acc: &counts{}, pods: map[string]bool{}}
		switch kind := l.Get("route_kind"); {
		case kind == "default" || kind == "":
			r.API = APIPolicyDefault
			if n := r.Route; n == "http" || n == "grpc" || n == "default" || n == "" {
				r.Route = DefaultRoute
			} else {
				r.Route = "[DEFAULT:" + n + "]"
			}
		case grpc || kind == "GRPCRoute":
			r.API = APIGRPCRoute
		default:
			r.API = APIHTTPRoute
		}
		rows[key.String()] = r
	}
	addPolicy(r, pod, fam, grpc, s, d, dt)
}

var policyKeyLabels = []string{"parent_group", "parent_kind", "parent_namespace", "parent_name", "parent_port", "parent_section_name",
	"route_group", "route_kind", "route_namespace", "route_name"}

func addSP(r *Row, pod string, s *Series, d, dt float64) {
	c, l := r.acc, s.Labels
	switch s.Name {
	case "route_request_total":
		c.routeRequests += d
	case "route_response_total":
		r.pods[pod] = true
		c.requests += d
		if dt > 0 {
			c.rps += d / dt
		}
		if l.Get("classification") == "failure" {
			c.failures += d
		}
		if strings.Contains(strings.ToLower(l.Get("error")), "timeout") {
			c.timeouts += d
		}
	case "route_actual_response_total":
		c.hasActual = true
		c.actual += d
		if l.Get("classification") == "failure" {
			c.actualFailures += d
		}
	case "route_actual_request_total":
		c.hasAttempts = true
		c.attempts += d
	case "route_response_latency_ms_bucket":
		c.bucket(l.Get("le"), d)
	}
}

func policyFailure(grpc bool, l Labels) bool {
	if l.Get("error") != "" {
		return true
	}
	if grpc {
		return l.Get("grpc_status") != "OK"
	}
	return strings.HasPrefix(l.Get("http_status"), "5")
}

func addPolicy(r *Row, pod, fam string, grpc bool, s *Series, d, dt float64) {
	c, l := r.acc, s.Labels
	switch fam {
	case "request_statuses_total":
		r.pods[pod] = true
		c.requests += d
		if dt > 0 {
			c.rps += d / dt
		}
		if policyFailure(grpc, l) {
			c.failures += d
		}
		if timeoutErrors[l.Get("error")] {
			c.timeouts += d
		}
	case "request_duration_seconds_bucket":
		if b, err := strconv.ParseFloat(l.Get("le"), 64); err == nil {
			c.bucket(strconv.FormatFloat(b*1000, 'g', -1, 64), d)
		}
	case "retry_requests_total":
		c.hasRetries = true
		c.retries += d
	case "backend_requests_total":
		c.hasAttempts = true
		c.attempts += d
		b := backend(r, l)
		b.acc.attempts += d
		if dt > 0 {
			b.acc.rps += d / dt
		}
	case "backend_response_statuses_total":
		c.hasActual = true
		c.actual += d
		b := backend(r, l)
		b.acc.actual += d
		if policyFailure(grpc, l) {
			c.actualFailures += d
			b.acc.actualFailures += d
		}
	case "backend_response_duration_seconds_bucket":
		if v, err := strconv.ParseFloat(l.Get("le"), 64); err == nil {
			backend(r, l).acc.bucket(strconv.FormatFloat(v*1000, 'g', -1, 64), d)
		}
	}
}

func backend(r *Row, l Labels) *Backend {
	key := l.Get("backend_group") + "\x00" + l.Get("backend_kind") + "\x00" + l.Get("backend_namespace") + "\x00" +
		l.Get("backend_name") + "\x00" + l.Get("backend_port") + "\x00" + l.Get("backend_section_name")
	if r.back == nil {
		r.back = map[string]*Backend{}
	}
	b := r.back[key]
	if b == nil {
		b = &Backend{Group: l.Get("backend_group"), Kind: l.Get("backend_kind"), Namespace: l.Get("backend_namespace"),
			Name: l.Get("backend_name"), Port: l.Get("backend_port"), SectionName: l.Get("backend_section_name"), acc: &counts{}}
		r.back[key] = b
	}
	return b
}

func ratio(num, den float64) *float64 {
	if den <= 0 {
		return nil
	}
	v := num / den
	return &v
}

// round6 keeps 6 decimals: rates and milliseconds need no more, and JSON
// stays free of float noise (49.39999999999999).
func round6(v *float64) *float64 {
	if v == nil {
		return nil
	}
	x := math.Round(*v*1e6) / 1e6
	return &x
}

func (l Latency) rounded() Latency {
	return Latency{P50: round6(l.P50), P95: round6(l.P95), P99: round6(l.P99)}
}

func finish(r *Row) Row {
	c := r.acc
	r.Requests, r.RPS, r.Pods = c.requests, c.rps, len(r.pods)
	if c.requests > 0 {
		r.Success = ratio(c.requests-c.failures, c.requests)
		r.TimeoutRate = ratio(c.timeouts, c.requests)
	}
	if c.hasActual && c.actual > 0 {
		r.ActualSuccess = ratio(c.actual-c.actualFailures, c.actual)
	}
	if c.hasAttempts {
		a := c.attempts
		r.Attempts = &a
	}
	switch {
	case c.hasRetries && c.requests > 0:
		r.RetryRate = ratio(c.retries, c.requests)
	case r.API == APIServiceProfile && c.hasAttempts && c.routeRequests > 0:
		extra := math.Max(0, c.attempts-c.routeRequests)
		r.RetryRate = ratio(extra, c.routeRequests)
	}
	r.LatencyMs = quantiles(c.buckets).rounded()
	r.RPS = *round6(&r.RPS)
	r.Success, r.ActualSuccess, r.RetryRate, r.TimeoutRate = round6(r.Success), round6(r.ActualSuccess), round6(r.RetryRate), round6(r.TimeoutRate)
	for _, b := range r.back {
		b.Attempts, b.AttemptsPerSecond = b.acc.attempts, b.acc.rps
		if b.acc.actual > 0 {
			b.Success = ratio(b.acc.actual-b.acc.actualFailures, b.acc.actual)
		}
		b.LatencyMs = quantiles(b.acc.buckets).rounded()
		b.AttemptsPerSecond = *round6(&b.AttemptsPerSecond)
		b.Success = round6(b.Success)
		r.Backends = append(r.Backends, *b)
	}
	sort.Slice(r.Backends, func(i, j int) bool {
		a, b := r.Backends[i], r.Backends[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Port < b.Port
	})
	out := *r
	out.acc, out.pods, out.back = nil, nil, nil
	for i := range out.Backends {
		out.Backends[i].acc = nil
	}
	return out
}

func quantiles(buckets map[float64]float64) Latency {
	if len(buckets) == 0 {
		return Latency{}
	}
	return Latency{P50: Quantile(0.5, buckets), P95: Quantile(0.95, buckets), P99: Quantile(0.99, buckets)}
}

// Quantile does what Prometheus' histogram_quantile does with classic
// buckets: buckets maps each upper bound (le, +Inf included) to its
// cumulative count. Nil when the total is 0.
func Quantile(q float64, buckets map[float64]float64) *float64 {
	bounds := make([]float64, 0, len(buckets))
	for b := range buckets {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	if len(bounds) == 0 {
		return nil
	}
	total := buckets[bounds[len(bounds)-1]]
	if !math.IsInf(bounds[len(bounds)-1], 1) || total <= 0 {
		return nil
	}
	rank := q * total
	prevBound, prevCount := 0.0, 0.0
	for i, b := range bounds {
		c := math.Max(buckets[b], prevCount) // monotonic, as Prometheus makes it
		if c >= rank {
			if math.IsInf(b, 1) {
				if i == 0 {
					return nil
				}
				v := bounds[i-1]
				return &v
			}
			v := b
			if c > prevCount {
				v = prevBound + (b-prevBound)*(rank-prevCount)/(c-prevCount)
			}
			return &v
		}
		prevBound, prevCount = b, c
	}
	return nil
}
