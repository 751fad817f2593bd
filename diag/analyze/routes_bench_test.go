package analyze

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// largeProfile builds a profile of n routes as generated for a big API:
// groups of ten routes per resource (literal, parameter and prefix routes,
// several methods), some shadowed by earlier ones of their group, a
// case-insensitive route in every fifth group, and a catch-all at the end.
func largeProfile(n int) string {
	var sb strings.Builder
	sb.WriteString("apiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: web.books.svc.cluster.local, namespace: books}\nspec:\n  routes:\n")
	for i := 0; i < n-1; i++ {
		g := i / 10
		base := fmt.Sprintf("/api/v%d/res%d", g%7, g)
		var method, rx string
		switch i % 10 {
		case 0:
			method, rx = "GET", base
		case 1:
			method, rx = "GET", base+"/[^/]+"
		case 2:
			method, rx = "POST", base
		case 3:
			method, rx = "GET", base+"/[^/]+/sub"
		case 4:
			rx = base + "/.*" // any method
		case 5:
			method, rx = "GET", base+"/[0-9]+" // shadowed by case 1
		case 6:
			method, rx = "DELETE", base+"/[0-9]+" // shadowed by case 4
		case 7:
			method, rx = "PUT", base+"/[^/]+/edit" // shadowed by case 4
		case 8:
			method, rx = "GET", base+"/export"
			if g%5 == 0 {
				rx = "(?i)" + rx
			}
		case 9:
			method, rx = "GET", base+"/[0-9]+/comments/[0-9]+"
		}
		if method == "" {
			fmt.Fprintf(&sb, "  - name: r%d\n    condition: {pathRegex: '%s'}\n", i, rx)
		} else {
			fmt.Fprintf(&sb, "  - name: r%d\n    condition: {method: %s, pathRegex: '%s'}\n", i, method, rx)
		}
	}
	sb.WriteString("  - name: fallback\n    condition: {pathRegex: '.*'}\n")
	return sb.String()
}

func benchCheck(b *testing.B, n int) {
	docs, err := source.Load("big.yaml", strings.NewReader(largeProfile(n)))
	if err != nil || len(docs) != 1 {
		b.Fatalf("load: %v", err)
	}
	r := Check(&docs[0], Options{ClusterDomain: "cluster.local"})
	counts := map[string]int{}
	for _, is := range r.Issues {
		counts[is.Code]++
	}
	if counts[CodeRouteUnreachable] == 0 || counts[CodeRouteShadowingUndecided] != 0 {
		b.Fatalf("unexpected findings: %v", counts)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Check(&docs[0], Options{ClusterDomain: "cluster.local"})
	}
	b.ReportMetric(float64(counts[CodeRouteUnreachable]), "unreachable")
	b.ReportMetric(float64(counts[CodeRouteOverlap]), "overlaps")
}

// BenchmarkCheckLargeProfile: check must stay fast on profiles with many
// routes (every route is compared with the earlier ones it may share a
// request with). Target: well under 1 s for 2000 routes.
func BenchmarkCheckLargeProfile(b *testing.B) { benchCheck(b, 2000) }

// BenchmarkCheckHugeProfile shows how the analysis scales (15000 routes).
func BenchmarkCheckHugeProfile(b *testing.B) { benchCheck(b, 15000) }
