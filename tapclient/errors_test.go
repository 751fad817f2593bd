package tapclient

import (
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"k8s.io/client-go/rest"
)

// reasonOf is err's Reason, or "" when err is not an *Error.
func reasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// Bodies as kube-apiserver sends them.
const (
	forbiddenStatus = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"deployments.tap.linkerd.io \"web\" is forbidden: User \"bob\" cannot watch resource \"deployments/tap\" in API group \"tap.linkerd.io\" in the namespace \"emojivoto\"","reason":"Forbidden","details":{"name":"web","group":"tap.linkerd.io","kind":"deployments"},"code":403}`
	notFoundStatus  = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}`
	unauthStatus    = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`
)

func TestErrorFromResponse(t *testing.T) {
	web := &Request{Target: Target{Namespace: "emojivoto", Type: "deployment", Name: "web"}}
	ns := &Request{Target: Target{Type: "namespace", Name: "prod"}}
	tests := []struct {
		name   string
		code   int
		body   string
		req    *Request
		reason Reason
		want   []string
	}{
		{"rbac 403", 403, forbiddenStatus, web, ReasonForbidden, []string{
			"HTTP 403", `User "bob" cannot watch resource "deployments/tap"`,
			`verb "watch" on apiGroup "tap.linkerd.io" resource "deployments/tap" in namespace emojivoto`,
			"linkerd-linkerd-viz-tap-admin"}},
		{"rbac 403 namespace target", 403, forbiddenStatus, ns, ReasonForbidden, []string{`"tap" and "namespaces/tap" in namespace prod`}},
		{"tap server SAR 403", 403, `{"error":"tap authorization failed (not authorized to access deployments.tap.linkerd.io), visit https://linkerd.io/tap-rbac for more information"}`,
			web, ReasonForbidden, []string{"tap authorization failed", "ClusterRole"}},
		{"group missing", 404, notFoundStatus, web, ReasonNotInstalled, []string{"linkerd-viz is not installed (APIService v1alpha1.tap.linkerd.io missing)"}},
		{"404 plain text (real apiserver, unknown group)", 404, "404 page not found\n", web, ReasonNotInstalled, []string{"linkerd-viz is not installed"}},
		{"tap server route 404", 404, `{"paths":["/apis"]}`, web, ReasonHTTP, []string{`unexpected API response: {"paths":["/apis"]}`}},
		{"aggregator 503", 503, "service unavailable\n", web, ReasonUnavailable, []string{"HTTP 503: the tap API (APIService v1alpha1.tap.linkerd.io) is unavailable: service unavailable", "kubectl get apiservice v1alpha1.tap.linkerd.io"}},
		{"aggregator 503 Status", 503, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"service unavailable","reason":"ServiceUnavailable","code":503}`, web, ReasonUnavailable, []string{"is unavailable: service unavailable"}},
		{"401", 401, unauthStatus, web, ReasonUnauthorized, []string{"Unauthorized", "kubeconfig"}},
		{"invalid path", 400, `{"error":"invalid path"}`, web, ReasonBadRequest, []string{"HTTP 400: invalid path"}},
		{"empty 500", 500, "", web, ReasonHTTP, []string{"HTTP 500: unexpected API response: Internal Server Error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := errorFromResponse(tt.code, []byte(tt.body), tt.req, "")
			if e.Reason != tt.reason {
				t.Errorf("reason %s, want %s (%v)", e.Reason, tt.reason, e)
			}
			for _, w := range tt.want {
				if !strings.Contains(e.Error(), w) {
					t.Errorf("%q lacks %q", e.Error(), w)
				}
			}
			if strings.Contains(e.Error(), "\n") {
				t.Errorf("multi-line error %q", e.Error())
			}
		})
	}
	if e := errorFromResponse(403, []byte(forbiddenStatus), web, "linkerd-viz2-tap-admin"); !strings.Contains(e.Hint, "linkerd-viz2-tap-admin") {
		t.Errorf("custom role not used: %s", e.Hint)
	}
	if e := errorFromResponse(403, []byte(forbiddenStatus), web, ""); e.Status == nil || e.Status.Details.Kind != "deployments" {
		t.Errorf("Status not kept: %+v", e.Status)
	}
}

func TestWatchHTTPStatusThroughClient(t *testing.T) {
	var gotPath, gotMethod string
	var gotBody []byte
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotMethod = r.URL.EscapedPath(), r.Method
		gotBody = make([]byte, r.ContentLength)
		_, _ = r.Body.Read(gotBody)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(403)
		_, _ = w.Write([]byte(forbiddenStatus))
	}))
	defer ts.Close()
	c, err := New(&rest.Config{Host: ts.URL + "/k8s/clusters/c-1/", TLSClientConfig: rest.TLSClientConfig{Insecure: true}})
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Target: Target{Namespace: "emojivoto", Type: "deployment", Name: "web"}, MaxRPS: 100}
	_, err = c.Watch(context.Background(), req)
	var te *Error
	if !errors.As(err, &te) || te.Reason != ReasonForbidden {
		t.Fatalf("err = %v", err)
	}
	// The host's path prefix (e.g. a Rancher proxy) is kept.
	if want := "/k8s/clusters/c-1/apis/tap.linkerd.io/v1alpha1/watch/namespaces/emojivoto/deployments/web/tap"; gotPath != want {
		t.Errorf("path %s, want %s", gotPath, want)
	}
	if gotMethod != http.MethodPost || string(gotBody) != string(req.Marshal()) {
		t.Errorf("method %s body %x", gotMethod, gotBody)
	}
}

func TestURLForEscapes(t *testing.T) {
	c, err := New(&rest.Config{Host: "https://example.com:6443/pre%20fix"})
	if err != nil {
		t.Fatal(err)
	}
	got := c.urlFor(Request{Target: Target{Namespace: "a b", Type: "pod", Name: "x/y"}}.URLPath())
	want := "https://example.com:6443/pre%20fix/apis/tap.linkerd.io/v1alpha1/watch/namespaces/a%20b/pods/x%2Fy/tap"
	if got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	// A host without a scheme gets https when TLS is configured, as in client-go.
	c, err = New(&rest.Config{Host: "10.0.0.1:6443", TLSClientConfig: rest.TLSClientConfig{Insecure: true}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.urlFor(APIPrefix); got != "https://10.0.0.1:6443/apis/tap.linkerd.io/v1alpha1" {
		t.Fatalf("got %s", got)
	}
}

func TestWatchAPIErrors(t *testing.T) {
	tests := []struct {
		code   int
		body   string
		reason Reason
	}{
		{404, notFoundStatus, ReasonNotInstalled},
		{503, "service unavailable", ReasonUnavailable},
	}
	for _, tt := range tests {
		ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tt.code)
			_, _ = w.Write([]byte(tt.body))
		}))
		c, err := New(&rest.Config{Host: ts.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Watch(context.Background(), Request{Target: Target{Namespace: "n", Type: "pod", Name: "x"}})
		if reasonOf(err) != tt.reason {
			t.Errorf("%d %s: %v, want %s", tt.code, tt.body, err, tt.reason)
		}
		ts.Close()
	}
}

func TestLinkerdErrorHeaderWinsOverStatus(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(ErrorHeader, "Internal Server Error")
		w.WriteHeader(500)
		// A framed viz.ApiError{error=1}.
		msg := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), `pod "x" not found`)
		_, _ = w.Write(append(binary.LittleEndian.AppendUint32(nil, uint32(len(msg))), msg...))
	}))
	defer ts.Close()
	c, _ := New(&rest.Config{Host: ts.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true}})
	_, err := c.Watch(context.Background(), Request{Target: Target{Namespace: "n", Type: "pod", Name: "x"}})
	if reasonOf(err) != ReasonServer || err.Error() != `pod "x" not found` {
		t.Fatalf("err = %v", err)
	}

	garbled := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(ErrorHeader, "Bad Request")
		_, _ = w.Write([]byte{0xff, 0xff})
	}))
	defer garbled.Close()
	c, _ = New(&rest.Config{Host: garbled.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true}})
	_, err = c.Watch(context.Background(), Request{Target: Target{Namespace: "n", Type: "pod", Name: "x"}})
	if reasonOf(err) != ReasonServer || !strings.Contains(err.Error(), `reported "Bad Request"`) {
		t.Fatalf("garbled: %v", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()
	c, _ := New(&rest.Config{Host: url, TLSClientConfig: rest.TLSClientConfig{Insecure: true}})
	_, err := c.Watch(context.Background(), Request{Target: Target{Namespace: "n", Type: "pod", Name: "x"}})
	if err == nil || !strings.Contains(err.Error(), "cannot reach the Kubernetes API server") {
		t.Fatalf("err = %v", err)
	}
}
