package analyze

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// BenchmarkCheckLargeProfile: check must stay fast on profiles with many
// routes (every route is compared with every earlier one).
func BenchmarkCheckLargeProfile(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("apiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: web.books.svc.cluster.local, namespace: books}\nspec:\n  routes:\n")
	for i := 0; i < 2000; i++ {
		rx := fmt.Sprintf("/api/v%d/items%d/[^/]+", i%7, i)
		if i%2 == 1 {
			rx = fmt.Sprintf("/api/v%d/items%d", i%7, i)
		}
		fmt.Fprintf(&sb, "  - name: r%d\n    condition: {method: GET, pathRegex: '%s'}\n", i, rx)
	}
	docs, err := source.Load("big.yaml", strings.NewReader(sb.String()))
	if err != nil || len(docs) != 1 {
		b.Fatalf("load: %v", err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Check(&docs[0], Options{ClusterDomain: "cluster.local"})
	}
}
