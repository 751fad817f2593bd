package analyze

import (
	"errors"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
)

// policyCluster reads Services, HTTPRoutes and GRPCRoutes from YAML
// documents through the decoders get uses.
func policyCluster(docs string) *dpolicy.Cluster {
	c := &dpolicy.Cluster{}
	for _, doc := range strings.Split(docs, "\n---\n") {
		var obj map[string]interface{}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil || obj == nil {
			panic(err)
		}
		u := &unstructured.Unstructured{Object: obj}
		switch u.GetKind() {
		case "Service":
			var s corev1.Service
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &s); err != nil {
				panic(err)
			}
			c.Services = append(c.Services, &s)
		case "HTTPRoute":
			r, err := dpolicy.DecodeHTTPRoute(u)
			if err != nil {
				panic(err)
			}
			c.HTTPRoutes = append(c.HTTPRoutes, r)
		case "GRPCRoute":
			r, err := dpolicy.DecodeGRPCRoute(u)
			if err != nil {
				panic(err)
			}
			c.GRPCRoutes = append(c.GRPCRoutes, r)
		}
	}
	return c
}

const polSvc = `apiVersion: v1
kind: Service
metadata: {name: api, namespace: books%s}
spec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}`

// accepted is Linkerd's Accepted=True status for parent api:80.
const acceptedStatus = `
status:
  parents:
  - parentRef: {group: core, kind: Service, name: api, port: 80}
    controllerName: linkerd.io/policy-controller
    conditions: [{type: Accepted, status: "True", reason: Accepted, message: "", lastTransitionTime: "2026-01-01T00:00:00Z"}]`

func polRoute(group, kind, ns, name, spec, status string) string {
	version := "v1"
	if group == dpolicy.GroupLinkerd {
		version = "v1beta3"
	}
	return "apiVersion: " + group + "/" + version + "\nkind: " + kind + "\nmetadata: {name: " + name + ", namespace: " + ns + ", creationTimestamp: \"2026-01-01T00:00:00Z\"}\nspec:\n  parentRefs: [{group: core, kind: Service, name: api, namespace: books, port: 80}]\n" + spec + status
}

// policyFacts are the facts of one get lookup of api:80 in books, with the
// policy half: svcAnn are the Service's annotations (a YAML flow map body),
// routes the route documents; the controller serves what it should.
func policyFacts(svcAnn, clientNS, version string, routes ...string) func() *Facts {
	return func() *Facts {
		ann := ""
		if svcAnn != "" {
			ann = ", annotations: {" + svcAnn + "}"
		}
		docs := append([]string{strings.Replace(polSvc, "%s", ann, 1)}, routes...)
		c := policyCluster(strings.Join(docs, "\n---\n"))
		t := dpolicy.Target{Service: c.Services[0], Port: 80, ClientNamespace: clientNS}
		honoured, known := dpolicy.HonoursGatewayRuleTimeouts(version)
		exp := dpolicy.Expect(t, c, dpolicy.Options{IgnoreGatewayRuleTimeouts: known && !honoured})
		f := lookupFacts(apiSvc, 80, nil, nil)()
		f.Scope |= PolicyPath
		f.PolicyPath = &PolicyFacts{Target: t, Cluster: c, Expected: exp, Asked: true, Served: exp.Policy,
			ControlPlane: dpolicy.ControlPlane{Version: version, From: "test"}, VersionAsked: true}
		return f
	}
}

func withNotes(notes ...string) func(func() *Facts) func() *Facts {
	return func(base func() *Facts) func() *Facts {
		return func() *Facts {
			f := base()
			f.PolicyPath.Notes = notes
			return f
		}
	}
}

func withPolicyErr(err error) func(func() *Facts) func() *Facts {
	return func(base func() *Facts) func() *Facts {
		return func() *Facts {
			f := base()
			f.PolicyPath.Served, f.PolicyPath.Err = nil, err
			return f
		}
	}
}

const (
	gw    = dpolicy.GroupGateway
	l5d   = dpolicy.GroupLinkerd
	rule  = "  rules: [{matches: [{path: {type: PathPrefix, value: /a}}]}]\n"
	rto   = "  rules: [{matches: [{path: {type: PathPrefix, value: /a}}], timeouts: {request: 5s}}]\n"
	mirr  = "  rules: [{filters: [{type: RequestMirror, requestMirror: {backendRef: {name: api, port: 80}}}]}]\n"
	gone  = "  rules: [{backendRefs: [{name: api, port: 80, weight: 3}, {name: missing, port: 80, weight: 1}]}]\n"
	both  = "  rules: [{backendRefs: [{name: api, port: 80, weight: 3}, {name: api, port: 80, weight: 1}]}]\n"
	grpcR = "  rules: [{matches: [{method: {service: books.Api, method: Get}}]}]\n"
)

func init() {
	lookupCases = append(lookupCases, []struct {
		code     string
		pos, neg func() *Facts
		says     string
	}{
		{code: CodeRouteNotAccepted,
			pos:  policyFacts("", "books", "stable-2.19.0", polRoute(gw, "HTTPRoute", "books", "r", rule, "")),
			neg:  policyFacts("", "books", "stable-2.19.0", polRoute(gw, "HTTPRoute", "books", "r", rule, acceptedStatus)),
			says: "no status.parents entry"},
		{code: CodeRouteDroppedByController,
			pos:  policyFacts("", "books", "stable-2.19.0", polRoute(gw, "HTTPRoute", "books", "r", mirr, acceptedStatus)),
			neg:  policyFacts("", "books", "stable-2.19.0", polRoute(gw, "HTTPRoute", "books", "r", rule, acceptedStatus)),
			says: "RequestMirror"},
		{code: CodeGRPCRouteHides,
			pos:  policyFacts("", "books", "stable-2.19.0", polRoute(gw, "HTTPRoute", "books", "h", rule, acceptedStatus), polRoute(gw, "GRPCRoute", "books", "g", grpcR, acceptedStatus)),
			neg:  policyFacts("", "books", "stable-2.19.0", polRoute(gw, "HTTPRoute", "books", "h", rule, acceptedStatus)),
			says: "hidden on port 80"},
		{code: CodeConsumerRoute,
			pos:  policyFacts("", "books", "stable-2.19.0", polRoute(gw, "HTTPRoute", "shop", "r", rule, acceptedStatus)),
			neg:  policyFacts("", "books", "stable-2.19.0", polRoute(gw, "HTTPRoute", "books", "r", rule, acceptedStatus)),
			says: "only clients in namespace shop"},
		{code: CodeConsumerRoute,
			pos:  policyFacts("", "shop", "stable-2.19.0", polRoute(gw, "HTTPRoute", "shop", "r", rule, acceptedStatus)),
			neg:  policyFacts("", "shop", "stable-2.19.0", polRoute(gw, "HTTPRoute", "books", "r", rule, acceptedStatus)),
			says: "in addition to the routes in namespace books"},
		{code: CodeBackendInvalid,
			pos:  policyFacts("", "books", "stable-2.19.0", polRoute(gw, "HTTPRoute", "books", "r", gone, acceptedStatus)),
			neg:  policyFacts("", "books", "stable-2.19.0", polRoute(gw, "HTTPRoute", "books", "r", both, acceptedStatus)),
			says: "25% of its requests fail with HTTP 500"},
		{code: CodeRetryWithoutConditions,
			pos:  policyFacts(`retry.linkerd.io/limit: "3"`, "books", "stable-2.19.0"),
			neg:  policyFacts(`retry.linkerd.io/limit: "3", retry.linkerd.io/http: 5xx`, "books", "stable-2.19.0"),
			says: "retry.linkerd.io/http"},
		{code: CodeServiceAnnotationInvalid,
			pos:  policyFacts(`timeout.linkerd.io/request: 1m30s`, "books", "stable-2.19.0"),
			neg:  policyFacts(`timeout.linkerd.io/request: 90s`, "books", "stable-2.19.0"),
			says: "timeouts dropped"},
		{code: CodeRuleTimeoutsIgnored,
			pos:  policyFacts("", "books", "stable-2.19.0", polRoute(gw, "HTTPRoute", "books", "r", rto, acceptedStatus)),
			neg:  policyFacts("", "books", "stable-2.20.0", polRoute(gw, "HTTPRoute", "books", "r", rto, acceptedStatus)),
			says: "predates Linkerd 2.20"},
		{code: CodeRuleTimeoutsIgnored,
			pos:  policyFacts("", "books", "edge-25.11.2", polRoute(gw, "HTTPRoute", "books", "r", rto, acceptedStatus)),
			neg:  policyFacts("", "books", "edge-25.11.2", polRoute(l5d, "HTTPRoute", "books", "r", rto, acceptedStatus)),
			says: "edge-25.11.2"},
		{code: CodeControlPlaneUnknown,
			pos:  policyFacts("", "books", "", polRoute(gw, "HTTPRoute", "books", "r", rto, acceptedStatus)),
			neg:  policyFacts("", "books", "", polRoute(gw, "HTTPRoute", "books", "r", rule, acceptedStatus)),
			says: "version is unknown"},
		{code: CodeGatewayAPIMissing,
			pos:  withNotes("httproutes.gateway.networking.k8s.io is installed without v1 (only v1beta1): Linkerd reads v1 only, so these routes are ignored by the control plane")(policyFacts("", "books", "stable-2.19.0")),
			neg:  withNotes("httproutes.policy.linkerd.io is not installed: no such routes are read")(policyFacts("", "books", "stable-2.19.0")),
			says: "install the Gateway API CRDs at v1"},
		{code: CodeRuleNeverWins,
			pos:  policyFacts("", "books", "stable-2.20.0", polRoute(gw, "HTTPRoute", "books", "r", "  rules: [{matches: [{path: {type: PathPrefix, value: /a/}}]}, {matches: [{path: {type: Exact, value: /a}}]}]\n", acceptedStatus)),
			neg:  policyFacts("", "books", "stable-2.20.0", polRoute(gw, "HTTPRoute", "books", "r", "  rules: [{matches: [{path: {type: PathPrefix, value: /a}}]}, {matches: [{path: {type: Exact, value: /ab}}]}]\n", acceptedStatus)),
			says: "HTTPRoute books/r rule 1 can never win"},
		{code: CodeNoCatchAll,
			pos:  policyFacts("", "books", "stable-2.20.0", polRoute(gw, "HTTPRoute", "books", "r", rule, acceptedStatus)),
			neg:  policyFacts("", "books", "stable-2.20.0", polRoute(gw, "HTTPRoute", "books", "r", "  rules: [{matches: [{path: {type: PathPrefix, value: /a}}]}, {}]\n", acceptedStatus)),
			says: "HTTP 404"},
		{code: CodeLookupFailed,
			pos:  withPolicyErr(errors.New("policy controller unreachable at 127.0.0.1:1"))(policyFacts("", "books", "stable-2.19.0")),
			neg:  policyFacts("", "books", "stable-2.19.0"),
			says: "the policy lookup failed"},
	}...)
}
