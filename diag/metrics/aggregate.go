package metrics

import (
	"math"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
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
	back map[[6]string]*Backend
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

func (c *counts) bucket(le, d float64) {
	if c.buckets == nil {
		c.buckets = map[float64]float64{}
	}
	c.buckets[le] += d
}

var timeoutErrors = map[string]bool{
	"REQUEST_TIMEOUT": true, "RESPONSE_HEADERS_TIMEOUT": true, "RESPONSE_STREAM_TIMEOUT": true, "IDLE_TIMEOUT": true,
}

// Compute aggregates every pair's deltas into rows.
func Compute(pairs []Pair, f Filter) Result {
	// Pairs are independent: each worker sums a contiguous share, and the
	// shares are merged in order, so the result does not depend on timing.
	workers := max(1, min(runtime.GOMAXPROCS(0), len(pairs)/8))
	parts := make([]partial, workers)
	var wg sync.WaitGroup
	for w := range parts {
		lo, hi := w*len(pairs)/workers, (w+1)*len(pairs)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[w] = computePart(pairs[lo:hi], newMatcher(f))
		}()
	}
	wg.Wait()
	res, rows := parts[0].res, parts[0].rows
	for _, p := range parts[1:] {
		res.Proxies += p.res.Proxies
		res.Traffic += p.res.Traffic
		res.Resets += p.res.Resets
		res.Vanished += p.res.Vanished
		res.Restarted = append(res.Restarted, p.res.Restarted...)
		for k, r := range p.rows {
			if into := rows[k]; into != nil {
				into.merge(r)
			} else {
				rows[k] = r
			}
		}
	}
	for _, r := range rows {
		res.Rows = append(res.Rows, finish(r))
	}
	sort.Strings(res.Restarted)
	sort.Slice(res.Rows, func(i, j int) bool { return rowLess(&res.Rows[i], &res.Rows[j]) })
	return res
}

type partial struct {
	res  Result
	rows map[rowKey]*Row
}

func computePart(pairs []Pair, m matcher) partial {
	var res Result
	rows := map[rowKey]*Row{}
	var v view
	var bs []bucketDelta
	for i := range pairs {
		p := &pairs[i]
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
			s2 := p.After.Snap.Series[key]
			if s2 != nil && s1.Buckets == nil {
				continue
			}
			gone := 1
			if s1.Buckets != nil {
				gone = 0
				for j, b := range s1.Buckets {
					if _, ok := s2.bucketOf(j, b.LE); !ok {
						gone++
					}
				}
			}
			if gone > 0 {
				v.fill(s1.Labels)
				if m.matches(s1.Name, &v) {
					res.Vanished += gone
				}
			}
		}
		for key, s2 := range p.After.Snap.Series {
			v.fill(s2.Labels)
			if !m.matches(s2.Name, &v) {
				continue
			}
			s1 := p.Before.Snap.Series[key]
			if restarted {
				s1 = nil
			}
			if s2.Buckets != nil {
				bs = bs[:0]
				for i, b := range s2.Buckets {
					before, had := s1.bucketOf(i, b.LE)
					bs = append(bs, bucketDelta{b.Bound, delta(&res, b.Count, before, had)})
				}
				add(rows, p.Pod, s2.Name, &v, 0, dt, bs)
				continue
			}
			var before float64
			if s1 != nil {
				before = s1.Value
			}
			d := delta(&res, s2.Value, before, s1 != nil)
			switch {
			case s2.Name == "request_total":
				res.Traffic += d
			case strings.HasSuffix(s2.Name, "_bucket"): // one bound of a histogram without TYPE
				bs = bs[:0]
				s2.EachBucket(func(b Bucket) { bs = append(bs, bucketDelta{b.Bound, d}) })
				add(rows, p.Pod, s2.Name, &v, 0, dt, bs)
			default:
				add(rows, p.Pod, s2.Name, &v, d, dt, nil)
			}
		}
	}
	return partial{res, rows}
}

// merge adds o's counts (another share of the pairs) into r.
func (r *Row) merge(o *Row) {
	r.acc.merge(o.acc)
	for pod := range o.pods {
		r.pods[pod] = true
	}
	for k, b := range o.back {
		if r.back == nil {
			r.back = map[[6]string]*Backend{}
		}
		if into := r.back[k]; into != nil {
			into.acc.merge(b.acc)
		} else {
			r.back[k] = b
		}
	}
}

func (c *counts) merge(o *counts) {
	c.requests += o.requests
	c.failures += o.failures
	c.timeouts += o.timeouts
	c.routeRequests += o.routeRequests
	c.actual += o.actual
	c.actualFailures += o.actualFailures
	c.hasActual = c.hasActual || o.hasActual
	c.attempts += o.attempts
	c.hasAttempts = c.hasAttempts || o.hasAttempts
	c.retries += o.retries
	c.hasRetries = c.hasRetries || o.hasRetries
	for le, n := range o.buckets {
		c.bucket(le, n)
	}
	c.rps += o.rps
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

// view holds the labels Compute reads from one series, gathered in one
// pass (a policy series has 17 labels; looking each up is the cost).
type view struct {
	direction, dst, route, classification, err, le string
	hasRoute                                       bool
	httpStatus, grpcStatus                         string
	dstService, dstNamespace, authority            string
	parent                                         [6]string // group, kind, namespace, name, port, section_name
	routeRef                                       [4]string // group, kind, namespace, name
	backend                                        [6]string // group, kind, namespace, name, port, section_name
}

func (v *view) fill(ls Labels) {
	*v = view{}
	for _, l := range ls {
		switch l.Name {
		case "direction":
			v.direction = l.Value
		case "dst":
			v.dst = l.Value
		case "rt_route":
			v.route, v.hasRoute = l.Value, true
		case "classification":
			v.classification = l.Value
		case "error":
			v.err = l.Value
		case "le":
			v.le = l.Value
		case "http_status":
			v.httpStatus = l.Value
		case "grpc_status":
			v.grpcStatus = l.Value
		case "dst_service":
			v.dstService = l.Value
		case "dst_namespace":
			v.dstNamespace = l.Value
		case "authority":
			v.authority = l.Value
		case "parent_group":
			v.parent[0] = l.Value
		case "parent_kind":
			v.parent[1] = l.Value
		case "parent_namespace":
			v.parent[2] = l.Value
		case "parent_name":
			v.parent[3] = l.Value
		case "parent_port":
			v.parent[4] = l.Value
		case "parent_section_name":
			v.parent[5] = l.Value
		case "route_group":
			v.routeRef[0] = l.Value
		case "route_kind":
			v.routeRef[1] = l.Value
		case "route_namespace":
			v.routeRef[2] = l.Value
		case "route_name":
			v.routeRef[3] = l.Value
		case "backend_group":
			v.backend[0] = l.Value
		case "backend_kind":
			v.backend[1] = l.Value
		case "backend_namespace":
			v.backend[2] = l.Value
		case "backend_name":
			v.backend[3] = l.Value
		case "backend_port":
			v.backend[4] = l.Value
		case "backend_section_name":
			v.backend[5] = l.Value
		}
	}
}

// matcher is a Filter with the strings it compares made once.
type matcher struct {
	f                       Filter
	port, nameNS, nameNSSvc string
}

func newMatcher(f Filter) matcher {
	m := matcher{f: f, nameNS: f.Name + "." + f.Namespace, nameNSSvc: f.Name + "." + f.Namespace + ".svc."}
	if f.Port != 0 {
		m.port = strconv.Itoa(int(f.Port))
	}
	return m
}

// matches tells whether a series belongs to the filter's direction and
// Service.
func (m *matcher) matches(name string, v *view) bool {
	f := m.f
	switch {
	case name == "request_total":
		if v.direction != f.Direction {
			return false
		}
		if f.Name == "" || f.Direction == "inbound" {
			// Server proxies: every request they receive is for the
			// scraped workload.
			return true
		}
		if v.dstService == f.Name && v.dstNamespace == f.Namespace {
			_, p := splitHostPort(v.authority)
			return m.port == "" || p == "" || p == m.port
		}
		host, port := splitHostPort(v.authority)
		return (host == f.FQDN || host == m.nameNS || strings.HasPrefix(host, m.nameNSSvc)) &&
			(m.port == "" || port == m.port)
	case strings.HasPrefix(name, "route_"):
		if v.direction != f.Direction {
			return false
		}
		if f.Name == "" {
			return true
		}
		host, port := splitHostPort(v.dst)
		return host == f.FQDN && (m.port == "" || port == m.port)
	case strings.HasPrefix(name, "outbound_http_route_"), strings.HasPrefix(name, "outbound_grpc_route_"):
		if f.Direction != "outbound" {
			return false
		}
		if f.Name == "" {
			return true
		}
		return v.parent[1] == "Service" && v.parent[0] == "core" &&
			v.parent[2] == f.Namespace && v.parent[3] == f.Name &&
			(m.port == "" || v.parent[4] == m.port)
	}
	return false
}

// rowKey identifies a row: a ServiceProfile route of a dst, or a policy
// route of a parent.
type rowKey struct {
	policy, grpc          bool
	direction, dst, route string
	parent                [6]string
	routeRef              [4]string
}

// delta is a counter's increase: its value when it is new or went down (a
// reset, counted in res).
func delta(res *Result, now, before float64, had bool) float64 {
	switch {
	case !had:
		return now
	case now >= before:
		return now - before
	}
	res.Resets++
	return now
}

// bucketDelta is the increase of one histogram bucket over the window.
type bucketDelta struct{ bound, d float64 }

// bucketOf is bucket for a series that may be nil (no earlier scrape).
func (s *Series) bucketOf(i int, le string) (float64, bool) {
	if s == nil {
		return 0, false
	}
	return s.bucket(i, le)
}

// add counts one series' increase d (or, for histogram buckets, bs) in its
// row.
func add(rows map[rowKey]*Row, pod, name string, v *view, d, dt float64, bs []bucketDelta) {
	if strings.HasPrefix(name, "route_") {
		route := v.route
		if !v.hasRoute {
			route = DefaultRoute
		}
		key := rowKey{direction: v.direction, dst: v.dst, route: route}
		r := rows[key]
		if r == nil {
			r = &Row{API: APIServiceProfile, Direction: v.direction, Route: route, Dst: v.dst, acc: &counts{}, pods: map[string]bool{}}
			rows[key] = r
		}
		addSP(r, pod, name, v, d, dt, bs)
		return
	}
	grpc := strings.HasPrefix(name, "outbound_grpc_route_")
	fam := strings.TrimPrefix(strings.TrimPrefix(name, "outbound_http_route_"), "outbound_grpc_route_")
	key := rowKey{policy: true, grpc: grpc, parent: v.parent, routeRef: v.routeRef}
	r := rows[key]
	if r == nil {
		r = &Row{Direction: "outbound", Route: v.routeRef[3], RouteNamespace: v.routeRef[2], RouteGroup: v.routeRef[0],
			Parent: &Parent{Group: v.parent[0], Kind: v.parent[1], Namespace: v.parent[2],
				Name: v.parent[3], Port: v.parent[4], SectionName: v.parent[5]},
			acc: &counts{}, pods: map[string]bool{}}
		switch kind := v.routeRef[1]; {
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
		rows[key] = r
	}
	addPolicy(r, pod, fam, grpc, v, d, dt, bs)
}

func addSP(r *Row, pod, name string, v *view, d, dt float64, bs []bucketDelta) {
	c := r.acc
	switch name {
	case "route_request_total":
		c.routeRequests += d
	case "route_response_total":
		r.pods[pod] = true
		c.requests += d
		if dt > 0 {
			c.rps += d / dt
		}
		if v.classification == "failure" {
			c.failures += d
		}
		if strings.Contains(strings.ToLower(v.err), "timeout") {
			c.timeouts += d
		}
	case "route_actual_response_total":
		c.hasActual = true
		c.actual += d
		if v.classification == "failure" {
			c.actualFailures += d
		}
	case "route_actual_request_total":
		c.hasAttempts = true
		c.attempts += d
	case "route_response_latency_ms_bucket":
		for _, b := range bs {
			c.bucket(b.bound, b.d)
		}
	}
}

func policyFailure(grpc bool, v *view) bool {
	if v.err != "" {
		return true
	}
	if grpc {
		return v.grpcStatus != "OK"
	}
	return strings.HasPrefix(v.httpStatus, "5")
}

func addPolicy(r *Row, pod, fam string, grpc bool, v *view, d, dt float64, bs []bucketDelta) {
	c := r.acc
	switch fam {
	case "request_statuses_total":
		r.pods[pod] = true
		c.requests += d
		if dt > 0 {
			c.rps += d / dt
		}
		if policyFailure(grpc, v) {
			c.failures += d
		}
		if timeoutErrors[v.err] {
			c.timeouts += d
		}
	case "request_duration_seconds_bucket":
		for _, b := range bs {
			c.bucket(b.bound*1000, b.d) // seconds: the quantiles are in ms
		}
	case "retry_requests_total":
		c.hasRetries = true
		c.retries += d
	case "backend_requests_total":
		c.hasAttempts = true
		c.attempts += d
		b := backend(r, v)
		b.acc.attempts += d
		if dt > 0 {
			b.acc.rps += d / dt
		}
	case "backend_response_statuses_total":
		c.hasActual = true
		c.actual += d
		b := backend(r, v)
		b.acc.actual += d
		if policyFailure(grpc, v) {
			c.actualFailures += d
			b.acc.actualFailures += d
		}
	case "backend_response_duration_seconds_bucket":
		acc := backend(r, v).acc
		for _, b := range bs {
			acc.bucket(b.bound*1000, b.d)
		}
	}
}

func backend(r *Row, v *view) *Backend {
	if r.back == nil {
		r.back = map[[6]string]*Backend{}
	}
	b := r.back[v.backend]
	if b == nil {
		l := v.backend
		b = &Backend{Group: l[0], Kind: l[1], Namespace: l[2], Name: l[3], Port: l[4], SectionName: l[5], acc: &counts{}}
		r.back[v.backend] = b
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
