package analyze

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
)

// TestHTTPRouteIgnoredFollowsMode: httproute-ignored says what get's MODE
// says (dpolicy.Decide): a ServiceProfile the destination cannot serve
// makes it send nothing, so proxies get no profile and use the HTTPRoutes;
// the finding must not claim the opposite (profile-unservable is the
// finding there).
func TestHTTPRouteIgnoredFollowsMode(t *testing.T) {
	routes := []model.HTTPRoute{{Group: "policy.linkerd.io", Namespace: "books", Name: "api-routes"}}
	for _, c := range []struct {
		name, spec string
		ignored    bool
	}{
		{"servable", okRoute, true},
		{"ttl the destination cannot translate", okRoute + "  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 10 seconds}\n", false},
		{"route the destination cannot translate", okRoute + "  - name: empty\n    condition: {}\n", false},
	} {
		cands := []model.ProfileObject{candidate("books", c.spec)}
		out := expect.Expect(expect.Lookup{Service: apiSvc, Port: 80, ClientNamespace: "books", ClusterDomain: "cluster.local", Candidates: cands})
		l := &Lookup{Service: apiSvc, Port: 80, ClientNamespace: "books", Outcome: out, Candidates: cands, Served: out.Expected}
		if out.Unserved != nil {
			l.Served, l.Silent = nil, true
		}
		for _, withMode := range []bool{false, true} {
			f := LookupFacts(l, "cluster.local", routes)
			if withMode { // get with the policy half: MODE decided from what was served
				d := dpolicy.Decide(l.Served, &dpolicy.Policy{Protocol: dpolicy.Detect})
				f.Scope |= PolicyPath
				f.PolicyPath = &PolicyFacts{Target: dpolicy.Target{Service: &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "books", Name: "api"}}, Port: 80}, Cluster: &dpolicy.Cluster{}, Decision: &d}
			}
			is := Run(f)
			got := len(issuesOf(Result{Issues: is}, CodeHTTPRouteIgnored)) > 0
			if got != c.ignored {
				t.Errorf("%s (mode %v): httproute-ignored %v, want %v: %+v", c.name, withMode, got, c.ignored, is)
			}
			if !c.ignored && len(issuesOf(Result{Issues: is}, CodeUnservable)) == 0 {
				t.Errorf("%s: no profile-unservable: %+v", c.name, is)
			}
		}
	}
}
