package get

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	outbound "github.com/linkerd/linkerd2-proxy-api/go/outbound"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/report"
)

type policyAnswer struct {
	calls int
	pol   func(*outbound.TrafficSpec) (*dpolicy.Policy, error)
}

func (p *policyAnswer) Get(_ context.Context, spec *outbound.TrafficSpec, _ time.Duration) (*dpolicy.Policy, *outbound.OutboundPolicy, error) {
	p.calls++
	pol, err := p.pol(spec)
	return pol, nil, err
}

var errNoPolicy = errors.New("no policy")

// withPolicy adds a policy half to an engine: connect is the policy
// connection's outcome, notes what reading the route kinds says.
func withPolicy(e *Engine, connect func() (PolicyLooker, error), notes []string, connects *int) *Engine {
	e.Policy = &PolicyConfig{
		Connect: func(context.Context) (PolicyLooker, error) { *connects++; return connect() },
		ReadCluster: func(ctx context.Context, namespaces []string) (*dpolicy.Cluster, []string, error) {
			c := &dpolicy.Cluster{}
			list, err := e.Kube.CoreV1().Services("").List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, notes, err
			}
			for i := range list.Items {
				c.Services = append(c.Services, &list.Items[i])
			}
			return c, notes, nil
		},
		NoPolicy: errNoPolicy,
	}
	return e
}

func policyOf(svc *corev1.Service, port int32) *dpolicy.Policy {
	return dpolicy.Expect(dpolicy.Target{Service: svc, Port: port, ClientNamespace: svc.Namespace}, &dpolicy.Cluster{Services: []*corev1.Service{svc}}, dpolicy.Options{}).Policy
}

// The policy half fails to connect (RBAC refused the port-forward, the
// port is unreachable, Unimplemented): the ServiceProfile half is intact,
// MODE comes from the prediction and says so, a lookup-failed finding,
// one warning line, and the run is incomplete (exit 4). One connection.
func TestPolicyConnectFailure(t *testing.T) {
	f := webFixture()
	e := f.engine()
	var warnings []string
	e.Warn = func(s string) { warnings = append(warnings, s) }
	connects := 0
	withPolicy(e, func() (PolicyLooker, error) {
		return nil, errors.New("forbidden: cannot create pods/portforward for linkerd/linkerd-destination-1 (RBAC); grant it (krew/rbac.yaml) or pass --policy-addr")
	}, nil, &connects)
	defer e.Close()
	svc, _ := e.Kube.CoreV1().Services("books").Get(context.Background(), "web", metav1.GetOptions{})
	res, err := e.Get(context.Background(), []*corev1.Service{svc})
	if err != nil {
		t.Fatal(err)
	}
	if connects != 1 || res.Stats.PolicyLookups != 2 || res.Stats.PolicyFailed != 2 || !res.Stats.Incomplete() || res.Stats.Failed != 0 {
		t.Errorf("connects %d stats %+v", connects, res.Stats)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "--policy-addr") {
		t.Errorf("warnings %q", warnings)
	}
	p := res.Reports[0].Ports[0]
	if p.Lookup.Result != report.ResultServed || p.Mode == "" || !strings.Contains(p.ModeReason, "the policy lookup failed: decided from the predicted policy") {
		t.Errorf("lookup %+v mode %s (%s)", p.Lookup, p.Mode, p.ModeReason)
	}
	if p.Policy == nil || p.Policy.Lookup.Result != report.ResultError || p.Policy.Expected == nil {
		t.Fatalf("policy %+v", p.Policy)
	}
	found := false
	for _, fi := range p.Findings {
		found = found || fi.Code == "lookup-failed" && strings.Contains(fi.Message, "the policy lookup failed")
	}
	if !found {
		t.Errorf("findings %+v", p.Findings)
	}
}

// Gateway API CRDs absent or without v1: one warning line, a finding, and
// the lookups still run.
func TestPolicyGatewayAPIMissing(t *testing.T) {
	f := webFixture()
	f.profiles = nil // client policy
	e := f.engine()
	var warnings []string
	e.Warn = func(s string) { warnings = append(warnings, s) }
	ans := &policyAnswer{}
	connects := 0
	withPolicy(e, func() (PolicyLooker, error) { return ans, nil }, []string{
		"grpcroutes.gateway.networking.k8s.io is not installed: no such routes are read",
		"httproutes.gateway.networking.k8s.io is installed without v1 (only v1beta1): Linkerd reads v1 only, so these routes are ignored by the control plane",
	}, &connects)
	defer e.Close()
	svc, _ := e.Kube.CoreV1().Services("books").Get(context.Background(), "web", metav1.GetOptions{})
	ans.pol = func(spec *outbound.TrafficSpec) (*dpolicy.Policy, error) {
		return policyOf(svc, int32(spec.GetAddr().GetPort())), nil
	}
	res, err := e.Get(context.Background(), []*corev1.Service{svc})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "only v1beta1") || strings.Contains(warnings[0], "grpcroutes") {
		t.Errorf("warnings %q", warnings)
	}
	if ans.calls != 2 || connects != 1 || res.Stats.Incomplete() {
		t.Errorf("calls %d connects %d stats %+v", ans.calls, connects, res.Stats)
	}
	p := res.Reports[0].Ports[0]
	if p.Mode != dpolicy.ModePolicy || p.Policy.Lookup.Result != report.ResultServed || len(p.Policy.Drift) != 0 {
		t.Errorf("mode %s policy %+v", p.Mode, p.Policy)
	}
	got := 0
	for _, fi := range p.Findings {
		if fi.Code == "gateway-api-missing" {
			got++
		}
	}
	if got != 1 {
		t.Errorf("gateway-api-missing %d times: %+v", got, p.Findings)
	}
}

// NotFound (no policy for the target) is an answer: the proxy forwards to
// the original destination; not a failure.
func TestPolicyNotFoundIsAnAnswer(t *testing.T) {
	f := webFixture()
	e := f.engine()
	connects := 0
	withPolicy(e, func() (PolicyLooker, error) {
		return &policyAnswer{pol: func(*outbound.TrafficSpec) (*dpolicy.Policy, error) {
			return nil, errNoPolicy
		}}, nil
	}, nil, &connects)
	defer e.Close()
	svc, _ := e.Kube.CoreV1().Services("books").Get(context.Background(), "web", metav1.GetOptions{})
	res, err := e.Get(context.Background(), []*corev1.Service{svc})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Reports[0].Ports[0]
	if res.Stats.Incomplete() || p.Policy.Lookup.Result != report.PolicyNotFound || len(p.Policy.Routes) != 0 {
		t.Errorf("stats %+v policy %+v", res.Stats, p.Policy)
	}
}
