package policy

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// parse reads a multi-document YAML of Services, HTTPRoutes (both groups)
// and GRPCRoutes into a Cluster, through the same decoders callers use.
func parse(t *testing.T, docs string) *Cluster {
	t.Helper()
	c := &Cluster{}
	for _, doc := range strings.Split(docs, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var obj map[string]interface{}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("fixture: %v\n%s", err, doc)
		}
		u := &unstructured.Unstructured{Object: obj}
		switch u.GetKind() {
		case "Service":
			var s corev1.Service
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &s); err != nil {
				t.Fatal(err)
			}
			c.Services = append(c.Services, &s)
		case "HTTPRoute":
			r, err := DecodeHTTPRoute(u)
			if err != nil {
				t.Fatal(err)
			}
			c.HTTPRoutes = append(c.HTTPRoutes, r)
		case "GRPCRoute":
			r, err := DecodeGRPCRoute(u)
			if err != nil {
				t.Fatal(err)
			}
			c.GRPCRoutes = append(c.GRPCRoutes, r)
		default:
			t.Fatalf("fixture kind %q", u.GetKind())
		}
	}
	return c
}

func svcOf(t *testing.T, c *Cluster, ns, name string) *corev1.Service {
	t.Helper()
	for _, s := range c.Services {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	t.Fatalf("no Service %s/%s in fixture", ns, name)
	return nil
}

// expectFor runs Expect for web.shop:80 (unless the fixture says
// otherwise) as a client in ns.
func expectFor(t *testing.T, c *Cluster, clientNS string, port int32) Expected {
	t.Helper()
	return Expect(Target{Service: svcOf(t, c, "shop", "web"), Port: port, ClientNamespace: clientNS}, c, Options{})
}

func routeNames(rs []Route) []string {
	var out []string
	for _, r := range rs {
		if r.Default != "" {
			out = append(out, "default:"+r.Default)
			continue
		}
		out = append(out, r.Kind+":"+r.Namespace+"/"+r.Name)
	}
	return out
}

func verdict(e Expected, kind, ns, name string) string {
	for _, v := range e.Routes {
		if v.Kind == kind && v.Namespace == ns && v.Name == name {
			return v.Reason
		}
	}
	return "(absent)"
}

const webSvc = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  clusterIP: 10.0.0.10
  ports:
  - {name: http, port: 80}
  - {name: grpc, port: 8080}
  - {name: db, port: 3306}
`

// acceptedStatus is a status block accepting the route for Service web (no port).
const acceptedStatus = `
status:
  parents:
  - parentRef: {group: core, kind: Service, name: web, namespace: shop}
    controllerName: linkerd.io/policy-controller
    conditions:
    - {type: Accepted, status: "True", reason: Accepted, message: "", lastTransitionTime: "2026-01-01T00:00:00Z"}
`

// httpRoute is a Gateway HTTPRoute on web (any port) with one rule.
func httpRoute(ns, name, created, rest string) string {
	return `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ` + name + `, namespace: ` + ns + `, creationTimestamp: "` + created + `"}
spec:
  parentRefs:
  - {group: core, kind: Service, name: web, namespace: shop}
  rules:
  - matches:
    - path: {type: PathPrefix, value: /` + name + `}
` + rest + acceptedStatus
}

func grpcRoute(ns, name, created string) string {
	return `
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: ` + name + `, namespace: ` + ns + `, creationTimestamp: "` + created + `"}
spec:
  parentRefs:
  - {group: core, kind: Service, name: web, namespace: shop}
  rules:
  - matches:
    - method: {service: shop.Cart, method: Add}
` + acceptedStatus
}
