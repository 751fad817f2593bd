package get_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestServiceNamespaceProfile(t *testing.T) {
	setup(t)
	r := getJSON(t, "svc/webapp", "-n", "books", "--port", "7000")
	if r.FQDN != "webapp.books.svc.cluster.local" || r.Client.Token != `{"ns":"books"}` {
		t.Fatalf("fqdn/token = %q %q", r.FQDN, r.Client.Token)
	}
	if len(r.Ports) != 1 {
		t.Fatalf("want 1 port, got %d", len(r.Ports))
	}
	p := r.Ports[0]
	if p.InEffect.Source != "service-namespace" || p.InEffect.Namespace != "books" || p.InEffect.ResourceVersion == "" {
		t.Errorf("inEffect = %+v", p.InEffect)
	}
	if p.Lookup.Result != "served" {
		t.Fatalf("lookup = %+v", p.Lookup)
	}
	if len(p.Drift) != 0 {
		t.Errorf("unexpected drift: %+v", p.Drift)
	}
	if !strings.Contains(string(p.Served), `"retryRatio":0.5`) || !strings.Contains(string(p.Served), `"GET /books"`) {
		t.Errorf("served profile lacks the CRD's values: %s", p.Served)
	}
	got := codes(p.Findings)
	for _, want := range []string{"timeout-unparsable", "httproute-ignored", "client-override"} {
		if !has(got, want) {
			t.Errorf("missing finding %s in %v", want, got)
		}
	}
	if !has(r.Overrides, "foobar") {
		t.Errorf("overrides = %v, want foobar", r.Overrides)
	}
}

func TestTableOutput(t *testing.T) {
	setup(t)
	out, errOut, code := get(t, "svc/webapp", "-n", "books")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "webapp", out)
	wide, _, _ := get(t, "svc/webapp", "-n", "books", "--port", "7000", "-o", "wide")
	golden(t, "webapp-wide", wide)
}

func TestClientNamespaceOverride(t *testing.T) {
	setup(t)
	r := getJSON(t, "service", "webapp", "-n", "books", "--port", "7000", "--from-namespace", "foobar")
	p := r.Ports[0]
	if p.InEffect.Source != "client-namespace" || p.InEffect.Namespace != "foobar" {
		t.Fatalf("inEffect = %+v", p.InEffect)
	}
	if !strings.Contains(string(p.Served), "foobar view") || len(p.Drift) != 0 {
		t.Errorf("served %s drift %+v", p.Served, p.Drift)
	}
	if r.Client.Token != `{"ns":"foobar"}` {
		t.Errorf("token = %s", r.Client.Token)
	}
}

func TestFromWorkload(t *testing.T) {
	setup(t)
	r := getJSON(t, "svc/webapp", "-n", "books", "--port", "7000", "--from", "deploy/traffic", "--from-namespace", "foobar")
	if r.Client.Pod != "traffic-5d9c7b-x2x4q" {
		t.Fatalf("client = %+v", r.Client)
	}
	if r.Client.Token != `{"ns":"foobar","nodeName":"node-1","pod":"traffic-5d9c7b-x2x4q"}` {
		t.Errorf("token = %s", r.Client.Token)
	}
	if r.Ports[0].InEffect.Source != "client-namespace" {
		t.Errorf("source = %s", r.Ports[0].InEffect.Source)
	}
	byPod := getJSON(t, "svc/webapp", "-n", "books", "--port", "7000", "--from", "pod/traffic-5d9c7b-x2x4q", "--from-namespace", "foobar")
	if byPod.Client.Token != r.Client.Token {
		t.Errorf("--from pod/...: token %s, want %s", byPod.Client.Token, r.Client.Token)
	}
	_, errOut, code := get(t, "svc/webapp", "-n", "books", "--from", "deploy/traffic") // traffic is in foobar, not books
	if code != 1 || !strings.Contains(errOut, `"traffic" not found`) {
		t.Errorf("--from in the wrong namespace: exit %d %q", code, errOut)
	}
}

func TestDefaultProfile(t *testing.T) {
	setup(t)
	r := getJSON(t, "svc/plain", "-n", "books")
	p := r.Ports[0]
	if p.InEffect.Source != "default" || len(p.Drift) != 0 || !has(codes(p.Findings), "default-profile") {
		t.Fatalf("port = %+v", p)
	}
	if !strings.Contains(string(p.Served), `"ttl":"10s"`) {
		t.Errorf("default retry budget missing: %s", p.Served)
	}
}

func TestSilentDestination(t *testing.T) {
	setup(t)
	r := getJSON(t, "svc/broken", "-n", "books")
	p := r.Ports[0]
	if p.Lookup.Result != "silent" || string(p.Served) != "null" || string(p.Expected) != "null" {
		t.Fatalf("lookup %+v served %s expected %s", p.Lookup, p.Served, p.Expected)
	}
	var found bool
	for _, f := range p.Findings {
		if f.Code == "profile-unservable" && strings.Contains(f.Message, "spec.retryBudget.ttl") && f.Level == "error" {
			found = true
		}
	}
	if !found {
		t.Errorf("no profile-unservable finding naming the ttl: %+v", p.Findings)
	}
	out, _, _ := get(t, "svc/broken", "-n", "books")
	golden(t, "broken", out)
}

func TestOpaquePortAndStaleFlag(t *testing.T) {
	setup(t)
	first := getJSON(t, "svc/cache", "-n", "books")
	if !has(codes(first.Ports[0].Findings), "opaque-port") {
		t.Fatalf("no opaque-port finding: %+v", first.Ports[0].Findings)
	}
	// The destination forgets the opaque ports once the last subscriber left:
	// the second fresh lookup reports opaqueProtocol:false.
	second := getJSON(t, "svc/cache", "-n", "books")
	p := second.Ports[0]
	if !has(codes(p.Findings), "opaque-protocol-stale") {
		t.Fatalf("no opaque-protocol-stale finding on re-subscription: %+v", p.Findings)
	}
	if len(p.Drift) != 1 || p.Drift[0].Field != "opaqueProtocol" {
		t.Errorf("drift = %+v", p.Drift)
	}
	if has(codes(p.Findings), "served-differs") {
		t.Errorf("the known bug must not also be reported as unexplained drift")
	}
}

func TestNearMissName(t *testing.T) {
	setup(t)
	r := getJSON(t, "svc/authors", "-n", "books")
	p := r.Ports[0]
	if p.InEffect.Source != "default" {
		t.Fatalf("source = %s", p.InEffect.Source)
	}
	for _, f := range p.Findings {
		if f.Code == "name-near-miss" && strings.Contains(f.Message, "authors.books.svc") && strings.Contains(f.Message, ".cluster.local") {
			return
		}
	}
	t.Errorf("no near-miss finding: %+v", p.Findings)
}

func TestExternalNameRejected(t *testing.T) {
	setup(t)
	r := getJSON(t, "svc/ext", "-n", "books")
	p := r.Ports[0]
	if p.Lookup.Result != "error" || !strings.Contains(p.Lookup.Error, "InvalidArgument") || !has(codes(p.Findings), "service-rejected") {
		t.Fatalf("port = %+v", p)
	}
}

func TestSeveralServices(t *testing.T) {
	setup(t)
	out, errOut, code := get(t, "svc/plain", "svc/cache", "-n", "books", "-o", "yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "- ") || strings.Count("\n"+out, "\n- ") != 2 {
		t.Errorf("want a YAML list of two reports:\n%s", out)
	}
}

func TestErrors(t *testing.T) {
	setup(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"service not found", []string{"get", "--destination-addr", dest.Addr(), "svc/nope", "-n", "books"}, 1, `services "nope" not found`},
		{"port not on service", []string{"get", "--destination-addr", dest.Addr(), "svc/webapp", "-n", "books", "--port", "9999"}, 1, "port 9999 is not a port of Service books/webapp (ports: 7000, 7001)"},
		{"not a service", []string{"get", "--destination-addr", dest.Addr(), "deploy/traffic", "-n", "foobar"}, 2, "get works on Services"},
		{"not a service, and missing", []string{"get", "--destination-addr", dest.Addr(), "deploy/nope", "-n", "foobar"}, 2, `get works on Services, not Deployment "nope"`},
		{"bad output", []string{"get", "svc/webapp", "-o", "xml"}, 2, `unknown output format "xml"`},
		{"unreachable", []string{"get", "--destination-addr", "127.0.0.1:1", "--timeout", "1s", "svc/webapp", "-n", "books"}, 1, "destination unreachable at 127.0.0.1:1"},
		{"no linkerd", []string{"get", "svc/webapp", "-n", "books"}, 1, "no linkerd-destination pod in namespace linkerd: is Linkerd installed?"},
		{"bad flag", []string{"get", "--nope"}, 2, "unknown flag: --nope"},
		{"bad destination address", []string{"get", "--destination-addr", "127.0.0.1:99999", "svc/webapp"}, 2, "is not HOST:PORT"},
		{"bad client namespace", []string{"get", "--destination-addr", dest.Addr(), "--from-namespace", "bad ns", "svc/webapp"}, 2, `--from-namespace "bad ns" is not a namespace name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit = %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", errOut, tt.want)
			}
			if strings.Count(strings.TrimSpace(errOut), "\n") != 0 || strings.Contains(errOut, "goroutine ") {
				t.Errorf("stderr is not one line: %q", errOut)
			}
			if out != "" {
				t.Errorf("stdout not empty on error: %q", out)
			}
		})
	}
}

func TestProxyDrops(t *testing.T) {
	setup(t)
	r := getJSON(t, "svc/risky", "-n", "books")
	p := r.Ports[0]
	if p.Lookup.Result != "served" || len(p.Drift) != 0 {
		t.Fatalf("the destination serves this profile unchanged: %+v %+v", p.Lookup, p.Drift)
	}
	want := map[string]string{ // code -> route ("" = profile level)
		"regex-dropped-by-proxy":        "lookahead",
		"retry-budget-dropped-by-proxy": "",
		"dst-override-dropped-by-proxy": "",
	}
	for code, route := range want {
		found := false
		for _, f := range p.Findings {
			if f.Code == code && f.Route == route {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s finding (route %q) in %+v", code, route, p.Findings)
		}
	}
	var oneSided bool
	for _, f := range p.Findings {
		if f.Route == "half range" && (f.Code == "status-range-one-sided" || f.Code == "response-class-dropped-by-proxy") {
			oneSided = true
		}
	}
	if !oneSided {
		t.Errorf("the one-sided status range is not reported: %+v", p.Findings)
	}
	out, _, _ := get(t, "svc/risky", "-n", "books")
	golden(t, "risky", out)
}

// TestDriftFromAStaleDestination: the destination still serves what it saw
// before the ServiceProfile changed (a lagging cache). get must show every
// changed field as drift and say why it matters.
func TestDriftFromAStaleDestination(t *testing.T) {
	setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sp := func(timeout, ratio string) string {
		return `
apiVersion: v1
kind: Service
metadata: {name: drifty, namespace: books}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: drifty.books.svc.cluster.local, namespace: books}
spec:
  routes:
  - name: GET /a
    condition: {method: GET, pathRegex: /a}
    timeout: ` + timeout + `
  retryBudget: {retryRatio: ` + ratio + `, minRetriesPerSecond: 10, ttl: 10s}
`
	}
	if err := env.Apply(ctx, sp("1s", "0.2")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(getJSON(t, "svc/drifty", "-n", "books").Ports[0].Drift) == 0 })
	dest.Freeze()
	defer dest.Thaw()
	if err := env.Apply(ctx, sp("3s", "0.5")); err != nil {
		t.Fatal(err)
	}
	p := getJSON(t, "svc/drifty", "-n", "books").Ports[0]
	got := map[string][2]string{}
	for _, d := range p.Drift {
		got[d.Field] = [2]string{d.Expected, d.Served}
	}
	if got["routes[0].timeout"] != [2]string{`"3s"`, `"1s"`} || got["retryBudget.retryRatio"] != [2]string{"0.5", "0.2"} || len(got) != 2 {
		t.Errorf("drift = %+v", p.Drift)
	}
	if !has(codes(p.Findings), "served-differs") {
		t.Errorf("no served-differs finding: %v", codes(p.Findings))
	}
	out, _, _ := get(t, "svc/drifty", "-n", "books")
	golden(t, "drift", out)
	dest.Thaw()
	waitFor(t, func() bool { return len(getJSON(t, "svc/drifty", "-n", "books").Ports[0].Drift) == 0 })
}

// waitFor polls cond for up to 10 s: informers and caches are eventually
// consistent, and a fixed sleep would be either slow or flaky.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
	}
}
