package desttest

// The destination's admin metrics (destination-metrics.md §2), kept the way
// the real controller keeps them, and served on an admin HTTP endpoint like
// its :9996 (/metrics, /ping, /ready):
//
//   - profile_subscribers{namespace,profile} (gauge) and
//     profile_updates{namespace,profile} (counter, no _total) per profile
//     publisher. A publisher is created by a subscription (primary on the
//     token's namespace, backup on the service's: the same ID counts twice)
//     or by the informer seeing a ServiceProfile, and never removed.
//     profile_updates counts every informer event of that ServiceProfile
//     (add, update, delete), whether or not anything is sent.
//   - service_subscribers{namespace,name}: streams per Service, the series
//     deleted when the last one leaves.
//   - profile_updates_queue_overflow{fqn,port}: created at 0 for every
//     stream, incremented by Overflow (the stream then ends with OK).
//   - <kind>_informer_lag_seconds histograms (buckets 0.5 .. 1000 s):
//     observed on updates whose newest managedFields Update time changed
//     (now - that time); a Service update counts twice (two watchers).
//     Creates are not observed.
//   - endpoint_updates_queue_overflow{service}: no Get is served, so no
//     series, as on a real server that served none.

import (
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"
)

// lagBuckets are the informer lag histogram buckets (watcher/prometheus.go).
var lagBuckets = []float64{0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000}

// lagKinds are the informers whose lag is exported.
var lagKinds = []string{"services", "serviceprofiles", "endpointslices", "endpoints", "pods", "servers", "externalworkload"}

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	count  uint64
	sum    float64
}

type profileID struct{ namespace, profile string }

type overflowID struct {
	fqn  string
	port uint32
}

type metricsState struct {
	mu              sync.Mutex
	subscribers     map[profileID]int
	updates         map[profileID]int
	svcSubscribers  map[profileID]int // namespace, name
	overflow        map[overflowID]int
	lag             map[string]*histogram
	overflowStreams map[overflowID][]chan struct{}
}

func newMetricsState() *metricsState {
	m := &metricsState{subscribers: map[profileID]int{}, updates: map[profileID]int{}, svcSubscribers: map[profileID]int{},
		overflow: map[overflowID]int{}, lag: map[string]*histogram{}, overflowStreams: map[overflowID][]chan struct{}{}}
	for _, k := range lagKinds {
		m.lag[k] = &histogram{counts: make([]uint64, len(lagBuckets))}
	}
	return m
}

// publisher makes sure a publisher (both series) exists for id.
func (m *metricsState) publisherLocked(id profileID) {
	if _, ok := m.subscribers[id]; !ok {
		m.subscribers[id] = 0
		m.updates[id] = 0
	}
}

// profileEvent counts one informer event of a ServiceProfile; old is the
// previous object for updates (nil otherwise).
func (m *metricsState) profileEvent(obj, old interface{}) {
	u, ok := asUnstructured(obj)
	if !ok {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	id := profileID{u.GetNamespace(), u.GetName()}
	m.publisherLocked(id)
	m.updates[id]++
	if o, ok := asUnstructured(old); ok {
		m.observeLagLocked("serviceprofiles", latestUpdate(o.GetManagedFields()), latestUpdate(u.GetManagedFields()), 1)
	}
}

// serviceUpdate observes the Service informer lag, twice as the real
// controller does (endpoints and opaque-ports watchers).
func (m *metricsState) serviceUpdate(old, obj metav1.Object) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.observeLagLocked("services", latestUpdate(old.GetManagedFields()), latestUpdate(obj.GetManagedFields()), 2)
}

func (m *metricsState) observeLagLocked(kind string, before, after time.Time, times int) {
	if after.IsZero() || after.Equal(before) {
		return
	}
	m.observeLocked(kind, time.Since(after).Seconds(), times)
}

func (m *metricsState) observeLocked(kind string, v float64, times int) {
	h := m.lag[kind]
	for t := 0; t < times; t++ {
		h.count++
		h.sum += v
		for i, b := range lagBuckets {
			if v <= b {
				h.counts[i]++
				break
			}
		}
	}
}

// latestUpdate is the newest managedFields time with operation Update
// (endpoints_watcher.go::latestUpdated).
func latestUpdate(mf []metav1.ManagedFieldsEntry) time.Time {
	var t time.Time
	for _, e := range mf {
		if e.Operation == metav1.ManagedFieldsOperationUpdate && e.Time != nil && e.Time.After(t) {
			t = e.Time.Time
		}
	}
	return t
}

func asUnstructured(o interface{}) (*unstructured.Unstructured, bool) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	u, ok := o.(*unstructured.Unstructured)
	return u, ok && u != nil
}

// subscribe counts a stream: primary {token ns} and backup {service ns}
// (one ID counted twice when they are the same); the Service's subscriber
// gauge; the stream's overflow series at 0. It returns the channel that
// Overflow closes.
func (m *metricsState) subscribe(sub *subscription, profile string) chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ns := range sub.profileNamespaces() {
		id := profileID{ns, profile}
		m.publisherLocked(id)
		m.subscribers[id]++
	}
	m.svcSubscribers[profileID{sub.svcNS, sub.svcName}]++
	oid := overflowID{sub.fqn, sub.port}
	m.overflow[oid] += 0
	ch := make(chan struct{})
	m.overflowStreams[oid] = append(m.overflowStreams[oid], ch)
	return ch
}

func (m *metricsState) unsubscribe(sub *subscription, profile string, ch chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ns := range sub.profileNamespaces() {
		m.subscribers[profileID{ns, profile}]--
	}
	sid := profileID{sub.svcNS, sub.svcName}
	if m.svcSubscribers[sid]--; m.svcSubscribers[sid] <= 0 {
		delete(m.svcSubscribers, sid)
	}
	oid := overflowID{sub.fqn, sub.port}
	list := m.overflowStreams[oid]
	for i, c := range list {
		if c == ch {
			m.overflowStreams[oid] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
}

// profileNamespaces are the namespaces of a stream's subscriptions:
// the token's (primary), then the service's (backup).
func (sub *subscription) profileNamespaces() []string {
	if sub.clientNS == "" {
		return []string{sub.svcNS}
	}
	return []string{sub.clientNS, sub.svcNS}
}

// Overflow acts as if the update queue of every open stream for fqn:port
// were full: each one's profile_updates_queue_overflow is incremented and
// the stream ends with status OK, as the real server does. It returns how
// many streams it ended.
func (s *Server) Overflow(fqn string, port uint32) int {
	m := s.metrics
	m.mu.Lock()
	defer m.mu.Unlock()
	oid := overflowID{fqn, port}
	n := len(m.overflowStreams[oid])
	for _, ch := range m.overflowStreams[oid] {
		m.overflow[oid]++
		close(ch)
	}
	m.overflowStreams[oid] = nil
	return n
}

// ObserveLag records an informer lag observation of kind (e.g.
// "serviceprofiles"), as a slow API server watch would cause.
func (s *Server) ObserveLag(kind string, seconds float64) {
	s.metrics.mu.Lock()
	defer s.metrics.mu.Unlock()
	if _, ok := s.metrics.lag[kind]; ok {
		s.metrics.observeLocked(kind, seconds, 1)
	}
}

// WriteMetrics writes the exposition text, as client_golang formats it.
func (s *Server) WriteMetrics(w io.Writer) {
	m := s.metrics
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	family := func(name, typ, help string, rows []string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		sort.Strings(rows)
		for _, r := range rows {
			b.WriteString(r)
		}
	}
	var rows []string
	for id, v := range m.subscribers {
		rows = append(rows, fmt.Sprintf("profile_subscribers{namespace=%q,profile=%q} %d\n", id.namespace, id.profile, v))
	}
	family("profile_subscribers", "gauge", "A gauge for the current number of subscribers to a profile.", rows)
	rows = nil
	for id, v := range m.updates {
		rows = append(rows, fmt.Sprintf("profile_updates{namespace=%q,profile=%q} %d\n", id.namespace, id.profile, v))
	}
	family("profile_updates", "counter", "A counter for number of updates to a profile.", rows)
	rows = nil
	for id, v := range m.overflow {
		rows = append(rows, fmt.Sprintf("profile_updates_queue_overflow{fqn=%q,port=\"%d\"} %d\n", id.fqn, id.port, v))
	}
	family("profile_updates_queue_overflow", "counter", "A counter incremented whenever the profile updates queue overflows", rows)
	rows = nil
	for id, v := range m.svcSubscribers {
		rows = append(rows, fmt.Sprintf("service_subscribers{name=%q,namespace=%q} %d\n", id.profile, id.namespace, v))
	}
	family("service_subscribers", "gauge", "Number of subscribers to Service changes.", rows)
	family("endpoint_updates_queue_overflow", "counter", "A counter incremented whenever the endpoint updates queue overflows", nil)
	kinds := append([]string{}, lagKinds...)
	sort.Strings(kinds)
	for _, k := range kinds {
		h := m.lag[k]
		name := k + "_informer_lag_seconds"
		fmt.Fprintf(&b, "# HELP %s Histogram of the lag between the %s informer's watch events and the API server.\n# TYPE %s histogram\n", name, k, name)
		var cum uint64
		for i, le := range lagBuckets {
			cum += h.counts[i]
			fmt.Fprintf(&b, "%s_bucket{le=%q} %d\n", name, formatFloat(le), cum)
		}
		fmt.Fprintf(&b, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %s\n%s_count %d\n", name, h.count, name, formatFloat(h.sum), name, h.count)
	}
	_, _ = io.WriteString(w, b.String())
}

func formatFloat(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprint(v)
}

// StartAdmin serves the admin endpoint (/metrics, /ping, /ready) on addr,
// like the destination container's :9996, until the server stops. It
// returns the address it listens on.
func (s *Server) StartAdmin(addr string) (string, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		s.WriteMetrics(w)
	})
	mux.HandleFunc("/ping", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "pong\n") })
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	go func() { <-s.stop; _ = srv.Close() }()
	return lis.Addr().String(), nil
}
