package analyze

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

var update = flag.Bool("update", false, "rewrite golden files")

// corpusDir holds good and broken profiles with their expected findings
// (<name>.golden next to <name>.yaml).
const corpusDir = "../../testdata/profiles"

// renderResults is the golden format: one header per profile, one line per
// finding with its line, level, code, route, field and message.
func renderResults(rs []Result) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "== %s/%s (%s:%d)\n", r.Namespace, r.Name, filepath.Base(r.File), r.Line)
		for _, is := range r.Issues {
			route := "-"
			if is.RouteIndex >= 0 {
				route = fmt.Sprintf("routes[%d] %q", is.RouteIndex, is.Route)
			}
			fmt.Fprintf(&b, "  %d %s %s %s %s: %s\n", is.Line, is.Level, is.Code, route, is.Field, is.Message)
		}
	}
	return b.String()
}

func TestCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus in %s: %v", corpusDir, err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			docs, err := source.LoadPaths([]string{f}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var rs []Result
			for i := range docs {
				if docs[i].Err == nil && !IsServiceProfile(&docs[i]) {
					continue
				}
				rs = append(rs, Check(&docs[i], Options{DefaultNamespace: "books"}))
			}
			got := renderResults(rs)
			golden := filepath.Join(corpusDir, name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./diag/analyze -run TestCorpus -update)", err)
			}
			if got != string(want) {
				t.Errorf("findings differ from %s (check, then rerun with -update):\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// TestCorpusGoodIsClean pins the contract of good.yaml: no finding at all.
func TestCorpusGoodIsClean(t *testing.T) {
	docs, err := source.LoadPaths([]string{filepath.Join(corpusDir, "good.yaml")}, nil)
	if err != nil || len(docs) != 1 {
		t.Fatalf("%v %v", docs, err)
	}
	if r := Check(&docs[0], Options{}); len(r.Issues) != 0 {
		t.Errorf("good.yaml has findings: %s", renderResults([]Result{r}))
	}
}
