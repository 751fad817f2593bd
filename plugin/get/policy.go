package get

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	outbound "github.com/linkerd/linkerd2-proxy-api/go/outbound"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-profiles/kubectl-profiles/diag/analyze"
	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/report"
	ppolicy "github.com/kubectl-profiles/kubectl-profiles/plugin/policy"
)

// PolicyLooker is the policy controller as get sees it: one
// OutboundPolicies.Get, bounded by timeout. *plugin/policy.Client
// implements it.
type PolicyLooker interface {
	Get(ctx context.Context, spec *outbound.TrafficSpec, timeout time.Duration) (*dpolicy.Policy, *outbound.OutboundPolicy, error)
}

// PolicyConfig is the policy half of a run: nil in Engine.Policy means
// get looks at ServiceProfiles only.
type PolicyConfig struct {
	// Connect opens the one policy connection of the run (started with the
	// destination's).
	Connect func(context.Context) (PolicyLooker, error)
	// ReadCluster reads what the controller indexes in the namespaces
	// ("" = all): plugin/policy.ReadCluster.
	ReadCluster func(ctx context.Context, namespaces []string) (*dpolicy.Cluster, []string, error)
	// ControlPlane reads the control plane's release (nil: unknown).
	ControlPlane func(context.Context) dpolicy.ControlPlane
	// NoPolicy is the error a NotFound answer wraps (plugin/policy.ErrNoPolicy).
	NoPolicy error
}

// policyState is the engine's policy half: the connection, the cluster
// reads (cached per namespace set) and the control plane's release.
type policyState struct {
	once    sync.Once
	done    chan struct{}
	conn    PolicyLooker
	connErr error

	warnMu  sync.Mutex
	mu      sync.Mutex
	cache   map[string]policyRead
	cpOnce  sync.Once
	cp      dpolicy.ControlPlane
	cpAsked bool
}

type policyRead struct {
	cluster *dpolicy.Cluster
	notes   []string
}

func (e *Engine) startPolicy(ctx context.Context) {
	if e.Policy == nil || e.Policy.Connect == nil {
		return
	}
	e.pol.once.Do(func() {
		e.pol.done = make(chan struct{})
		go func() {
			defer close(e.pol.done)
			e.pol.conn, e.pol.connErr = e.Policy.Connect(ctx)
		}()
	})
}

func (e *Engine) closePolicy() {
	if e.pol.done == nil {
		return
	}
	<-e.pol.done
	if c, ok := e.pol.conn.(interface{ Close() error }); ok && c != nil {
		_ = c.Close()
	}
}

// policyInput is the policy half's input for svc, as read for the
// namespaces (each set read once per run). Nil without a PolicyConfig.
func (e *Engine) policyInput(ctx context.Context, svc *corev1.Service, namespaces []string) *report.PolicyInput {
	if e.Policy == nil {
		return nil
	}
	key := strings.Join(namespaces, ",")
	e.pol.mu.Lock()
	r, ok := e.pol.cache[key]
	e.pol.mu.Unlock()
	if !ok {
		if e.Policy.ReadCluster != nil {
			c, notes, err := e.Policy.ReadCluster(ctx, namespaces)
			if err != nil {
				notes = append(notes, err.Error())
			}
			if say := analyze.PolicyNotesWorthSaying(notes); len(say) > 0 {
				// One line for what the policy half could not read.
				msg := "warning: policy path: " + strings.Join(say, "; ")
				if err != nil {
					msg += ": the policy half is shown as served, without prediction or drift"
				}
				e.warn(msg)
			}
			r = policyRead{cluster: c, notes: notes}
		}
		e.pol.mu.Lock()
		if e.pol.cache == nil {
			e.pol.cache = map[string]policyRead{}
		}
		e.pol.cache[key] = r
		e.pol.mu.Unlock()
	}
	e.pol.cpOnce.Do(func() {
		if e.Policy.ControlPlane != nil {
			e.pol.cp, e.pol.cpAsked = e.Policy.ControlPlane(ctx), true
		}
	})
	honoured, known := dpolicy.HonoursGatewayRuleTimeouts(e.pol.cp.Version)
	return &report.PolicyInput{
		Service: svc, Authority: ppolicy.ExpectTarget(svc, 0, "").Authority, Cluster: r.cluster, Notes: r.notes,
		Options:      dpolicy.Options{ClusterDomain: e.Config.ClusterDomain, IgnoreGatewayRuleTimeouts: known && !honoured},
		ControlPlane: e.pol.cp, VersionAsked: e.pol.cpAsked, NoPolicy: e.Policy.NoPolicy,
	}
}

// policyFlight is one OutboundPolicies.Get.
type policyFlight struct {
	in, port int
	spec     *outbound.TrafficSpec
	pol      *dpolicy.Policy
	err      error
}

// flyPolicy runs the policy lookups of the views, at most Concurrency at
// once over the one connection, alongside the profile lookups; wait
// returns them when all ended.
func (e *Engine) flyPolicy(ctx context.Context, views []view, inputs []report.Input) (wait func() []*policyFlight) {
	var flights []*policyFlight
	for i := range views {
		if inputs[i].Policy == nil || views[i].svc == nil {
			continue
		}
		w := ppolicy.Workload{Namespace: inputs[i].Client.Namespace, Pod: inputs[i].Client.Pod}
		for j, l := range inputs[i].Lookups {
			flights = append(flights, &policyFlight{in: i, port: j, spec: ppolicy.Spec(views[i].svc, int32(l.Port), w, e.Config.ClusterDomain)})
		}
	}
	if len(flights) == 0 {
		return func() []*policyFlight { return nil }
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.startPolicy(ctx)
		select {
		case <-e.pol.done:
		case <-ctx.Done():
			for _, f := range flights {
				f.err = ctx.Err()
			}
			return
		}
		if e.pol.connErr != nil {
			e.warn("policy controller: " + e.pol.connErr.Error() + ": MODE and the policy routes are predicted from the cluster, not served")
			for _, f := range flights {
				f.err = e.pol.connErr
			}
			return
		}
		conc := e.Config.Concurrency
		if conc < 1 {
			conc = 1
		}
		sem := make(chan struct{}, conc)
		var wg sync.WaitGroup
		for _, f := range flights {
			sem <- struct{}{}
			wg.Add(1)
			go func(f *policyFlight) {
				defer wg.Done()
				defer func() { <-sem }()
				f.pol, _, f.err = e.pol.conn.Get(ctx, f.spec, e.Config.Timeout)
			}(f)
		}
		wg.Wait()
	}()
	return func() []*policyFlight {
		<-done
		return flights
	}
}

// applyPolicy records the policy answers in the inputs and counts them.
func (e *Engine) applyPolicy(flights []*policyFlight, inputs []report.Input, stats *Stats) {
	for _, f := range flights {
		l := &inputs[f.in].Lookups[f.port]
		l.Policy, l.PolicyErr = f.pol, f.err
		stats.PolicyLookups++
		if f.err != nil && (e.Policy.NoPolicy == nil || !errors.Is(f.err, e.Policy.NoPolicy)) {
			stats.PolicyFailed++
			if stats.FirstPolicyFailure == "" {
				stats.FirstPolicyFailure = f.err.Error()
			}
		}
	}
}
