// Package ctrlplane turns the metrics of Linkerd's destination controller
// (every linkerd-destination replica's admin port, /metrics) into facts
// about the profiles it serves: how many proxy subscriptions watch a
// profile (per namespace), how many updates it delivered, whether streams
// were aborted on a full update queue, and how far its informers lag behind
// the API server. It is pure: scraping is done elsewhere, parsing is
// diag/metrics'. Facts: shared/reference/destination-metrics.md.
package ctrlplane

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/diag/metrics"
)

// Families are the metric families read.
var Families = append([]string{
	"profile_subscribers", "profile_updates", "profile_updates_queue_overflow",
	"endpoint_updates_queue_overflow", "service_subscribers",
}, lagFamilies()...)

// LagKinds are the informers whose lag is exported, as <kind>_informer_lag_seconds.
var LagKinds = []string{"serviceprofiles", "services", "endpointslices", "endpoints", "pods", "servers", "externalworkload"}

func lagFamilies() []string {
	out := make([]string, len(LagKinds))
	for i, k := range LagKinds {
		out[i] = k + "_informer_lag_seconds"
	}
	return out
}

// Parse reads one replica's exposition, keeping Families.
func Parse(r io.Reader) (*metrics.Snapshot, error) {
	return metrics.ParseFamilies(r, metrics.DefaultLimits, Families...)
}

// Replica is what one destination replica exposed.
type Replica struct {
	Pod  string
	Snap *metrics.Snapshot
}

// ProfileID is a profile publisher: the namespace the ServiceProfile is
// looked up in and its name (<svc>.<ns>.svc.<domain>).
type ProfileID struct{ Namespace, Profile string }

// Lag is one informer's lag on one replica.
type Lag struct {
	Pod, Kind string
	Count     float64
	P99       *float64
	// Buckets: upper bound -> cumulative count.
	Buckets map[float64]float64
}

// Above counts observations above threshold (by the smallest bucket bound
// at or above it, so at most what the histogram can tell).
func (l Lag) Above(threshold float64) float64 {
	bound := math.Inf(1)
	for b := range l.Buckets {
		if b >= threshold && b < bound {
			bound = b
		}
	}
	if math.IsInf(bound, 1) {
		return 0
	}
	return l.Count - l.Buckets[bound]
}

// Facts are the control plane's metrics summed across replicas.
type Facts struct {
	Pods             []string
	Subscribers      map[ProfileID]float64
	Updates          map[ProfileID]float64
	ProfileOverflow  map[string]float64 // "fqn:port"
	EndpointOverflow map[string]float64 // the requested path
	ServiceStreams   map[ProfileID]float64
	Lags             []Lag
}

// FromReplicas sums the subscriber gauges and counters per label set, and
// keeps informer lag per replica (destination-metrics.md §1).
func FromReplicas(rs []Replica) *Facts {
	f := &Facts{Subscribers: map[ProfileID]float64{}, Updates: map[ProfileID]float64{}, ProfileOverflow: map[string]float64{},
		EndpointOverflow: map[string]float64{}, ServiceStreams: map[ProfileID]float64{}}
	for _, r := range rs {
		f.Pods = append(f.Pods, r.Pod)
		lags := map[string]*Lag{}
		for _, s := range r.Snap.Series {
			l := s.Labels
			switch s.Name {
			case "profile_subscribers":
				f.Subscribers[ProfileID{l.Get("namespace"), l.Get("profile")}] += s.Value
			case "profile_updates":
				f.Updates[ProfileID{l.Get("namespace"), l.Get("profile")}] += s.Value
			case "profile_updates_queue_overflow":
				f.ProfileOverflow[l.Get("fqn")+":"+l.Get("port")] += s.Value
			case "endpoint_updates_queue_overflow":
				f.EndpointOverflow[l.Get("service")] += s.Value
			case "service_subscribers":
				f.ServiceStreams[ProfileID{l.Get("namespace"), l.Get("name")}] += s.Value
			default:
				base, ok := strings.CutSuffix(s.Name, "_informer_lag_seconds_bucket")
				if !ok {
					continue
				}
				s.EachBucket(func(b metrics.Bucket) {
					lg := lags[base]
					if lg == nil {
						lg = &Lag{Pod: r.Pod, Kind: base, Buckets: map[float64]float64{}}
						lags[base] = lg
					}
					lg.Buckets[b.Bound] = b.Count
				})
			}
		}
		for _, lg := range lags {
			lg.Count = lg.Buckets[math.Inf(1)]
			lg.P99 = metrics.Quantile(0.99, lg.Buckets)
			f.Lags = append(f.Lags, *lg)
		}
	}
	sort.Strings(f.Pods)
	sort.Slice(f.Lags, func(i, j int) bool {
		if f.Lags[i].Kind != f.Lags[j].Kind {
			return f.Lags[i].Kind < f.Lags[j].Kind
		}
		return f.Lags[i].Pod < f.Lags[j].Pod
	})
	return f
}

// NamespaceCount is a subscriber count in one namespace.
type NamespaceCount struct {
	Namespace string  `json:"namespace"`
	Count     float64 `json:"count"`
}

// Profile is what the control plane says about one Service's profile.
type Profile struct {
	// Replicas read.
	Replicas int `json:"replicas"`
	// Subscribers per namespace the profile is looked up in (the
	// Service's: every stream, a same-namespace stream counting twice; a
	// client namespace: streams of clients there), summed over replicas.
	Subscribers []NamespaceCount `json:"subscribers"`
	// Updates delivered to the publisher of the ServiceProfile in effect
	// (informer events: add, update, delete, and 10-minute resyncs), since
	// each replica started; nil without a ServiceProfile in effect or a
	// series for it.
	Updates *float64 `json:"updates,omitempty"`
	// Streams: GetProfile streams on the Service now (service_subscribers).
	Streams float64 `json:"streams"`
	// Overflows on this profile's port (profile and endpoint queues).
	Overflows float64 `json:"overflows"`
}

// ForService gathers the facts of Service svc/ns's profile fqdn on port,
// with the ServiceProfile in effect in inEffectNS ("" for none).
func (f *Facts) ForService(ns, svc, fqdn string, port uint32, inEffectNS string) Profile {
	p := Profile{Replicas: len(f.Pods), Subscribers: []NamespaceCount{}}
	for id, v := range f.Subscribers {
		if id.Profile == fqdn && v > 0 {
			p.Subscribers = append(p.Subscribers, NamespaceCount{id.Namespace, v})
		}
	}
	sort.Slice(p.Subscribers, func(i, j int) bool { return p.Subscribers[i].Namespace < p.Subscribers[j].Namespace })
	if inEffectNS != "" {
		if v, ok := f.Updates[ProfileID{inEffectNS, fqdn}]; ok {
			p.Updates = &v
		}
	}
	p.Streams = f.ServiceStreams[ProfileID{ns, svc}]
	p.Overflows = f.overflows(fqdn, port)
	return p
}

func (f *Facts) overflows(fqdn string, port uint32) float64 {
	key := fmt.Sprintf("%s:%d", fqdn, port)
	return f.ProfileOverflow[key] + f.EndpointOverflow[key]
}

// Line is the profile facts as one line, e.g. "3 subscriptions (books 2,
// foobar 1) on 2 replicas, 7 updates delivered".
func (p Profile) Line() string {
	var total float64
	var per []string
	for _, s := range p.Subscribers {
		total += s.Count
		per = append(per, fmt.Sprintf("%s %s", s.Namespace, num(s.Count)))
	}
	out := fmt.Sprintf("%s subscription(s)", num(total))
	if len(per) > 0 {
		out += " (" + strings.Join(per, ", ") + ")"
	}
	out += fmt.Sprintf(", %s stream(s) on the Service now, on %d replica(s)", num(p.Streams), p.Replicas)
	if p.Updates != nil {
		out += fmt.Sprintf("; %s update(s) delivered for the ServiceProfile in effect since the replicas started", num(*p.Updates))
	}
	return out
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// Overflows is how many streams for fqdn:port the destination aborted on
// a full update queue (profile updates, and endpoint updates of that
// authority), summed across replicas.
func (f *Facts) Overflows(fqdn string, port uint32) float64 {
	return f.overflows(fqdn, port)
}

// Unused tells whether the ServiceProfile ns/name's own publisher has no
// subscriber on any replica. A ServiceProfile without a series (no replica
// has seen it yet) is not unused: it is unknown.
func (f *Facts) Unused(ns, name string) bool {
	v, ok := f.Subscribers[ProfileID{ns, name}]
	return ok && v == 0
}

// Health is the one-line summary of the control plane, for get -A.
func (f *Facts) Health(threshold time.Duration, unreadable int) string {
	var streams, overflow float64
	for _, v := range f.ServiceStreams {
		streams += v
	}
	for _, v := range f.ProfileOverflow {
		overflow += v
	}
	for _, v := range f.EndpointOverflow {
		overflow += v
	}
	lagging := map[string]bool{}
	for _, l := range f.Lags {
		if l.Above(threshold.Seconds()) > 0 {
			lagging[l.Kind] = true
		}
	}
	state := "healthy"
	if overflow > 0 || len(lagging) > 0 || unreadable > 0 {
		state = "degraded"
	}
	out := fmt.Sprintf("control plane %s: %d destination replica(s) read", state, len(f.Pods))
	if unreadable > 0 {
		out += fmt.Sprintf(" (%d unreadable)", unreadable)
	}
	out += fmt.Sprintf(", %s profile stream(s) open, %s queue overflow(s) since start", num(streams), num(overflow))
	if len(lagging) > 0 {
		var ks []string
		for k := range lagging {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		out += fmt.Sprintf(", informer lag above %s: %s", threshold, strings.Join(ks, ", "))
	} else {
		out += fmt.Sprintf(", no informer lag above %s", threshold)
	}
	return out
}
