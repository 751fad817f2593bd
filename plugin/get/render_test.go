package get_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/report"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
	"github.com/kubectl-profiles/kubectl-profiles/internal/clitest"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	getcmd "github.com/kubectl-profiles/kubectl-profiles/plugin/get"
)

// renderInput is a report built from plain data: a profile with a drifted
// timeout, a dropped regex, and an untrusted route name with an escape.
func renderInput(t *testing.T) report.Report {
	t.Helper()
	sp, err := profile.Decode([]byte(`
metadata: {name: web.shop.svc.cluster.local, namespace: shop, resourceVersion: "42"}
spec:
  routes:
  - name: "GET /cart\x1b[2J"
    condition: {method: GET, pathRegex: /cart}
    timeout: 300ms
  - name: lookbehind
    condition: {pathRegex: '/(?<=a)b'}
  - name: any of two
    condition:
      any: [{method: DELETE}, {not: {pathRegex: '/keep/.*'}}]
    responseClasses:
    - condition: {status: {min: 500, max: 504}}
      isFailure: true
`))
	if err != nil {
		t.Fatal(err)
	}
	svc := expect.Service{Name: "web", Namespace: "shop", Ports: []expect.ServicePort{{Port: 80}}}
	cand := expect.Candidate{Namespace: "shop", Name: sp.Name, ResourceVersion: "42", Profile: sp}
	served, _, err := translate.Profile(sp, translate.Target{Service: profile.ServiceRef{Name: "web", Namespace: "shop"}, Port: 80, FQDN: sp.Name})
	if err != nil {
		t.Fatal(err)
	}
	served.Routes[0].Timeout = nil // what a stale destination might send
	return report.Build(report.Input{
		Service: svc, Client: report.Client{Namespace: "shop", Token: `{"ns":"shop"}`},
		Candidates: []expect.Candidate{cand},
		Lookups:    []report.PortLookup{{Port: 80, Served: served}},
	})
}

func TestRenderGolden(t *testing.T) {
	r := renderInput(t)
	for name, tc := range map[string]struct {
		wide bool
		term cli.Term
	}{
		"render-plain": {false, cli.Term{}},
		"render-wide":  {true, cli.Term{}},
		"render-tty":   {false, cli.Term{Color: true, Width: 100}},
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := getcmd.Render(&b, r, tc.wide, tc.term); err != nil {
				t.Fatal(err)
			}
			if !tc.term.Color && bytes.ContainsRune(b.Bytes(), 0x1b) {
				t.Fatalf("an escape sequence reached the output: %q", b.String())
			}
			clitest.Golden(t, filepath.Join("testdata", name+".golden"), b.String())
		})
	}
}
