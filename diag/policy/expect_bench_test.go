package policy

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// benchCluster is n Services, each with one accepted HTTPRoute of two rules
// and retry/timeout annotations: the audit's worst common case.
func benchCluster(n int) *Cluster {
	c := &Cluster{}
	kind, group := gatewayv1.Kind("Service"), gatewayv1.Group("core")
	prefix := gatewayv1.PathMatchPathPrefix
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("svc-%04d", i)
		c.Services = append(c.Services, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "audit", Name: name, Annotations: map[string]string{
				AnnotationRetryHTTP: "5xx", AnnotationTimeoutRequest: "5s"}},
			Spec: corev1.ServiceSpec{ClusterIP: "10.0.0.1", Ports: []corev1.ServicePort{{Port: 80}}},
		})
		ref := gatewayv1.ParentReference{Group: &group, Kind: &kind, Name: gatewayv1.ObjectName(name)}
		a, b := "/a", "/b"
		c.HTTPRoutes = append(c.HTTPRoutes, HTTPRoute{Group: GroupGateway, HTTPRoute: &gatewayv1.HTTPRoute{
			ObjectMeta: metav1.ObjectMeta{Namespace: "audit", Name: name, CreationTimestamp: metav1.NewTime(time.Unix(int64(i), 0))},
			Spec: gatewayv1.HTTPRouteSpec{CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{ref}},
				Rules: []gatewayv1.HTTPRouteRule{
					{Matches: []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: &prefix, Value: &a}}}},
					{Matches: []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: &prefix, Value: &b}}}},
				}},
			Status: gatewayv1.HTTPRouteStatus{RouteStatus: gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{{
				ParentRef:  ref,
				Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue}},
			}}}},
		}})
	}
	return c
}

// BenchmarkExpectAudit1000 is one Expect per Service of a 1000-Service
// cluster (one op = the whole audit).
func BenchmarkExpectAudit1000(b *testing.B) {
	c := benchCluster(1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, s := range c.Services {
			e := Expect(Target{Service: s, Port: 80, ClientNamespace: "audit"}, c, Options{})
			if len(e.Policy.Routes) != 1 {
				b.Fatal(e.Policy.Routes)
			}
		}
	}
}
