package ctrlplane_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/diag/ctrlplane"
)

// Two replicas as destination-metrics.md §2 describes them: one stream from
// books (counted twice on its own publisher), one from foobar (+1 foobar,
// +1 books), an unused ServiceProfile with a typo, one overflow on port 7000
// of webapp, and a slow serviceprofiles informer on replica b.
const replicaA = `# HELP profile_subscribers A gauge for the current number of subscribers to a profile.
# TYPE profile_subscribers gauge
profile_subscribers{namespace="books",profile="webapp.books.svc.cluster.local"} 2
profile_subscribers{namespace="books",profile="typo.books.svc.cluster.locl"} 0
# TYPE profile_updates counter
profile_updates{namespace="books",profile="webapp.books.svc.cluster.local"} 4
profile_updates{namespace="books",profile="typo.books.svc.cluster.locl"} 1
# TYPE profile_updates_queue_overflow counter
profile_updates_queue_overflow{fqn="webapp.books.svc.cluster.local",port="7000"} 0
# TYPE service_subscribers gauge
service_subscribers{name="webapp",namespace="books"} 1
# TYPE endpoint_updates_queue_overflow counter
# TYPE serviceprofiles_informer_lag_seconds histogram
serviceprofiles_informer_lag_seconds_bucket{le="0.5"} 3
serviceprofiles_informer_lag_seconds_bucket{le="1"} 3
serviceprofiles_informer_lag_seconds_bucket{le="2.5"} 3
serviceprofiles_informer_lag_seconds_bucket{le="5"} 3
serviceprofiles_informer_lag_seconds_bucket{le="10"} 3
serviceprofiles_informer_lag_seconds_bucket{le="+Inf"} 3
serviceprofiles_informer_lag_seconds_sum 1.4
serviceprofiles_informer_lag_seconds_count 3
# TYPE grpc_server_started_total counter
grpc_server_started_total{grpc_method="GetProfile",grpc_service="io.linkerd.proxy.destination.Destination",grpc_type="server_stream"} 9
`

const replicaB = `# TYPE profile_subscribers gauge
profile_subscribers{namespace="books",profile="webapp.books.svc.cluster.local"} 1
profile_subscribers{namespace="foobar",profile="webapp.books.svc.cluster.local"} 1
profile_subscribers{namespace="books",profile="typo.books.svc.cluster.locl"} 0
# TYPE profile_updates counter
profile_updates{namespace="books",profile="webapp.books.svc.cluster.local"} 4
# TYPE profile_updates_queue_overflow counter
profile_updates_queue_overflow{fqn="webapp.books.svc.cluster.local",port="7000"} 1
profile_updates_queue_overflow{fqn="webapp.books.svc.cluster.local",port="7001"} 0
# TYPE service_subscribers gauge
service_subscribers{name="webapp",namespace="books"} 1
# TYPE serviceprofiles_informer_lag_seconds histogram
serviceprofiles_informer_lag_seconds_bucket{le="0.5"} 1
serviceprofiles_informer_lag_seconds_bucket{le="1"} 1
serviceprofiles_informer_lag_seconds_bucket{le="2.5"} 1
serviceprofiles_informer_lag_seconds_bucket{le="5"} 1
serviceprofiles_informer_lag_seconds_bucket{le="10"} 1
serviceprofiles_informer_lag_seconds_bucket{le="25"} 3
serviceprofiles_informer_lag_seconds_bucket{le="+Inf"} 3
serviceprofiles_informer_lag_seconds_sum 40
serviceprofiles_informer_lag_seconds_count 3
`

func facts(t *testing.T) *ctrlplane.Facts {
	t.Helper()
	var rs []ctrlplane.Replica
	for pod, text := range map[string]string{"linkerd-destination-a": replicaA, "linkerd-destination-b": replicaB} {
		snap, err := ctrlplane.Parse(strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, ctrlplane.Replica{Pod: pod, Snap: snap})
	}
	return ctrlplane.FromReplicas(rs)
}

func TestSumsReplicas(t *testing.T) {
	f := facts(t)
	p := f.ForService("books", "webapp", "webapp.books.svc.cluster.local", 7000, "books")
	if len(p.Subscribers) != 2 || p.Subscribers[0] != (ctrlplane.NamespaceCount{Namespace: "books", Count: 3}) || p.Subscribers[1] != (ctrlplane.NamespaceCount{Namespace: "foobar", Count: 1}) {
		t.Errorf("subscribers = %+v, want books 3, foobar 1", p.Subscribers)
	}
	if p.Updates == nil || *p.Updates != 8 || p.Streams != 2 || p.Overflows != 1 || p.Replicas != 2 {
		t.Errorf("profile facts = %+v", p)
	}
	want := "4 subscription(s) (books 3, foobar 1), 2 stream(s) on the Service now, on 2 replica(s); 8 update(s) delivered for the ServiceProfile in effect since the replicas started"
	if p.Line() != want {
		t.Errorf("line = %q", p.Line())
	}
	// No ServiceProfile in effect: no update count.
	if p := f.ForService("books", "webapp", "webapp.books.svc.cluster.local", 7000, ""); p.Updates != nil {
		t.Errorf("updates without a profile in effect = %v", *p.Updates)
	}
}

func TestOverflowsAndLag(t *testing.T) {
	f := facts(t)
	if n := f.Overflows("webapp.books.svc.cluster.local", 7000); n != 1 {
		t.Errorf("overflows on 7000 = %v, want 1", n)
	}
	if n := f.Overflows("webapp.books.svc.cluster.local", 7001); n != 0 {
		t.Errorf("overflows on 7001 = %v, want 0", n)
	}
	// Replica b saw 2 of 3 serviceprofiles updates more than 10s late;
	// nothing is above 30s.
	above := map[string]float64{}
	for _, l := range f.Lags {
		above[l.Pod] += l.Above(10)
		if l.Above(30) != 0 {
			t.Errorf("%s: %v above 30s", l.Pod, l.Above(30))
		}
	}
	if above["linkerd-destination-b"] != 2 || above["linkerd-destination-a"] != 0 {
		t.Errorf("above 10s = %v", above)
	}
}

func TestUnusedAndHealth(t *testing.T) {
	f := facts(t)
	if !f.Unused("books", "typo.books.svc.cluster.locl") {
		t.Error("the typo profile has 0 subscribers everywhere: unused")
	}
	if f.Unused("books", "webapp.books.svc.cluster.local") || f.Unused("books", "never.seen") {
		t.Error("a watched profile, or one without a series, is not unused")
	}
	h := f.Health(10*time.Second, 1)
	want := "control plane degraded: 2 destination replica(s) read (1 unreadable), 2 profile stream(s) open, 1 queue overflow(s) since start, informer lag above 10s: serviceprofiles"
	if h != want {
		t.Errorf("health = %q", h)
	}
	if h := facts(t).Health(time.Minute, 0); !strings.HasPrefix(h, "control plane degraded") {
		t.Errorf("an overflow alone degrades: %q", h)
	}
}

// FuzzParse: any input parses or fails with an error, never panics, and
// what it keeps belongs to the families read.
func FuzzParse(f *testing.F) {
	f.Add(replicaA)
	f.Add(replicaB)
	f.Add("profile_subscribers{namespace=\"a\"} NaN\n")
	f.Add("# TYPE x histogram\nx_bucket{le=\"+Inf\"} 1\n")
	f.Fuzz(func(t *testing.T, text string) {
		snap, err := ctrlplane.Parse(strings.NewReader(text))
		if err != nil {
			return
		}
		for _, s := range snap.Series {
			ok := false
			for _, fam := range ctrlplane.Families {
				if s.Name == fam || strings.HasPrefix(s.Name, fam+"_") {
					ok = true
				}
			}
			if !ok {
				t.Errorf("kept %s", s.Name)
			}
		}
		_ = ctrlplane.FromReplicas([]ctrlplane.Replica{{Pod: "p", Snap: snap}}).Health(time.Second, 0)
	})
}
