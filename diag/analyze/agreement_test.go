package analyze

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// TestGetAndCheckAgree: for every corpus profile the destination would
// serve, what `get` reports about the profile in effect (served faithfully)
// and what `check` reports about the same object are the same findings,
// for every code both can see. One set of analyzers, not two.
func TestGetAndCheckAgree(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.yaml"))
	compared := 0
	for _, file := range files {
		docs, err := source.LoadPaths([]string{file}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range docs {
			d := &docs[i]
			if d.Err != nil || !IsServiceProfile(d) {
				continue
			}
			ns := d.Namespace()
			if ns == "" {
				ns = "books"
			}
			ref, named := profile.ParseFQDN(d.Name(), profile.DefaultClusterDomain)
			sp, err := profile.Decode(d.Raw)
			if !named || err != nil || ref.Namespace != ns {
				continue // get only ever serves decodable profiles named after a Service, from its namespace here
			}
			svc := model.Service{Name: ref.Name, Namespace: ref.Namespace, Ports: []model.ServicePort{{Port: 80}}}
			cands := []model.ProfileObject{{Namespace: ns, Name: d.Name(), ResourceVersion: "1", Profile: sp}}
			out := expect.Expect(expect.Lookup{Service: svc, Port: 80, ClientNamespace: ns, ClusterDomain: profile.DefaultClusterDomain, Candidates: cands})
			l := &Lookup{Service: svc, Port: 80, ClientNamespace: ns, Outcome: out, Candidates: cands, Served: out.Expected, Silent: out.Expected == nil}
			get := codesOf(Run(LookupFacts(l, "", nil)), Decoded)
			cluster := model.NewCluster()
			cluster.Services[model.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}] = svc
			cluster.Listed[svc.Namespace] = true
			checked := Check(d, Options{DefaultNamespace: "books", Cluster: cluster}).Issues
			if len(issuesOf(Result{Issues: checked}, CodeSchemaInvalid)) > 0 {
				continue // the API server rejects it: it never reaches the destination
			}
			check := codesOf(checked, Decoded)
			if get != check {
				t.Errorf("%s %s/%s:\n get:   %s\n check: %s", filepath.Base(file), ns, d.Name(), get, check)
			}
			compared++
		}
	}
	if compared < 5 {
		t.Fatalf("only %d corpus profiles compared: the corpus lost its servable profiles", compared)
	}
}

// codesOf lists code@route of the findings whose analyzer needs no more
// than scope (so both commands run it), sorted.
func codesOf(is []Issue, scope Scope) string {
	shared := map[string]bool{}
	for _, a := range Analyzers() {
		for _, n := range a.Needs {
			if n&^(scope|InCluster) == 0 && n != InCluster {
				for _, c := range a.Codes {
					shared[c] = true
				}
			}
		}
	}
	var out []string
	for _, i := range is {
		if shared[i.Code] {
			out = append(out, i.Code+"@"+i.Route)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
