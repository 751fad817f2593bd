package analyze

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/diag/lang"
	"github.com/kubectl-profiles/kubectl-profiles/diag/proxy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// FuzzCheck runs the file loader and every analyzer on arbitrary input:
// no panics, and every issue is well formed.
func FuzzCheck(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.yaml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	for _, c := range codeCases {
		f.Add(c.pos)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > 1<<16 {
			return
		}
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("took %v", d)
			}
		}()
		docs, err := source.Load("fuzz.yaml", strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		for i := range docs {
			if docs[i].Err == nil && !IsServiceProfile(&docs[i]) {
				continue
			}
			r := Check(&docs[i], Options{Cluster: testCluster()})
			for _, is := range r.Issues {
				if is.Code == "" || is.Message == "" {
					t.Fatalf("malformed issue %+v", is)
				}
			}
		}
	})
}

// FuzzRegexChecks drives the regex helpers used by the route analyzers
// with arbitrary patterns.
func FuzzRegexChecks(f *testing.F) {
	for _, s := range []string{"/a|/b", "/books/[^/]+", `[]|]`, `\|`, "(a|b", `/x(?<=y)`, `/\d+`, "^$"} {
		f.Add(s, "/books/1")
	}
	f.Fuzz(func(t *testing.T, re, lit string) {
		if len(re) > 2048 {
			return
		}
		_ = proxy.TopLevelAlternation(re)
		eng := lang.NewEngine(2000)
		_ = eng.Covered(eng.Path(proxy.Anchor(lit)), []lang.Cond{eng.Path(proxy.Anchor(re))})
		_ = eng.Covered(eng.Path(proxy.Anchor(re)), []lang.Cond{eng.Path(proxy.Anchor(lit))})
	})
}
