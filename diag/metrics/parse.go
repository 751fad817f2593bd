// Package metrics turns the Prometheus exposition of Linkerd proxies (their
// admin port's /metrics) into per-route golden signals: requests per second,
// success rate (effective and actual), latency quantiles, retry and timeout
// rates, for ServiceProfile routes (route_* families) and policy routes
// (outbound_http_route_* / outbound_grpc_route_*). It is pure: the scraping
// is done elsewhere. Facts: shared/reference/proxy-metrics.md.
package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Limits bound what one exposition may cost.
type Limits struct {
	// MaxBytes of exposition text read from one proxy.
	MaxBytes int64
	// MaxSeries kept from one proxy (route-relevant series only).
	MaxSeries int
}

// DefaultLimits are generous for a real proxy (a proxy with 1000 routes
// exposes a few MiB) and bound a broken or hostile one.
var DefaultLimits = Limits{MaxBytes: 64 << 20, MaxSeries: 500000}

// ErrTooLarge is returned when an exposition exceeds Limits.
var ErrTooLarge = errors.New("metrics exposition too large")

// Label is one label pair.
type Label struct{ Name, Value string }

// Labels are sorted by name.
type Labels []Label

// Get returns the value of label name, "" when absent.
func (ls Labels) Get(name string) string {
	for _, l := range ls {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// Has tells whether label name is present (even with an empty value).
func (ls Labels) Has(name string) bool {
	for _, l := range ls {
		if l.Name == name {
			return true
		}
	}
	return false
}

// Series is one sample, or the buckets of one classic histogram: a family
// with TYPE histogram gives, per label set, one NAME_bucket Series whose
// Buckets hold every le (le is then not among its Labels), plus NAME_count
// and NAME_sum Series when those lines were there. A NAME_bucket sample of
// a family without TYPE stays a plain Series with its le label.
type Series struct {
	Name    string
	Labels  Labels
	Value   float64
	Buckets []Bucket
}

// Bucket is one cumulative bucket of a histogram Series.
type Bucket struct {
	// LE is the upper bound as a label value ("0.025", "+Inf"); Bound is
	// its value.
	LE    string
	Bound float64
	Count float64
}

// setBucket records a bucket; a later sample of the same bound wins, as
// for any series.
func (s *Series) setBucket(b Bucket) {
	for i := range s.Buckets {
		if s.Buckets[i].LE == b.LE {
			s.Buckets[i] = b
			return
		}
	}
	s.Buckets = append(s.Buckets, b)
}

// bucket returns the count of bound le; i is where it is expected (the
// same layout in two scrapes of one proxy).
func (s *Series) bucket(i int, le string) (float64, bool) {
	if i < len(s.Buckets) && s.Buckets[i].LE == le {
		return s.Buckets[i].Count, true
	}
	for _, b := range s.Buckets {
		if b.LE == le {
			return b.Count, true
		}
	}
	return 0, false
}

// EachBucket calls fn with every bucket of s: its Buckets, or the sample
// itself when it is a lone NAME_bucket sample with a numeric le label.
func (s *Series) EachBucket(fn func(Bucket)) {
	if s.Buckets != nil {
		for _, b := range s.Buckets {
			fn(b)
		}
		return
	}
	if !strings.HasSuffix(s.Name, "_bucket") || !s.Labels.Has("le") {
		return
	}
	le := s.Labels.Get("le")
	if bound, err := strconv.ParseFloat(le, 64); err == nil && !math.IsNaN(bound) { // as expfmt drops a NaN bound
		fn(Bucket{LE: le, Bound: bound, Count: s.Value})
	}
}

// Snapshot is what one proxy exposed at one time, route-relevant series only.
type Snapshot struct {
	// StartTime is process_start_time_seconds, 0 when absent. A different
	// value in a later scrape means the proxy restarted.
	StartTime float64
	// Series by key (name and sorted labels).
	Series map[string]*Series
}

// relevant lists the families the aggregation reads. Everything else (tcp_*,
// balancer, frame sizes, inbound policy, process_*) is dropped before
// parsing, which keeps both time and memory proportional to what is used.
func relevant(name string) bool {
	switch {
	case strings.HasPrefix(name, "route_"):
		return true
	case strings.HasPrefix(name, "outbound_http_route_"), strings.HasPrefix(name, "outbound_grpc_route_"):
		return !strings.Contains(name, "_frame_size_")
	case name == "request_total", name == "process_start_time_seconds":
		return true
	}
	return false
}

// used lists the samples Compute reads; other samples of the relevant
// families (histogram _count/_sum, route_retryable_total, the retry
// outcome counters) are skipped before parsing, which is most of the cost.
func used(name string) bool {
	switch name {
	case "request_total", "process_start_time_seconds",
		"route_request_total", "route_response_total", "route_actual_request_total", "route_actual_response_total",
		"route_response_latency_ms_bucket":
		return true
	}
	fam := strings.TrimPrefix(strings.TrimPrefix(name, "outbound_http_route_"), "outbound_grpc_route_")
	if fam == name {
		return false
	}
	switch fam {
	case "request_statuses_total", "request_duration_seconds_bucket", "retry_requests_total",
		"backend_requests_total", "backend_response_statuses_total", "backend_response_duration_seconds_bucket":
		return true
	}
	return false
}

// metricName returns the metric or family name a line is about: the first
// token of a sample line, the third of "# TYPE"/"# HELP" lines, nil for any
// other comment or a blank line.
func metricName(line []byte) []byte {
	line = bytes.TrimLeft(line, " \t")
	if len(line) == 0 {
		return nil
	}
	if line[0] == '#' {
		f := bytes.Fields(line)
		if len(f) >= 3 && (string(f[1]) == "TYPE" || string(f[1]) == "HELP") {
			return f[2]
		}
		return nil
	}
	end := bytes.IndexAny(line, "{ \t")
	if end < 0 {
		end = len(line)
	}
	return line[:end]
}

// Parse reads one proxy's exposition (the legacy text part followed by the
// OpenMetrics part) with prometheus/common's text parser and keeps the
// route-relevant series. It reads at most lim.MaxBytes and keeps at most
// lim.MaxSeries; beyond either it fails with ErrTooLarge.
func Parse(r io.Reader, lim Limits) (*Snapshot, error) {
	return parse(r, lim, nil)
}

// ParseFor is Parse keeping only the lines that can belong to f (its
// direction and Service): a proxy's exposition covers every destination it
// talks to, and parsing is the costly part. The test is a conservative
// substring check; Compute still matches the parsed labels exactly.
func ParseFor(r io.Reader, lim Limits, f Filter) (*Snapshot, error) {
	direction := []byte(`direction="` + f.Direction + `"`)
	var dst, parentName, parentNS []byte
	if f.Name != "" {
		dst = []byte(`dst="` + f.FQDN + `:`)
		parentName = []byte(`parent_name="` + f.Name + `"`)
		parentNS = []byte(`parent_namespace="` + f.Namespace + `"`)
	}
	return parse(r, lim, func(name string, line []byte) bool {
		switch {
		case line[0] == '#' || name == "process_start_time_seconds":
			return true
		case name == "request_total":
			return bytes.Contains(line, direction)
		case strings.HasPrefix(name, "route_"):
			return bytes.Contains(line, direction) && (dst == nil || bytes.Contains(line, dst))
		default: // outbound_{http,grpc}_route_*
			return f.Direction == "outbound" && (parentName == nil || bytes.Contains(line, parentName) && bytes.Contains(line, parentNS))
		}
	})
}

func parse(r io.Reader, lim Limits, keep func(name string, line []byte) bool) (*Snapshot, error) {
	return parseSelected(r, lim, func(name string, line []byte) bool {
		return relevant(name) && (line[0] == '#' || used(name)) && (keep == nil || keep(name, line))
	})
}

// readBuffers hold expositions while they are parsed: nothing parsed keeps a
// reference into them, and a fleet's scrapes are alike in size.
var readBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// parseSelected parses the lines sel keeps (name: see metricName): with
// the scanner when it reads them all, else with expfmt.
func parseSelected(r io.Reader, lim Limits, sel func(name string, line []byte) bool) (*Snapshot, error) {
	if lim.MaxBytes <= 0 || lim.MaxSeries <= 0 {
		lim = DefaultLimits
	}
	buf := readBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 8<<20 { // a huge exposition's buffer is not kept for the next
			buf.Reset()
			readBuffers.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(io.LimitReader(r, lim.MaxBytes+1)); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	if int64(len(data)) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, lim.MaxBytes)
	}
	maxLine := int(min(lim.MaxBytes+1, 8<<20))
	fast := newScanner()
	var kept [][]byte
	samples := 0
	for rest := data; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		if len(line) >= maxLine {
			return nil, fmt.Errorf("%w: a line is longer than %d bytes", ErrTooLarge, maxLine-1)
		}
		line = bytes.TrimSuffix(line, []byte("\r")) // as bufio.ScanLines
		nb := metricName(line)
		if len(nb) == 0 || !sel(fast.intern(nb), line) {
			continue
		}
		if line[0] != '#' {
			samples++
			if samples > lim.MaxSeries {
				return nil, fmt.Errorf("%w: more than %d route series", ErrTooLarge, lim.MaxSeries)
			}
		}
		kept = append(kept, line)
	}
	fast.snap.Series = make(map[string]*Series, samples)
	for _, line := range kept {
		if !fast.line(line) {
			break
		}
	}
	if snap, ok := fast.finish(); ok {
		return snap, nil
	}
	var text bytes.Buffer
	for _, line := range kept {
		text.Write(line)
		text.WriteByte('\n')
	}
	return parseExpfmt(&text, samples)
}

// parseExpfmt parses text with prometheus/common's parser.
func parseExpfmt(text io.Reader, sizeHint int) (*Snapshot, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(text)
	if err != nil {
		return nil, fmt.Errorf("unparseable metrics: %v", err)
	}
	snap := &Snapshot{Series: make(map[string]*Series, sizeHint)}
	var key []byte
	add := func(name string, labels Labels, v float64) {
		if math.IsNaN(v) {
			return
		}
		key = appendKey(key[:0], name, labels)
		snap.Series[string(key)] = &Series{Name: name, Labels: labels, Value: v}
	}
	for name, fam := range fams {
		for _, m := range fam.GetMetric() {
			labels := labelsOf(m)
			switch {
			case name == "process_start_time_seconds":
				if v := metricValue(m); v > 0 {
					snap.StartTime = v
				}
			case m.Histogram != nil:
				// Only what the exposition said: _count and _sum when
				// their lines were there (the callers may drop them), a
				// +Inf bucket from _count when no bucket was +Inf.
				h, inf := m.Histogram, false
				bs := &Series{Name: name + "_bucket", Labels: labels}
				for _, b := range h.GetBucket() {
					inf = inf || math.IsInf(b.GetUpperBound(), 1)
					bs.setBucket(Bucket{formatLE(b.GetUpperBound()), b.GetUpperBound(), float64(b.GetCumulativeCount())})
				}
				if h.SampleCount != nil && !inf {
					bs.setBucket(Bucket{"+Inf", math.Inf(1), float64(h.GetSampleCount())})
				}
				if bs.Buckets != nil {
					key = appendKey(key[:0], bs.Name, labels)
					snap.Series[string(key)] = bs
				}
				if h.SampleCount != nil {
					add(name+"_count", labels, float64(h.GetSampleCount()))
				}
				if h.SampleSum != nil {
					add(name+"_sum", labels, h.GetSampleSum())
				}
			default:
				add(name, labels, metricValue(m))
			}
		}
	}
	return snap, nil
}
func labelsOf(m *dto.Metric) Labels {
	ls := make(Labels, 0, len(m.GetLabel()))
	for _, lp := range m.GetLabel() {
		ls = append(ls, Label{lp.GetName(), lp.GetValue()})
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	return ls
}

func formatLE(le float64) string {
	if math.IsInf(le, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(le, 'g', -1, 64)
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return math.NaN()
}
