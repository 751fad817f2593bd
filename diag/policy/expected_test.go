package policy

import (
	"reflect"
	"strings"
	"testing"
)

func withAppProtocol(ap string) string {
	return strings.Replace(webSvc, "- {name: http, port: 80}", "- {name: http, port: 80, appProtocol: "+ap+"}", 1)
}

// Reference §3.1: which variant the controller sends, and which routes.
func TestProtocolVariant(t *testing.T) {
	hr := httpRoute("shop", "a", "2026-01-01T00:00:00Z", "")
	gr := grpcRoute("shop", "g", "2026-01-01T00:00:00Z")
	cases := []struct {
		name     string
		fixture  string
		port     int32
		proto    Protocol
		routes   []string
		opaque   []string
		verdicts map[string]string // kind/name -> reason
	}{
		{"unset, nothing: detect with the default http route", webSvc, 80, Detect, []string{"default:http"}, []string{"default:opaq"}, nil},
		{"unset, HTTPRoute: detect", webSvc + "---" + hr, 80, Detect, []string{"HTTPRoute:shop/a"}, []string{"default:opaq"}, map[string]string{"HTTPRoute/a": ReasonServed}},
		{"unset, GRPCRoute hides HTTPRoutes", webSvc + "---" + hr + "---" + gr, 80, GRPC, []string{"GRPCRoute:shop/g"}, nil,
			map[string]string{"HTTPRoute/a": ReasonHiddenByGRPC, "GRPCRoute/g": ReasonServed}},
		{"appProtocol http: http1, GRPCRoutes not served", withAppProtocol("http") + "---" + hr + "---" + gr, 80, HTTP1, []string{"HTTPRoute:shop/a"}, nil,
			map[string]string{"HTTPRoute/a": ReasonServed, "GRPCRoute/g": ReasonProtocolIgnores}},
		{"appProtocol HTTP is case-insensitive", withAppProtocol("HTTP"), 80, HTTP1, []string{"default:http"}, nil, nil},
		{"h2c with a GRPCRoute: grpc", withAppProtocol("kubernetes.io/h2c") + "---" + hr + "---" + gr, 80, GRPC, []string{"GRPCRoute:shop/g"}, nil,
			map[string]string{"HTTPRoute/a": ReasonHiddenByGRPC}},
		{"h2c without GRPCRoute: http2", withAppProtocol("kubernetes.io/h2c") + "---" + hr, 80, HTTP2, []string{"HTTPRoute:shop/a"}, nil, nil},
		{"appProtocol grpc (unknown) means opaque", withAppProtocol("grpc") + "---" + hr, 80, Opaque, nil, []string{"default:opaq"},
			map[string]string{"HTTPRoute/a": ReasonProtocolIgnores}},
		{"appProtocol linkerd.io/opaque", withAppProtocol("linkerd.io/opaque"), 80, Opaque, nil, []string{"default:opaq"}, nil},
		{"default opaque port 3306", webSvc + "---" + hr, 3306, Opaque, nil, []string{"default:opaq"}, map[string]string{"HTTPRoute/a": ReasonProtocolIgnores}},
		{"opaque-ports annotation replaces the defaults", strings.Replace(webSvc, "namespace: shop}", "namespace: shop, annotations: {config.linkerd.io/opaque-ports: \"80\"}}", 1), 3306, Detect, []string{"default:http"}, []string{"default:opaq"}, nil},
		{"opaque-ports annotation marks 80", strings.Replace(webSvc, "namespace: shop}", "namespace: shop, annotations: {config.linkerd.io/opaque-ports: \"80\"}}", 1), 80, Opaque, nil, []string{"default:opaq"}, nil},
		{"appProtocol wins over the annotation", strings.Replace(withAppProtocol("http"), "namespace: shop}", "namespace: shop, annotations: {config.linkerd.io/opaque-ports: \"80\"}}", 1), 80, HTTP1, []string{"default:http"}, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := parse(t, c.fixture)
			e := expectFor(t, cl, "shop", c.port)
			p := e.Policy
			if p.Protocol != c.proto {
				t.Fatalf("protocol %s, want %s", p.Protocol, c.proto)
			}
			if got := routeNames(p.Routes); !reflect.DeepEqual(got, c.routes) {
				t.Errorf("routes %v, want %v", got, c.routes)
			}
			if got := routeNames(p.OpaqueRoutes); !reflect.DeepEqual(got, c.opaque) {
				t.Errorf("opaque routes %v, want %v", got, c.opaque)
			}
			for k, want := range c.verdicts {
				kind, name, _ := strings.Cut(k, "/")
				if got := verdict(e, kind, "shop", name); got != want {
					t.Errorf("%s: %s, want %s", k, got, want)
				}
			}
			if c.proto == Detect && p.DetectTimeout != "10s" {
				t.Errorf("detect timeout %q, want 10s", p.DetectTimeout)
			}
		})
	}
}

// Reference §6.4: producer routes for everyone, consumer routes only for
// their own namespace, both sorted together (§6.5).
func TestProducerConsumer(t *testing.T) {
	cl := parse(t, webSvc+"---"+httpRoute("shop", "producer", "2026-01-02T00:00:00Z", "")+"---"+httpRoute("shop-client", "consumer", "2026-01-01T00:00:00Z", ""))
	e := expectFor(t, cl, "shop-client", 80)
	if got, want := routeNames(e.Policy.Routes), []string{"HTTPRoute:shop-client/consumer", "HTTPRoute:shop/producer"}; !reflect.DeepEqual(got, want) {
		t.Errorf("client in shop-client: %v, want %v", got, want)
	}
	e = expectFor(t, cl, "elsewhere", 80)
	if got, want := routeNames(e.Policy.Routes), []string{"HTTPRoute:shop/producer"}; !reflect.DeepEqual(got, want) {
		t.Errorf("client elsewhere: %v, want %v", got, want)
	}
	if got := verdict(e, "HTTPRoute", "shop-client", "consumer"); got != ReasonOtherConsumer {
		t.Errorf("consumer verdict for another namespace: %s", got)
	}
	// The service's own namespace is a client like any other.
	e = expectFor(t, cl, "shop", 80)
	if got := routeNames(e.Policy.Routes); !reflect.DeepEqual(got, []string{"HTTPRoute:shop/producer"}) {
		t.Errorf("client in shop: %v", got)
	}
}

// Reference §6.5: creation timestamp, then name; no timestamp last;
// namespace not compared.
func TestRouteOrder(t *testing.T) {
	cl := parse(t, webSvc+
		"---"+httpRoute("shop", "b", "2026-01-01T00:00:00Z", "")+
		"---"+httpRoute("shop", "a", "2026-01-01T00:00:00Z", "")+
		"---"+httpRoute("shop", "old", "2025-01-01T00:00:00Z", "")+
		"---"+strings.Replace(httpRoute("shop", "aaa-no-time", "X", ""), `, creationTimestamp: "X"`, "", 1)+
		"---"+httpRoute("cli", "0-consumer", "2026-01-01T00:00:00Z", ""))
	e := expectFor(t, cl, "cli", 80)
	want := []string{"HTTPRoute:shop/old", "HTTPRoute:cli/0-consumer", "HTTPRoute:shop/a", "HTTPRoute:shop/b", "HTTPRoute:shop/aaa-no-time"}
	if got := routeNames(e.Policy.Routes); !reflect.DeepEqual(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

// Reference §6.1, §6.2: parentRef and status rules.
func TestParentAndStatus(t *testing.T) {
	base := httpRoute("shop", "r", "2026-01-01T00:00:00Z", "")
	cases := []struct {
		name, fixture string
		port          int32
		want          string
	}{
		{"accepted", base, 80, ReasonServed},
		{"no status", strings.SplitN(base, "\nstatus:", 2)[0], 80, ReasonNotAccepted},
		{"Accepted=False", strings.Replace(base, `status: "True", reason: Accepted`, `status: "False", reason: NoMatchingParent`, 1), 80, ReasonNotAccepted},
		{"status for another Service", strings.Replace(base, "kind: Service, name: web, namespace: shop}\n    controllerName", "kind: Service, name: other, namespace: shop}\n    controllerName", 1), 80, ReasonNotAccepted},
		{"parentRef without kind is skipped", strings.Replace(base, "- {group: core, kind: Service, name: web, namespace: shop}\n  rules", "- {name: web, namespace: shop}\n  rules", 1), 80, ReasonParentNoKind},
		{"kind is case-insensitive", strings.Replace(base, "- {group: core, kind: Service, name: web, namespace: shop}\n  rules", "- {group: \"\", kind: service, name: web}\n  rules", 1), 80, ReasonServed},
		{"port on parentRef: other port", strings.Replace(base, "namespace: shop}\n  rules", "namespace: shop, port: 8080}\n  rules", 1), 80, ReasonOtherPort},
		{"port on parentRef: this port, status without port", strings.Replace(base, "namespace: shop}\n  rules", "namespace: shop, port: 80}\n  rules", 1), 80, ReasonServed},
		{"status port differs from parentRef port", strings.Replace(strings.Replace(base, "namespace: shop}\n  rules", "namespace: shop, port: 80}\n  rules", 1), "namespace: shop}\n    controllerName", "namespace: shop, port: 8080}\n    controllerName", 1), 80, ReasonNotAccepted},
		{"sectionName only applies to every port", strings.Replace(base, "namespace: shop}\n  rules", "namespace: shop, sectionName: grpc}\n  rules", 1), 80, ReasonServed},
		{"status parentRef with port but spec without", strings.Replace(base, "namespace: shop}\n    controllerName", "namespace: shop, port: 80}\n    controllerName", 1), 80, ReasonNotAccepted},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := parse(t, webSvc+"---"+c.fixture)
			e := expectFor(t, cl, "shop", c.port)
			if got := verdict(e, "HTTPRoute", "shop", "r"); got != c.want {
				t.Fatalf("verdict %s, want %s (%+v)", got, c.want, e.Routes)
			}
			served := len(e.Policy.Routes) == 1 && e.Policy.Routes[0].Name == "r"
			if served != (c.want == ReasonServed) {
				t.Errorf("served=%v with verdict %s: %v", served, c.want, routeNames(e.Policy.Routes))
			}
		})
	}
}

// Reference §7.2: effective timeouts per rule and where they came from.
func TestTimeoutPrecedence(t *testing.T) {
	svcAnn := strings.Replace(webSvc, "namespace: shop}", "namespace: shop, annotations: {timeout.linkerd.io/request: 9s, timeout.linkerd.io/idle: 7s, retry.linkerd.io/http: 5xx}}", 1)
	route := func(group, ann, ruleTimeouts string) string {
		r := httpRoute("shop", "r", "2026-01-01T00:00:00Z", ruleTimeouts)
		r = strings.Replace(r, "creationTimestamp:", ann+"creationTimestamp:", 1)
		if group == GroupLinkerd {
			r = strings.Replace(r, "gateway.networking.k8s.io/v1", "policy.linkerd.io/v1beta3", 1)
		}
		return r
	}
	cases := []struct {
		name       string
		svc, route string
		opts       Options
		want       Timeouts
		src        Sources
	}{
		{"service timeouts on a route without any", svcAnn, route(GroupGateway, "", ""), Options{}, Timeouts{Request: "9s", Idle: "7s"},
			Sources{Request: SourceServiceAnnotation, Idle: SourceServiceAnnotation, Retry: SourceServiceAnnotation}},
		{"route annotation wins, all or nothing", svcAnn, route(GroupGateway, "annotations: {timeout.linkerd.io/response: 2s}, ", ""), Options{}, Timeouts{Response: "2s"},
			Sources{Response: SourceRouteAnnotation, Retry: SourceServiceAnnotation}},
		{"gateway rules[].timeouts.request (2.20+)", svcAnn, route(GroupGateway, "", "    timeouts: {request: 3s}\n"), Options{}, Timeouts{Request: "3s"},
			Sources{Request: SourceRuleTimeouts, Retry: SourceServiceAnnotation}},
		{"gateway rules[].timeouts before 2.20: service", svcAnn, route(GroupGateway, "", "    timeouts: {request: 3s}\n"), Options{IgnoreGatewayRuleTimeouts: true}, Timeouts{Request: "9s", Idle: "7s"},
			Sources{Request: SourceServiceAnnotation, Idle: SourceServiceAnnotation, Retry: SourceServiceAnnotation}},
		{"gateway 1m30s is silently ignored", svcAnn, route(GroupGateway, "", "    timeouts: {request: 1m30s}\n"), Options{}, Timeouts{Request: "9s", Idle: "7s"},
			Sources{Request: SourceServiceAnnotation, Idle: SourceServiceAnnotation, Retry: SourceServiceAnnotation}},
		{"policy.linkerd.io 1m30s is a Go duration", svcAnn, route(GroupLinkerd, "", "    timeouts: {request: 1m30s}\n"), Options{}, Timeouts{Request: "1m30s"},
			Sources{Request: SourceRuleTimeouts, Retry: SourceServiceAnnotation}},
		{"rules timeouts 0s still gets the service timeouts", svcAnn, route(GroupGateway, "", "    timeouts: {request: 0s}\n"), Options{}, Timeouts{Request: "9s", Idle: "7s"},
			Sources{Request: SourceServiceAnnotation, Idle: SourceServiceAnnotation, Retry: SourceServiceAnnotation}},
		{"route annotation request beats rules[].timeouts", svcAnn, route(GroupGateway, "annotations: {timeout.linkerd.io/request: 1s}, ", "    timeouts: {request: 3s}\n"), Options{}, Timeouts{Request: "1s"},
			Sources{Request: SourceRouteAnnotation, Retry: SourceServiceAnnotation}},
		{"route retry overrides the service's", svcAnn, route(GroupGateway, "annotations: {retry.linkerd.io/limit: \"4\"}, ", ""), Options{}, Timeouts{Request: "9s", Idle: "7s"},
			Sources{Request: SourceServiceAnnotation, Idle: SourceServiceAnnotation, Retry: SourceRouteAnnotation}},
		{"grpc retry on an HTTPRoute counts as none", svcAnn, route(GroupGateway, "annotations: {retry.linkerd.io/grpc: internal}, ", ""), Options{}, Timeouts{Request: "9s", Idle: "7s"},
			Sources{Request: SourceServiceAnnotation, Idle: SourceServiceAnnotation, Retry: SourceServiceAnnotation}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := parse(t, c.svc+"---"+c.route)
			e := Expect(Target{Service: svcOf(t, cl, "shop", "web"), Port: 80, ClientNamespace: "shop"}, cl, c.opts)
			if len(e.Policy.Routes) != 1 || e.Policy.Routes[0].Name != "r" {
				t.Fatalf("routes %v (%+v)", routeNames(e.Policy.Routes), e.Routes)
			}
			rule := e.Policy.Routes[0].Rules[0]
			if rule.Timeouts != c.want {
				t.Errorf("timeouts %+v, want %+v", rule.Timeouts, c.want)
			}
			if rule.Sources == nil || *rule.Sources != c.src {
				t.Errorf("sources %+v, want %+v", rule.Sources, c.src)
			}
		})
	}
	// The retry values themselves.
	cl := parse(t, svcAnn+"---"+route(GroupGateway, "annotations: {retry.linkerd.io/limit: \"4\"}, ", ""))
	r := expectFor(t, cl, "shop", 80).Policy.Routes[0].Rules[0].Retry
	if r == nil || r.Limit != 4 || len(r.Conditions) != 0 {
		t.Errorf("route retry with only a limit: %+v (route retry replaces the service's as a whole: no conditions)", r)
	}
	// The default route carries the Service's settings.
	cl = parse(t, svcAnn)
	rule := expectFor(t, cl, "shop", 80).Policy.Routes[0].Rules[0]
	if rule.Timeouts.Request != "9s" || rule.Retry == nil || !reflect.DeepEqual(rule.Retry.Conditions, []string{"500-599"}) {
		t.Errorf("default route: %+v retry %+v", rule.Timeouts, rule.Retry)
	}
}

// Reference §8: each group of Service annotations is dropped on error.
func TestServiceAnnotationsDropped(t *testing.T) {
	svc := strings.Replace(webSvc, "namespace: shop}", `namespace: shop, annotations: {timeout.linkerd.io/request: 9s, timeout.linkerd.io/idle: 1.5s, retry.linkerd.io/limit: lots, retry.linkerd.io/http: 5xx, retry.linkerd.io/grpc: internal, balancer.linkerd.io/failure-accrual: always}}`, 1)
	e := expectFor(t, parse(t, svc), "shop", 80)
	rule := e.Policy.Routes[0].Rules[0]
	if rule.Timeouts != (Timeouts{}) || rule.Retry != nil || e.Policy.FailureAccrual != nil {
		t.Errorf("bad idle must drop all three timeouts, bad limit both retries, bad mode the accrual: %+v %+v %+v", rule.Timeouts, rule.Retry, e.Policy.FailureAccrual)
	}
	if len(e.Problems) != 4 {
		t.Errorf("problems %q, want 4 (timeouts, http retry, grpc retry, accrual)", e.Problems)
	}
	// Near miss: all valid.
	svc = strings.Replace(webSvc, "namespace: shop}", `namespace: shop, annotations: {timeout.linkerd.io/idle: 2s, balancer.linkerd.io/failure-accrual: consecutive}}`, 1)
	e = expectFor(t, parse(t, svc), "shop", 80)
	if e.Policy.Routes[0].Rules[0].Timeouts.Idle != "2s" || e.Policy.FailureAccrual == nil || len(e.Problems) != 0 {
		t.Errorf("valid annotations: %+v %+v %q", e.Policy.Routes[0].Rules[0].Timeouts, e.Policy.FailureAccrual, e.Problems)
	}
	// Opaque ports carry no accrual.
	if p := expectFor(t, parse(t, svc), "shop", 3306).Policy; p.FailureAccrual != nil {
		t.Errorf("opaque port with accrual: %+v", p.FailureAccrual)
	}
}

// Reference §3.3: backends.
func TestBackends(t *testing.T) {
	other := `
apiVersion: v1
kind: Service
metadata: {name: web-v2, namespace: shop}
spec: {clusterIP: 10.0.0.11, ports: [{port: 80}]}
`
	rest := `    backendRefs:
    - {name: web-v2, port: 80, weight: 9}
    - {name: web, port: 80}
    - {name: gone, port: 80, weight: 0}
    - {name: web-v2}
    - {group: example.com, kind: Bucket, name: b}
`
	cl := parse(t, webSvc+"---"+other+"---"+httpRoute("shop", "r", "2026-01-01T00:00:00Z", rest)+"---"+httpRoute("shop", "plain", "2026-01-02T00:00:00Z", ""))
	e := expectFor(t, cl, "shop", 80)
	rule := e.Policy.Routes[0].Rules[0]
	if rule.Distribution != "randomAvailable" {
		t.Errorf("distribution %s", rule.Distribution)
	}
	want := []Backend{
		{Ref: Ref{Group: "core", Kind: "Service", Namespace: "shop", Name: "web-v2", Port: 80}, Weight: 9, Path: "web-v2.shop.svc.cluster.local:80", Load: "peakEwma"},
		{Ref: Ref{Group: "core", Kind: "Service", Namespace: "shop", Name: "web", Port: 80}, Weight: 1, Path: "web.shop.svc.cluster.local:80", Load: "peakEwma"},
		{Ref: Ref{Group: "core", Kind: "Service", Namespace: "shop", Name: "gone", Port: 80}, Weight: 0, Invalid: "Service not found gone"},
		{Ref: Ref{Default: "invalid"}, Weight: 1, Invalid: "missing port for backend Service web-v2"},
		{Ref: Ref{Default: "invalid"}, Weight: 1, Invalid: "unsupported backend type example.com Bucket"},
	}
	if !reflect.DeepEqual(rule.Backends, want) {
		t.Errorf("backends\n got %+v\nwant %+v", rule.Backends, want)
	}
	plain := e.Policy.Routes[1].Rules[0]
	if plain.Distribution != "firstAvailable" || len(plain.Backends) != 1 || plain.Backends[0].Ref.Name != "web" || plain.Backends[0].Weight != 0 {
		t.Errorf("no backendRefs: the parent as first_available: %+v %+v", plain.Distribution, plain.Backends)
	}
	// penalize-failures switches the load estimator.
	svc := strings.Replace(webSvc, "namespace: shop}", `namespace: shop, annotations: {balancer.alpha.linkerd.io/penalize-failures: "true"}}`, 1)
	if l := expectFor(t, parse(t, svc), "shop", 80).Policy.Routes[0].Rules[0].Backends[0].Load; l != "penaltyPeakEwma" {
		t.Errorf("load %s", l)
	}
}

// Reference §6.3: conversion failures drop the whole route.
func TestConversionFailures(t *testing.T) {
	cases := []struct {
		name, rest, ann string
		fail            bool
	}{
		{"URLRewrite", "    filters:\n    - type: URLRewrite\n      urlRewrite: {hostname: x}\n", "", true},
		{"RequestMirror", "    filters:\n    - type: RequestMirror\n      requestMirror: {backendRef: {name: web, port: 80}}\n", "", true},
		{"ExtensionRef", "    filters:\n    - type: ExtensionRef\n      extensionRef: {group: ex.io, kind: Thing, name: z}\n", "", true},
		{"RequestHeaderModifier is fine", "    filters:\n    - type: RequestHeaderModifier\n      requestHeaderModifier: {set: [{name: x, value: v1}]}\n", "", false},
		{"redirect without path modifier", "    filters:\n    - type: RequestRedirect\n      requestRedirect: {path: {type: ReplaceFullPath}}\n", "", true},
		{"redirect with relative path", "    filters:\n    - type: RequestRedirect\n      requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: x}}\n", "", true},
		{"redirect ok", "    filters:\n    - type: RequestRedirect\n      requestRedirect: {scheme: https, statusCode: 301}\n", "", false},
		{"bad timeout annotation", "", "annotations: {timeout.linkerd.io/request: 1.5s}, ", true},
		{"bad retry condition annotation", "", "annotations: {retry.linkerd.io/http: \"5xx, 429\"}, ", true},
		{"grpc condition on HTTPRoute is not parsed", "", "annotations: {retry.linkerd.io/grpc: bogus}, ", false},
		{"good annotations", "", "annotations: {timeout.linkerd.io/request: 1s, retry.linkerd.io/http: \"5xx,429\"}, ", false},
		{"bad header regex", "    - headers: [{type: RegularExpression, name: x, value: \"(\"}]\n", "", true},
		{"bad header name", "    - headers: [{name: \"a b\", value: v}]\n", "", true},
		{"bad query regex", "    - queryParams: [{type: RegularExpression, name: q, value: \"[\"}]\n", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httpRoute("shop", "r", "2026-01-01T00:00:00Z", c.rest)
			r = strings.Replace(r, "creationTimestamp:", c.ann+"creationTimestamp:", 1)
			e := expectFor(t, parse(t, webSvc+"---"+r), "shop", 80)
			got := verdict(e, "HTTPRoute", "shop", "r")
			if c.fail && got != ReasonConversion {
				t.Errorf("verdict %s, want %s", got, ReasonConversion)
			}
			if !c.fail && got != ReasonServed {
				t.Errorf("verdict %s, want served (%+v)", got, e.Routes)
			}
			if c.fail && !reflect.DeepEqual(routeNames(e.Policy.Routes), []string{"default:http"}) {
				t.Errorf("a dropped route leaves the default route: %v", routeNames(e.Policy.Routes))
			}
		})
	}
	// Path values.
	for _, p := range []struct {
		match string
		fail  bool
	}{{"{type: Exact, value: foo}", true}, {"{type: PathPrefix, value: foo}", true}, {"{type: RegularExpression, value: \"(\"}", true},
		{"{type: RegularExpression, value: \"/a.*\"}", false}, {"{type: Exact, value: /foo}", false}} {
		r := strings.Replace(httpRoute("shop", "r", "2026-01-01T00:00:00Z", ""), "{type: PathPrefix, value: /r}", p.match, 1)
		got := verdict(expectFor(t, parse(t, webSvc+"---"+r), "shop", 80), "HTTPRoute", "shop", "r")
		if (got == ReasonConversion) != p.fail {
			t.Errorf("path %s: verdict %s", p.match, got)
		}
	}
}

// Reference §6.3, §4: GRPCRoute specifics.
func TestGRPCRouteConversion(t *testing.T) {
	base := grpcRoute("shop", "g", "2026-01-01T00:00:00Z")
	regex := strings.Replace(base, "{service: shop.Cart, method: Add}", "{type: RegularExpression, service: shop.Cart, method: \"A.*\"}", 1)
	if got := verdict(expectFor(t, parse(t, webSvc+"---"+regex), "shop", 80), "GRPCRoute", "shop", "g"); got != ReasonConversion {
		t.Errorf("regex method: %s", got)
	}
	headersOnly := strings.Replace(base, "- method: {service: shop.Cart, method: Add}", "- headers: [{name: x, value: v1}]", 1)
	e := expectFor(t, parse(t, webSvc+"---"+headersOnly), "shop", 80)
	if m := e.Policy.Routes[0].Rules[0].Matches[0]; m.RPC != nil || len(m.Headers) != 1 {
		t.Errorf("a match without method is sent with rpc unset: %+v", m)
	}
	withRetry := strings.Replace(base, "creationTimestamp:", "annotations: {retry.linkerd.io/grpc: \"unavailable,cancelled\", retry.linkerd.io/http: 5xx}, creationTimestamp:", 1)
	r := expectFor(t, parse(t, webSvc+"---"+withRetry), "shop", 80).Policy.Routes[0].Rules[0].Retry
	if r == nil || !reflect.DeepEqual(r.Conditions, []string{"cancelled", "unavailable"}) {
		t.Errorf("gRPC retry: %+v", r)
	}
}

// Reference §6.3 (trap): policy.linkerd.io ResponseHeaderModifier is sent
// as a request modifier; Gateway's is not.
func TestLinkerdResponseHeaderModifier(t *testing.T) {
	rest := "    filters:\n    - type: ResponseHeaderModifier\n      responseHeaderModifier: {set: [{name: x-a, value: b}]}\n"
	gw := httpRoute("shop", "r", "2026-01-01T00:00:00Z", rest)
	lk := strings.Replace(gw, "gateway.networking.k8s.io/v1", "policy.linkerd.io/v1beta3", 1)
	for _, c := range []struct{ fixture, want string }{{gw, FilterResponseHeaderModifier}, {lk, FilterRequestHeaderModifier}} {
		f := expectFor(t, parse(t, webSvc+"---"+c.fixture), "shop", 80).Policy.Routes[0].Rules[0].Filters
		if len(f) != 1 || f[0].Kind != c.want || f[0].Set[0].Name != "x-a" {
			t.Errorf("filters %+v, want kind %s", f, c.want)
		}
	}
}

// Reference §10, §2.2: undefined ports for addr lookups only.
func TestUndefinedPort(t *testing.T) {
	cl := parse(t, webSvc)
	svc := svcOf(t, cl, "shop", "web")
	p := Expect(Target{Service: svc, Port: 9999, ClientNamespace: "shop"}, cl, Options{}).Policy
	if p.Protocol != Opaque || len(p.OpaqueRoutes) != 1 || p.OpaqueRoutes[0].Default != "undefined-port" ||
		p.OpaqueRoutes[0].Rules[0].Distribution != "empty" || p.OpaqueRoutes[0].Rules[0].Filters[0].Kind != FilterForbidden || p.Parent.Port != 9999 {
		t.Errorf("undefined port: %+v", p)
	}
	p = Expect(Target{Service: svc, Port: 9999, ClientNamespace: "shop", Authority: true}, cl, Options{}).Policy
	if p.Protocol != Detect || routeNames(p.Routes)[0] != "default:http" {
		t.Errorf("authority lookup: no port check: %+v", p)
	}
}

func TestHosts(t *testing.T) {
	r := strings.Replace(httpRoute("shop", "r", "2026-01-01T00:00:00Z", ""), "spec:\n", "spec:\n  hostnames: [\"*.example.com\", web.shop]\n", 1)
	got := expectFor(t, parse(t, webSvc+"---"+r), "shop", 80).Policy.Routes[0].Hosts
	if !reflect.DeepEqual(got, []string{"*.example.com", "web.shop"}) {
		t.Errorf("hosts %v", got)
	}
}
