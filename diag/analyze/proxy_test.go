package analyze

import (
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/proxy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
)

func translateSpec(t *testing.T, spec string) []finding.Finding {
	t.Helper()
	sp, err := profile.Decode([]byte("spec:\n" + spec))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	dp, _, err := translate.Profile(sp, translate.Target{FQDN: "web.ns.svc.cluster.local", Port: 80})
	if err != nil {
		t.Fatalf("translate: %v", err)
	}
	kept, drops := proxy.Convert(dp)
	f := &Facts{Scope: Decoded, Profile: sp, Translated: dp, Kept: kept, Drops: drops}
	var out []finding.Finding
	for _, is := range runOne(t, "proxy-drops", f) {
		out = append(out, is.Finding)
	}
	return out
}

// runOne runs one analyzer of the registry over f.
func runOne(t *testing.T, name string, f *Facts) []Issue {
	t.Helper()
	a, ok := analyzers[name]
	if !ok {
		t.Fatalf("no analyzer %s", name)
	}
	e := &Emitter{a: a, f: f}
	a.Run(f, e)
	return e.out
}

func TestProxyDrops(t *testing.T) {
	cases := []struct {
		name  string
		spec  string
		code  string // "" = no finding
		level finding.Level
		route int
		says  string
	}{
		{name: "good", spec: `
  routes:
  - name: r
    condition: {method: GET, pathRegex: '/books/\d+'}
    responseClasses: [{condition: {status: {min: 500, max: 599}}, isFailure: true}]
    isRetryable: true
    timeout: 1s
  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 10s}
  dstOverrides: [{authority: web.ns.svc.cluster.local:80, weight: 1}]`},
		{name: "look-around drops the route", spec: `
  routes:
  - name: ok
    condition: {pathRegex: /a}
  - name: bad
    condition: {pathRegex: '/books/(?!new)'}`,
			code: CodeRegexDropped, level: finding.Error, route: 1, says: "look"},
		{name: "bad regex inside all only drops that child", spec: `
  routes:
  - name: r
    condition:
      all: [{method: GET}, {pathRegex: '(?<=x)y'}]`,
			code: CodeMatchDropped, level: finding.Error, route: 0, says: "matches more requests"},
		{name: "invalid method token drops the route", spec: `
  routes:
  - name: r
    condition: {method: "GET /"}`,
			code: CodeRouteDropped, level: finding.Error, route: 0, says: "method"},
		{name: "one-sided status range", spec: `
  routes:
  - name: r
    condition: {method: GET}
    responseClasses: [{condition: {status: {min: 500}}, isFailure: true}]`,
			code: CodeStatusOneSided, level: finding.Error, route: 0, says: "both min and max"},
		{name: "empty status range", spec: `
  routes:
  - name: r
    condition: {method: GET}
    responseClasses: [{condition: {status: {}}, isFailure: true}]`,
			code: CodeClassDropped, level: finding.Error, route: 0},
		{name: "ttl 0s with retryable routes", spec: `
  routes:
  - name: r
    condition: {method: GET}
    isRetryable: true
  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 0s}`,
			code: CodeRetryBudgetDropped, level: finding.Error, route: -1, says: "ttl is missing"},
		{name: "ratio above 1000 without retryable routes", spec: `
  routes:
  - name: r
    condition: {method: GET}
  retryBudget: {retryRatio: 1001, minRetriesPerSecond: 10, ttl: 10s}`,
			code: CodeRetryBudgetDropped, level: finding.Error, route: -1, says: "no effect"},
		{name: "ttl above 60s", spec: `
  routes:
  - name: r
    condition: {method: GET}
    isRetryable: true
  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 61s}`,
			code: CodeRetryBudgetDropped, level: finding.Error, route: -1, says: "1s..=60s"},
		{name: "negative timeout", spec: `
  routes:
  - name: r
    condition: {method: GET}
    timeout: -1s`,
			code: CodeTimeoutNegative, level: finding.Error, route: 0},
		{name: "dst weight 0", spec: `
  dstOverrides: [{authority: a.ns.svc.cluster.local:80, weight: 0}]`,
			code: CodeDstOverrideDropped, level: finding.Error, route: -1, says: "weight 0"},
		{name: "dst authority not name:port", spec: `
  dstOverrides: [{authority: "10.0.0.1:80", weight: 1}]`,
			code: CodeDstOverrideDropped, level: finding.Error, route: -1, says: "name:port"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := translateSpec(t, c.spec)
			if c.code == "" {
				if len(fs) != 0 {
					t.Fatalf("want no finding, got %+v", fs)
				}
				return
			}
			if len(fs) != 1 {
				t.Fatalf("want one %s finding, got %+v", c.code, fs)
			}
			f := fs[0]
			if f.Code != c.code || f.Level != c.level || f.RouteIndex != c.route {
				t.Errorf("got %s/%s route %d, want %s/%s route %d: %s", f.Code, f.Level, f.RouteIndex, c.code, c.level, c.route, f.Message)
			}
			if c.route >= 0 && f.Route == "" {
				t.Errorf("route name missing: %+v", f)
			}
			if !strings.Contains(f.Message, c.says) {
				t.Errorf("message %q does not mention %q", f.Message, c.says)
			}
		})
	}
}

func TestProxyDropsNothingSent(t *testing.T) {
	sp, _ := profile.Decode([]byte("spec: {routes: [{name: r, condition: {}}]}"))
	if is := runOne(t, "proxy-drops", &Facts{Scope: Decoded, Profile: sp}); len(is) != 0 {
		t.Errorf("nothing translated, yet: %+v", is)
	}
}
