package analyze

import (
	"strings"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/diag/ctrlplane"
)

// One destination replica's metrics: an overflow on webapp:7000, a slow
// serviceprofiles informer (2 of 3 updates above 10s), an unused override.
const controlMetrics = `# TYPE profile_subscribers gauge
profile_subscribers{namespace="books",profile="webapp.books.svc.cluster.local"} 2
profile_subscribers{namespace="shop",profile="webapp.books.svc.cluster.local"} 0
# TYPE profile_updates_queue_overflow counter
profile_updates_queue_overflow{fqn="webapp.books.svc.cluster.local",port="7000"} 1
profile_updates_queue_overflow{fqn="webapp.books.svc.cluster.local",port="7001"} 0
# TYPE serviceprofiles_informer_lag_seconds histogram
serviceprofiles_informer_lag_seconds_bucket{le="5"} 1
serviceprofiles_informer_lag_seconds_bucket{le="10"} 1
serviceprofiles_informer_lag_seconds_bucket{le="25"} 3
serviceprofiles_informer_lag_seconds_bucket{le="+Inf"} 3
serviceprofiles_informer_lag_seconds_sum 40
serviceprofiles_informer_lag_seconds_count 3
`

func controlFacts(port uint32, lag time.Duration, unused ...string) func() *Facts {
	return func() *Facts {
		snap, err := ctrlplane.Parse(strings.NewReader(controlMetrics))
		if err != nil {
			panic(err)
		}
		m := ctrlplane.FromReplicas([]ctrlplane.Replica{{Pod: "linkerd-destination-a", Snap: snap}})
		return ControlFacts(&Control{Metrics: m, FQDN: "webapp.books.svc.cluster.local", Port: port, LagThreshold: lag, UnusedIn: unused})
	}
}

func init() {
	lookupCases = append(lookupCases,
		struct {
			code     string
			pos, neg func() *Facts
			says     string
		}{code: CodeQueueOverflow, pos: controlFacts(7000, time.Minute), neg: controlFacts(7001, time.Minute), says: "webapp.books.svc.cluster.local:7000"},
		struct {
			code     string
			pos, neg func() *Facts
			says     string
		}{code: CodeInformerLag, pos: controlFacts(7001, 10*time.Second), neg: controlFacts(7001, 30*time.Second), says: "saw 2 of 3"},
		struct {
			code     string
			pos, neg func() *Facts
			says     string
		}{code: CodeProfileUnused, pos: controlFacts(7001, time.Minute, "shop"), neg: controlFacts(7001, time.Minute), says: "shop/webapp.books.svc.cluster.local"},
	)
	otherCodes[CodeNotPushed] = true // get --watch reports it from the events of a run
}
