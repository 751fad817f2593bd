package gen

import (
	"fmt"
	"math/rand"
	"testing"
)

// benchEndpoints is a large REST API: 1000 operations over shared
// prefixes, a third of the segments parameters.
func benchEndpoints() []Endpoint {
	rnd := rand.New(rand.NewSource(7))
	words := []string{"books", "authors", "users", "orders", "items", "new", "latest", "edit", "search", "photos"}
	seen := map[string]bool{}
	var eps []Endpoint
	for len(eps) < 1000 {
		p := ""
		for d := 1 + rnd.Intn(4); d > 0; d-- {
			if rnd.Intn(3) == 0 {
				p += fmt.Sprintf("/{p%d}", d)
			} else {
				p += fmt.Sprintf("/%s%d", words[rnd.Intn(len(words))], rnd.Intn(30))
			}
		}
		m := []string{"GET", "POST"}[rnd.Intn(2)]
		if k := m + normalize(p); !seen[k] {
			seen[k] = true
			eps = append(eps, Endpoint{Method: m, Path: p})
		}
	}
	return eps
}

// BenchmarkOrder1000: ordering (template order plus diag/lang cover
// moves) of 1000 operations.
func BenchmarkOrder1000(b *testing.B) {
	eps := benchEndpoints()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Order(eps)
	}
}

// BenchmarkVerify1000: the proxy-matching verification of the profile and
// of the HTTPRoutes for 1000 operations.
func BenchmarkVerify1000(b *testing.B) {
	eps, _ := Order(benchEndpoints())
	sp := Profile(target, eps)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if bad, err := VerifyProfile(sp, target, eps); err != nil || len(bad) > 0 {
			b.Fatal(err, bad)
		}
		rs, placed, _ := HTTPRoutes(target, eps, false, false)
		if bad := VerifyRoutes(Simulate(target, nil, rs, nil), eps, placed); len(bad) > 0 {
			b.Fatal(bad)
		}
	}
}

// BenchmarkVerifyRoutes1000: re-matching the 1000 sample requests against
// the simulated policy (the proxy's precedence, diag/policymatch).
func BenchmarkVerifyRoutes1000(b *testing.B) {
	eps, _ := Order(benchEndpoints())
	rs, placed, _ := HTTPRoutes(target, eps, false, false)
	exp := Simulate(target, nil, rs, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if bad := VerifyRoutes(exp, eps, placed); len(bad) > 0 {
			b.Fatal(bad)
		}
	}
}
