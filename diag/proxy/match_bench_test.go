package proxy

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/linkerd/linkerd2-proxy-api/go/destination"
	"github.com/linkerd/linkerd2-proxy-api/go/http_types"
)

// benchProfile is a realistic 50-route profile: REST resources with id
// parameters, literal health/metrics routes, a few method-only splits and
// gRPC-style literal paths, in the order an OpenAPI generator emits them.
func benchProfile() *destination.DestinationProfile {
	var routes []*destination.Route
	methods := []http_types.HttpMethod_Registered{http_types.HttpMethod_GET, http_types.HttpMethod_POST, http_types.HttpMethod_PUT, http_types.HttpMethod_DELETE}
	resources := []string{"users", "books", "orders", "carts", "reviews", "authors", "invoices", "payments", "shipments", "coupons"}
	for i, res := range resources {
		routes = append(routes,
			route("GET /api/v1/"+res, all(method(http_types.HttpMethod_GET), path("/api/v1/"+res))),
			route("POST /api/v1/"+res, all(method(http_types.HttpMethod_POST), path("/api/v1/"+res))),
			route(fmt.Sprintf("%s /api/v1/%s/{id}", methods[i%4], res), all(method(methods[i%4]), path("/api/v1/"+res+"/[^/]+"))),
			route("GET /api/v1/"+res+"/{id}/history", all(method(http_types.HttpMethod_GET), path("/api/v1/"+res+`/[0-9]+/history(/.*)?`))),
		)
	}
	for _, svc := range []string{"Get", "List", "Create", "Update", "Delete"} {
		routes = append(routes, route(svc+"Book", all(method(http_types.HttpMethod_POST), path("/bookstore.v1.BookService/"+svc+"Book"))))
	}
	routes = append(routes,
		route("static", path(`/static/.+\.(css|js|png)`)),
		route("healthz", path("/healthz")),
		route("metrics", path("/metrics")),
		route("search", all(method(http_types.HttpMethod_GET), path(`/search`))),
		route("catch-all-admin", path("/admin/.*")),
	)
	return profile(routes...)
}

type benchReq struct{ method, path string }

// benchRequests: about half hit late routes, a quarter early ones, the rest
// nothing (default route).
var benchRequests = []benchReq{
	{"GET", "/api/v1/users"},
	{"POST", "/api/v1/books"},
	{"GET", "/api/v1/users/42"},
	{"GET", "/api/v1/coupons/17/history/2024"},
	{"GET", "/api/v1/shipments/98"},
	{"PUT", "/api/v1/payments/ab12?expand=true"},
	{"POST", "/bookstore.v1.BookService/DeleteBook"},
	{"GET", "/static/app/main.js"},
	{"GET", "/healthz"},
	{"GET", "/metrics"},
	{"GET", "/search?q=dune"},
	{"GET", "/admin/users/1"},
	{"GET", "/api/v2/users"},
	{"PATCH", "/api/v1/users/1"},
	{"GET", "/favicon.ico"},
	{"DELETE", "/unknown/path/that/is/quite/long/and/matches/nothing"},
}

func BenchmarkMatch50Routes(b *testing.B) {
	p, drops := Convert(benchProfile())
	if len(p.Routes) != 50 || len(drops) != 0 {
		b.Fatalf("profile has %d routes, drops %v", len(p.Routes), drops)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := benchRequests[i%len(benchRequests)]
		p.Match(r.method, r.path)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "matches/s")
	// On a shared, overloaded machine wall time overstates the cost; CPU
	// time consumed by this process is the steadier figure.
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "matches/cpu-s")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestMatchDoesNotAllocate(t *testing.T) {
	p, _ := Convert(benchProfile())
	hits := 0
	allocs := testing.AllocsPerRun(200, func() {
		for _, r := range benchRequests {
			if _, _, ok := p.Match(r.method, r.path); ok {
				hits++
			}
		}
	})
	if allocs != 0 {
		t.Errorf("Match allocates %.1f times per %d requests", allocs, len(benchRequests))
	}
	if hits == 0 {
		t.Fatal("no request matched")
	}
}

func TestBenchProfileExpectations(t *testing.T) {
	p, _ := Convert(benchProfile())
	want := map[string]string{
		"GET /api/v1/users":                         "GET /api/v1/users",
		"GET /api/v1/users/42":                      "GET /api/v1/users/{id}",
		"GET /api/v1/coupons/17/history/2024":       "GET /api/v1/coupons/{id}/history",
		"PUT /api/v1/payments/ab12?expand=true":     "",
		"POST /bookstore.v1.BookService/DeleteBook": "DeleteBook",
		"GET /static/app/main.js":                   "static",
		"GET /search?q=dune":                        "search",
		"GET /api/v2/users":                         "",
	}
	for _, r := range benchRequests {
		key := r.method + " " + r.path
		w, ok := want[key]
		if !ok {
			continue
		}
		_, name, _ := p.Match(r.method, r.path)
		if name != w {
			t.Errorf("%s -> %q, want %q", key, name, w)
		}
	}
}
