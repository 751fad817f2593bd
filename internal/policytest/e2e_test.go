package policytest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/internal/policytest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/testenv"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/policy"
)

// cluster reads back what the stand-in reads with plugin/policy's reader
// (the plugin's decoders), for diag/policy's expected side.
func cluster(t *testing.T) *dpolicy.Cluster {
	t.Helper()
	c, notes, err := policy.ReadCluster(ctxFor(t), env.Clientset, env.Clientset.Discovery(), env.Dynamic, []string{""})
	if err != nil || len(notes) != 0 {
		t.Fatalf("ReadCluster: %v %q", err, notes)
	}
	return c
}

// both asks the stand-in through plugin/policy and predicts the answer
// with diag/policy; they must agree field by field.
func both(t *testing.T, cl *policy.Client, c *dpolicy.Cluster, ns, name string, port int32, clientNS string) (served, expected *dpolicy.Policy, e dpolicy.Expected) {
	t.Helper()
	svc := policy.ServiceIn(c, ns, name)
	if svc == nil {
		t.Fatalf("no Service %s/%s", ns, name)
	}
	spec := policy.Spec(svc, port, policy.Workload{Namespace: clientNS, Pod: "client-1"}, "")
	served, _, err := cl.Get(context.Background(), spec, 5*time.Second)
	if err != nil {
		t.Fatalf("Get %s: %v", policy.Target(spec), err)
	}
	e = dpolicy.Expect(policy.ExpectTarget(svc, port, clientNS), c, dpolicy.Options{})
	if d := dpolicy.Diff(e.Policy, served); len(d) != 0 {
		var lines []string
		for _, ch := range d {
			lines = append(lines, fmt.Sprintf("%s: expected %s served %s", ch.Field, ch.Expected, ch.Served))
		}
		t.Errorf("%s/%s:%d for %s: expected and served differ:\n%s", ns, name, port, clientNS, strings.Join(lines, "\n"))
	}
	return served, e.Policy, e
}

func names(rs []dpolicy.Route) string {
	var out []string
	for _, r := range rs {
		if r.Default != "" {
			out = append(out, "default:"+r.Default)
		} else {
			out = append(out, r.Kind+":"+r.Namespace+"/"+r.Name)
		}
	}
	return strings.Join(out, ",")
}

func ns(name string) string {
	return "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + name + "}\n"
}

func svcYAML(ns, name, annotations, ports string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: %s, annotations: {%s}}\nspec:\n  ports: %s\n", name, ns, annotations, ports)
}

// routeYAML is an HTTPRoute or GRPCRoute whose parentRef is svcNS/web; status
// is "accepted", "rejected" or "" (none).
func routeYAML(apiVersion, kind, ns, name, svcNS, annotations, status, rules string) string {
	s := fmt.Sprintf(`apiVersion: %s
kind: %s
metadata: {name: %s, namespace: %s, annotations: {%s}}
spec:
  parentRefs: [{group: core, kind: Service, name: web, namespace: %s}]
  rules:
%s`, apiVersion, kind, name, ns, annotations, svcNS, rules)
	switch status {
	case "accepted", "rejected":
		st, reason := "True", "Accepted"
		if status == "rejected" {
			st, reason = "False", "NoMatchingParent"
		}
		s += fmt.Sprintf(`status:
  parents:
  - parentRef: {group: core, kind: Service, name: web, namespace: %s}
    controllerName: linkerd.io/policy-controller
    conditions: [{type: Accepted, status: "%s", reason: %s, message: "", lastTransitionTime: "2026-01-01T00:00:00Z"}]
`, svcNS, st, reason)
	}
	return s
}

const gw, lk, grpcKind, httpKind = "gateway.networking.k8s.io/v1", "policy.linkerd.io/v1beta3", "GRPCRoute", "HTTPRoute"

func e2e(t *testing.T, manifests ...string) (*policy.Client, *dpolicy.Cluster) {
	t.Helper()
	ctx := ctxFor(t)
	if err := env.Apply(ctx, manifests...); err != nil {
		t.Fatal(err)
	}
	srv, err := policytest.Start(env.Clientset, env.Dynamic, "127.0.0.1:0", policytest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	cl, err := policy.Dial(ctx, srv.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl, cluster(t)
}

func TestE2EProducerAndConsumerRoutes(t *testing.T) {
	testenv.SkipIfShort(t)
	cl, c := e2e(t, ns("e1"), ns("e1-client"), ns("e1-other"),
		svcYAML("e1", "web", "", "[{name: http, port: 80}]"),
		routeYAML(gw, httpKind, "e1", "producer", "e1", "", "accepted", "  - matches: [{path: {type: PathPrefix, value: /p}}]\n"),
		routeYAML(gw, httpKind, "e1-client", "consumer", "e1", "", "accepted", "  - matches: [{path: {type: Exact, value: /c}}]\n"))
	served, _, _ := both(t, cl, c, "e1", "web", 80, "e1-client")
	if got := names(served.Routes); got != "HTTPRoute:e1/producer,HTTPRoute:e1-client/consumer" && got != "HTTPRoute:e1-client/consumer,HTTPRoute:e1/producer" {
		t.Errorf("consumer namespace sees %s", got)
	}
	served, _, e := both(t, cl, c, "e1", "web", 80, "e1-other")
	if got := names(served.Routes); got != "HTTPRoute:e1/producer" {
		t.Errorf("another namespace sees %s", got)
	}
	if !hasVerdict(e, "consumer", dpolicy.ReasonOtherConsumer) {
		t.Errorf("verdicts %+v", e.Routes)
	}
}

func hasVerdict(e dpolicy.Expected, name, reason string) bool {
	for _, v := range e.Routes {
		if v.Name == name && v.Reason == reason {
			return true
		}
	}
	return false
}

func TestE2EGRPCRouteHidesHTTPRoutes(t *testing.T) {
	testenv.SkipIfShort(t)
	cl, c := e2e(t, ns("e2"),
		svcYAML("e2", "web", "", "[{name: http, port: 80}, {name: h2c, port: 81, appProtocol: kubernetes.io/h2c}, {name: h1, port: 82, appProtocol: http}]"),
		routeYAML(gw, httpKind, "e2", "http", "e2", "", "accepted", "  - matches: [{path: {type: PathPrefix, value: /}}]\n"),
		routeYAML(gw, grpcKind, "e2", "grpc", "e2", `retry.linkerd.io/grpc: "unavailable,internal"`, "accepted", "  - matches: [{method: {service: shop.Cart, method: Add}}]\n"))
	for _, port := range []int32{80, 81} {
		served, _, e := both(t, cl, c, "e2", "web", port, "e2")
		if served.Protocol != dpolicy.GRPC || names(served.Routes) != "GRPCRoute:e2/grpc" {
			t.Errorf("port %d: %s %s", port, served.Protocol, names(served.Routes))
		}
		if !hasVerdict(e, "http", dpolicy.ReasonHiddenByGRPC) {
			t.Errorf("port %d: verdicts %+v", port, e.Routes)
		}
	}
	served, _, _ := both(t, cl, c, "e2", "web", 82, "e2")
	if served.Protocol != dpolicy.HTTP1 || names(served.Routes) != "HTTPRoute:e2/http" {
		t.Errorf("appProtocol http: %s %s", served.Protocol, names(served.Routes))
	}
}

func TestE2ERetryAndTimeoutAnnotations(t *testing.T) {
	testenv.SkipIfShort(t)
	svcAnn := `timeout.linkerd.io/request: 9s, timeout.linkerd.io/idle: 1m, retry.linkerd.io/http: "5xx,429", retry.linkerd.io/limit: "3", retry.linkerd.io/timeout: 250ms, balancer.linkerd.io/failure-accrual: consecutive, balancer.alpha.linkerd.io/penalize-failures: "true"`
	cl, c := e2e(t, ns("e3"),
		svcYAML("e3", "web", svcAnn, "[{name: http, port: 80}]"),
		svcYAML("e3", "plain", `retry.linkerd.io/limit: "2", timeout.linkerd.io/idle: 1.5s`, "[{name: http, port: 80}]"),
		routeYAML(gw, httpKind, "e3", "a-inherits", "e3", "", "accepted", "  - matches: [{path: {type: PathPrefix, value: /a}}]\n"),
		routeYAML(gw, httpKind, "e3", "b-own", "e3", `timeout.linkerd.io/response: 2s, retry.linkerd.io/http: gateway-error`, "accepted", "  - matches: [{path: {type: PathPrefix, value: /b}}]\n"),
		routeYAML(gw, httpKind, "e3", "c-rule-timeouts", "e3", "", "accepted", "  - matches: [{path: {type: PathPrefix, value: /c}}]\n    timeouts: {request: 4s}\n  - matches: [{path: {type: PathPrefix, value: /c2}}]\n    timeouts: {request: 1m30s}\n"),
		routeYAML(lk, httpKind, "e3", "d-linkerd", "e3", "", "accepted", "  - matches: [{path: {type: PathPrefix, value: /d}}]\n    timeouts: {request: 1m30s}\n    filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {set: [{name: x-a, value: b}]}}]\n"))
	served, _, _ := both(t, cl, c, "e3", "web", 80, "e3")
	byName := map[string]dpolicy.Route{}
	for _, r := range served.Routes {
		byName[r.Name] = r
	}
	if r := byName["a-inherits"].Rules[0]; r.Timeouts.Request != "9s" || r.Retry == nil || r.Retry.Limit != 3 || strings.Join(r.Retry.Conditions, ",") != "500-599,429" || r.Retry.Timeout != "250ms" {
		t.Errorf("a: %+v %+v", r.Timeouts, r.Retry)
	}
	if r := byName["b-own"].Rules[0]; r.Timeouts != (dpolicy.Timeouts{Response: "2s"}) || strings.Join(r.Retry.Conditions, ",") != "502-504" || r.Retry.Limit != 1 {
		t.Errorf("b: %+v %+v", r.Timeouts, r.Retry)
	}
	if r := byName["c-rule-timeouts"]; r.Rules[0].Timeouts.Request != "4s" || r.Rules[1].Timeouts.Request != "9s" {
		t.Errorf("c: %+v / %+v", r.Rules[0].Timeouts, r.Rules[1].Timeouts)
	}
	if r := byName["d-linkerd"].Rules[0]; r.Timeouts.Request != "1m30s" || r.Filters[0].Kind != dpolicy.FilterRequestHeaderModifier {
		t.Errorf("d: %+v %+v", r.Timeouts, r.Filters)
	}
	if served.FailureAccrual == nil || served.FailureAccrual.Kind != "consecutive" || byName["a-inherits"].Rules[0].Backends[0].Load != "penaltyPeakEwma" {
		t.Errorf("accrual %+v", served.FailureAccrual)
	}
	served, _, e := both(t, cl, c, "e3", "plain", 80, "e3")
	if r := served.Routes[0].Rules[0]; r.Timeouts != (dpolicy.Timeouts{}) || r.Retry == nil || len(r.Retry.Conditions) != 0 || len(e.Problems) != 1 {
		t.Errorf("plain: %+v %+v %q", r.Timeouts, r.Retry, e.Problems)
	}
}

func TestE2EUnacceptedAndDroppedRoutes(t *testing.T) {
	testenv.SkipIfShort(t)
	cl, c := e2e(t, ns("e4"),
		svcYAML("e4", "web", "", "[{name: http, port: 80}]"),
		routeYAML(gw, httpKind, "e4", "no-status", "e4", "", "", "  - matches: [{path: {type: PathPrefix, value: /n}}]\n"),
		routeYAML(gw, httpKind, "e4", "rejected", "e4", "", "rejected", "  - matches: [{path: {type: PathPrefix, value: /r}}]\n"),
		routeYAML(gw, httpKind, "e4", "rewrite", "e4", "", "accepted", "  - filters: [{type: URLRewrite, urlRewrite: {hostname: x.example}}]\n"),
		routeYAML(gw, httpKind, "e4", "bad-timeout", "e4", "timeout.linkerd.io/request: 1.5s", "accepted", "  - matches: [{path: {type: PathPrefix, value: /t}}]\n"),
		routeYAML(gw, httpKind, "e4", "ok", "e4", "", "accepted", "  - matches: [{path: {type: PathPrefix, value: /ok}}]\n"))
	served, _, e := both(t, cl, c, "e4", "web", 80, "e4")
	if names(served.Routes) != "HTTPRoute:e4/ok" {
		t.Errorf("served %s", names(served.Routes))
	}
	for name, reason := range map[string]string{"no-status": dpolicy.ReasonNotAccepted, "rejected": dpolicy.ReasonNotAccepted,
		"rewrite": dpolicy.ReasonConversion, "bad-timeout": dpolicy.ReasonConversion, "ok": dpolicy.ReasonServed} {
		if !hasVerdict(e, name, reason) {
			t.Errorf("%s: want %s in %+v", name, reason, e.Routes)
		}
	}
	// Undefined port (addr lookup) and a headless Service (authority).
	served, _, _ = both(t, cl, c, "e4", "web", 9999, "e4")
	if served.Protocol != dpolicy.Opaque || names(served.OpaqueRoutes) != "default:undefined-port" {
		t.Errorf("undefined port: %+v", served)
	}
}

func TestE2EBackends(t *testing.T) {
	testenv.SkipIfShort(t)
	cl, c := e2e(t, ns("e5"),
		svcYAML("e5", "web", "", "[{name: http, port: 80}]"),
		svcYAML("e5", "web-v2", "", "[{name: http, port: 80}]"),
		"apiVersion: v1\nkind: Service\nmetadata: {name: headless, namespace: e5}\nspec: {clusterIP: None, ports: [{port: 80}]}\n",
		routeYAML(gw, httpKind, "e5", "split", "e5", "", "accepted", `  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs:
    - {name: web-v2, port: 80, weight: 90}
    - {name: missing, port: 80, weight: 10}
    - {name: web}
    - {group: example.com, kind: Bucket, name: b, weight: 0}
`),
		routeYAML(gw, grpcKind, "e5", "grpc-split", "e5", "", "", "  - backendRefs: [{name: missing, port: 80}]\n"))
	served, _, _ := both(t, cl, c, "e5", "web", 80, "e5")
	bs := served.Routes[0].Rules[0].Backends
	if len(bs) != 4 || bs[0].Weight != 90 || bs[0].Invalid != "" || bs[1].Invalid != "Service not found missing" || bs[1].Weight != 10 ||
		bs[2].Invalid != "missing port for backend Service web" || bs[3].Invalid != "unsupported backend type example.com Bucket" || bs[3].Weight != 0 {
		t.Errorf("backends %+v", bs)
	}
	served, _, _ = both(t, cl, c, "e5", "headless", 80, "e5")
	if served.Protocol != dpolicy.Detect || served.Parent.Name != "headless" {
		t.Errorf("headless by authority: %+v", served)
	}
}
