package get_test

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/kubectl-profiles/kubectl-profiles/internal/policytest"
)

// policyFixtures: Services and routes in namespace pol, each for one
// finding of the policy path (comments say which). The routes carry the
// status the real policy controller writes (Accepted=True) unless the case
// is about that.
const policyFixtures = `
apiVersion: v1
kind: Namespace
metadata: {name: pol}
---
apiVersion: v1
kind: Namespace
metadata: {name: pol-client}
---
apiVersion: v1
kind: Namespace
metadata: {name: l5d-old}
---
# The control plane's release as linkerd-config holds it (--linkerd-namespace l5d-old).
apiVersion: v1
kind: ConfigMap
metadata: {name: linkerd-config, namespace: l5d-old}
data:
  values: |
    clusterDomain: cluster.local
    linkerdVersion: stable-2.19.2
---
# routed: no ServiceProfile, so client policy: a retry limit without
# conditions and an idle timeout that does not parse on the Service.
apiVersion: v1
kind: Service
metadata:
  name: routed
  namespace: pol
  annotations: {retry.linkerd.io/limit: "2", timeout.linkerd.io/idle: forever}
spec:
  ports: [{name: http, port: 80}]
---
# main: accepted; rule 0 sends a quarter of /api to a Service that does not
# exist; rule 1 has a Gateway rules[].timeouts.
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: main, namespace: pol}
spec:
  parentRefs: [{group: core, kind: Service, name: routed, port: 80}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: routed, port: 80, weight: 3}, {name: missing, port: 80, weight: 1}]
  - matches: [{path: {type: Exact, value: /slow}}]
    timeouts: {request: 5s}
status:
  parents:
  - parentRef: {group: core, kind: Service, name: routed, port: 80}
    controllerName: linkerd.io/policy-controller
    conditions: [{type: Accepted, status: "True", reason: Accepted, message: "", lastTransitionTime: "2026-01-01T00:00:00Z"}]
---
# unaccepted: no status from Linkerd.
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: unaccepted, namespace: pol}
spec:
  parentRefs: [{group: core, kind: Service, name: routed, port: 80}]
  rules: [{matches: [{path: {type: PathPrefix, value: /u}}]}]
---
# mirror: accepted, but the controller drops routes with RequestMirror.
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: mirror, namespace: pol}
spec:
  parentRefs: [{group: core, kind: Service, name: routed, port: 80}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /m}}]
    filters: [{type: RequestMirror, requestMirror: {backendRef: {name: routed, port: 80}}}]
status:
  parents:
  - parentRef: {group: core, kind: Service, name: routed, port: 80}
    controllerName: linkerd.io/policy-controller
    conditions: [{type: Accepted, status: "True", reason: Accepted, message: "", lastTransitionTime: "2026-01-01T00:00:00Z"}]
---
# consumer: a route in pol-client for pol/routed: only pol-client's clients.
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: consumer, namespace: pol-client}
spec:
  parentRefs: [{group: core, kind: Service, name: routed, namespace: pol, port: 80}]
  rules: [{matches: [{path: {type: PathPrefix, value: /c}}]}]
status:
  parents:
  - parentRef: {group: core, kind: Service, name: routed, namespace: pol, port: 80}
    controllerName: linkerd.io/policy-controller
    conditions: [{type: Accepted, status: "True", reason: Accepted, message: "", lastTransitionTime: "2026-01-01T00:00:00Z"}]
---
# grpc: a GRPCRoute hides the HTTPRoute on the same port.
apiVersion: v1
kind: Service
metadata: {name: grpc, namespace: pol}
spec:
  ports: [{name: grpc, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: pol}
spec:
  parentRefs: [{group: core, kind: Service, name: grpc, port: 8080}]
  rules: [{matches: [{path: {type: PathPrefix, value: /}}]}]
status:
  parents:
  - parentRef: {group: core, kind: Service, name: grpc, port: 8080}
    controllerName: linkerd.io/policy-controller
    conditions: [{type: Accepted, status: "True", reason: Accepted, message: "", lastTransitionTime: "2026-01-01T00:00:00Z"}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: rpc, namespace: pol}
spec:
  parentRefs: [{group: core, kind: Service, name: grpc, port: 8080}]
  rules: [{matches: [{method: {service: books.Api, method: Get}}]}]
status:
  parents:
  - parentRef: {group: core, kind: Service, name: grpc, port: 8080}
    controllerName: linkerd.io/policy-controller
    conditions: [{type: Accepted, status: "True", reason: Accepted, message: "", lastTransitionTime: "2026-01-01T00:00:00Z"}]
---
# masked: a ServiceProfile with routes masks the retry annotation.
apiVersion: v1
kind: Service
metadata:
  name: masked
  namespace: pol
  annotations: {retry.linkerd.io/http: 5xx}
spec:
  ports: [{port: 80}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: masked.pol.svc.cluster.local, namespace: pol}
spec:
  routes: [{name: GET /, condition: {method: GET, pathRegex: /}}]
---
# idle: a ServiceProfile without routes: client policy is used.
apiVersion: v1
kind: Service
metadata: {name: idle, namespace: pol}
spec:
  ports: [{port: 80}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: idle.pol.svc.cluster.local, namespace: pol}
spec:
  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 10s}
`

var policyApplied bool

func policySetup(t *testing.T) {
	t.Helper()
	setup(t)
	if policyApplied {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := env.Apply(ctx, policyFixtures); err != nil {
		t.Fatalf("apply policy fixtures: %v", err)
	}
	policyApplied = true
}

type policyPort struct {
	Port       int
	Mode       string
	ModeReason string
	Findings   []struct{ Code, Level, Message, Route string }
	Policy     *struct {
		Lookup   struct{ Result, Error string }
		Protocol string
		Routes   []struct {
			Name, Namespace, Kind, Group string
			Rules                        []struct {
				Timeouts struct{ Request, Idle string }
				Retry    *struct {
					Limit      int
					Conditions []string
				}
				Backends []struct {
					Weight  int
					Invalid string
				}
				Sources *struct{ Request, Retry string }
			}
		}
		NotServed []struct{ Kind, Namespace, Name, Reason, Detail string }
		Drift     []struct{ Field string }
	}
}

func policyGet(t *testing.T, args ...string) policyPort {
	t.Helper()
	out, errOut, code := get(t, append(args, "-o", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct{ Ports []policyPort }
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Ports) != 1 {
		t.Fatalf("bad JSON (%v): %s", err, out)
	}
	if r.Ports[0].Policy == nil {
		t.Fatalf("no policy half: %s", out)
	}
	return r.Ports[0]
}

func findingWith(p policyPort, code, says string) bool {
	for _, f := range p.Findings {
		if f.Code == code && strings.Contains(f.Message, says) {
			return true
		}
	}
	return false
}

// Client policy for a Service without ServiceProfile: the routes this
// client gets, in order, with their effective settings and sources, and
// every finding of the routes and annotations that do not do what they say.
func TestPolicyModeAndFindings(t *testing.T) {
	policySetup(t)
	p := policyGet(t, "svc/routed", "-n", "pol")
	if p.Mode != "policy" || !strings.Contains(p.ModeReason, "client policy (HTTPRoutes)") {
		t.Errorf("mode %q (%s)", p.Mode, p.ModeReason)
	}
	pol := p.Policy
	if pol.Lookup.Result != "served" || pol.Protocol != "detect" || len(pol.Drift) != 0 {
		t.Errorf("lookup %+v protocol %s drift %+v", pol.Lookup, pol.Protocol, pol.Drift)
	}
	if len(pol.Routes) != 1 || pol.Routes[0].Name != "main" || pol.Routes[0].Kind != "HTTPRoute" || len(pol.Routes[0].Rules) != 2 {
		t.Fatalf("routes = %+v", pol.Routes)
	}
	r0 := pol.Routes[0].Rules[0]
	if len(r0.Backends) != 2 || r0.Backends[0].Weight != 3 || r0.Backends[1].Invalid == "" {
		t.Errorf("backends = %+v", r0.Backends)
	}
	if r0.Retry == nil || r0.Retry.Limit != 2 || len(r0.Retry.Conditions) != 0 || r0.Sources == nil || r0.Sources.Retry != "service-annotation" {
		t.Errorf("retry = %+v sources %+v", r0.Retry, r0.Sources)
	}
	r1 := pol.Routes[0].Rules[1]
	if r1.Timeouts.Request != "5s" || r1.Sources == nil || r1.Sources.Request != "rules[].timeouts" {
		t.Errorf("rule 1 timeouts = %+v sources %+v", r1.Timeouts, r1.Sources)
	}
	reasons := map[string]string{}
	for _, v := range pol.NotServed {
		reasons[v.Namespace+"/"+v.Name] = v.Reason
	}
	// get reads the service's and the client's namespaces: the consumer
	// route of pol-client is seen from there (and by audits and check).
	for name, want := range map[string]string{"pol/unaccepted": "not-accepted", "pol/mirror": "conversion-failed"} {
		if reasons[name] != want {
			t.Errorf("%s: reason %q, want %q (%+v)", name, reasons[name], want, pol.NotServed)
		}
	}
	for code, says := range map[string]string{
		"route-not-accepted":            "HTTPRoute pol/unaccepted",
		"route-dropped-by-controller":   "RequestMirror",
		"backend-invalid":               "25% of its requests fail with HTTP 500",
		"retry-without-conditions":      "retry.linkerd.io/http",
		"service-annotation-invalid":    "timeouts dropped",
		"control-plane-version-unknown": "HTTPRoute pol/main",
	} {
		if !findingWith(p, code, says) {
			t.Errorf("no %s finding saying %q in %+v", code, says, p.Findings)
		}
	}
	// As a client in pol-client, the consumer route is added to the
	// producer's, sorted by creation time then name.
	c := policyGet(t, "svc/routed", "-n", "pol", "--from-namespace", "pol-client")
	if len(c.Policy.Routes) != 2 || c.Policy.Routes[0].Namespace != "pol-client" || c.Policy.Routes[1].Name != "main" ||
		!findingWith(c, "consumer-route", "in addition to the routes in namespace pol") {
		t.Errorf("consumer view: routes %+v findings %+v", c.Policy.Routes, c.Findings)
	}
}

// A control plane before 2.20 ignores Gateway rules[].timeouts: the
// release is read from linkerd-config, the prediction follows it and so
// does a controller of that release.
func TestPolicyRuleTimeoutsOnAnOldControlPlane(t *testing.T) {
	policySetup(t)
	old, err := policytest.Start(env.Clientset, env.Dynamic, "127.0.0.1:0", policytest.Options{IgnoreGatewayRuleTimeouts: true})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Stop()
	p := policyGet(t, "svc/routed", "-n", "pol", "--policy-addr", old.Addr(), "--linkerd-namespace", "l5d-old")
	if !findingWith(p, "rule-timeouts-ignored", "stable-2.19.2, from ConfigMap l5d-old/linkerd-config") {
		t.Errorf("findings %+v", p.Findings)
	}
	if len(p.Policy.Drift) != 0 || p.Policy.Routes[0].Rules[1].Timeouts.Request != "" {
		t.Errorf("drift %+v, rule 1 %+v", p.Policy.Drift, p.Policy.Routes[0].Rules[1])
	}
}

func TestPolicyGRPCRouteHidesHTTPRoutes(t *testing.T) {
	policySetup(t)
	p := policyGet(t, "svc/grpc", "-n", "pol")
	if p.Mode != "policy" || p.Policy.Protocol != "grpc" || len(p.Policy.Routes) != 1 || p.Policy.Routes[0].Kind != "GRPCRoute" {
		t.Errorf("mode %s protocol %s routes %+v", p.Mode, p.Policy.Protocol, p.Policy.Routes)
	}
	if !findingWith(p, "grpcroute-hides-httproutes", "HTTPRoute pol/web") {
		t.Errorf("findings %+v", p.Findings)
	}
}

func TestPolicyMaskedAndIgnoredProfiles(t *testing.T) {
	policySetup(t)
	m := policyGet(t, "svc/masked", "-n", "pol")
	if m.Mode != "serviceprofile" || !strings.Contains(m.ModeReason, "has 1 route") {
		t.Errorf("mode %s (%s)", m.Mode, m.ModeReason)
	}
	if !findingWith(m, "httproute-ignored", "retry.linkerd.io/http") {
		t.Errorf("masked: findings %+v", m.Findings)
	}
	i := policyGet(t, "svc/idle", "-n", "pol")
	if i.Mode != "policy" || !strings.Contains(i.ModeReason, "has no routes") || !findingWith(i, "profile-without-routes", "client policy") {
		t.Errorf("idle: mode %s (%s) findings %+v", i.Mode, i.ModeReason, i.Findings)
	}
}

// The policy controller unreachable or without the API: the ServiceProfile
// half is reported, one line says what is missing, exit status 4.
func TestPolicyUnavailable(t *testing.T) {
	policySetup(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bare := grpc.NewServer() // no OutboundPolicies: Unimplemented
	go func() { _ = bare.Serve(lis) }()
	defer bare.Stop()
	for _, c := range []struct{ name, addr, says string }{
		{"unreachable", "127.0.0.1:1", "policy controller unreachable at 127.0.0.1:1"},
		{"unimplemented", lis.Addr().String(), "does not serve OutboundPolicies"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := get(t, "svc/webapp", "-n", "books", "--port", "7000", "--policy-addr", c.addr, "--timeout", "1s")
			if code != 4 {
				t.Fatalf("exit %d, want 4: %s", code, errOut)
			}
			if !strings.Contains(out, "ROUTE") || !strings.Contains(out, "GET /books") || !strings.Contains(out, "MODE          serviceprofile") {
				t.Errorf("the ServiceProfile half is missing:\n%s", out)
			}
			// One line says what is missing (the exit line); a connection
			// that failed also warns once for the whole run.
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			last := lines[len(lines)-1]
			if len(lines) > 2 || !strings.Contains(errOut, c.says) || !strings.Contains(last, "1 of 1 policy lookups failed") {
				t.Errorf("stderr:\n%s", errOut)
			}
		})
	}
}

// The audit shows MODE per row.
func TestPolicyAuditMode(t *testing.T) {
	policySetup(t)
	out, errOut, code := get(t, "-n", "pol", "--all-services")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := map[string]string{"routed": "policy", "grpc": "policy", "masked": "serviceprofile", "idle": "policy"}
	for _, line := range strings.Split(out, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		if m, ok := want[f[1]]; ok {
			if f[5] != m {
				t.Errorf("%s: MODE %s, want %s\n%s", f[1], f[5], m, out)
			}
			delete(want, f[1])
		}
	}
	if len(want) != 0 {
		t.Errorf("rows missing for %v:\n%s", want, out)
	}
}
