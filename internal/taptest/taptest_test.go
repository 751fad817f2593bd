package taptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

func httpClient(t *testing.T, s *Server, user string) *http.Client {
	t.Helper()
	hc, err := rest.HTTPClientFor(s.RESTConfig(user))
	if err != nil {
		t.Fatal(err)
	}
	hc.Timeout = 5 * time.Second
	return hc
}

func post(t *testing.T, hc *http.Client, url string, body []byte) *http.Response {
	t.Helper()
	rsp, err := hc.Post(url, "", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rsp.Body.Close() })
	return rsp
}

// apiError reads a linkerd-error reply.
func apiError(t *testing.T, rsp *http.Response) string {
	t.Helper()
	if rsp.StatusCode != 200 || rsp.Header.Get(tapclient.ErrorHeader) == "" {
		t.Fatalf("status %d, linkerd-error %q", rsp.StatusCode, rsp.Header.Get(tapclient.ErrorHeader))
	}
	frame, err := tapclient.ReadFrame(rsp.Body, 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := tapclient.DecodeAPIError(frame)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func jsonError(t *testing.T, rsp *http.Response, code int) string {
	t.Helper()
	if rsp.StatusCode != code || rsp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d (%s), want %d json", rsp.StatusCode, rsp.Header.Get("Content-Type"), code)
	}
	var v struct{ Error string }
	if err := json.NewDecoder(rsp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v.Error
}

var web = tapclient.Target{Namespace: "emojivoto", Type: "deployment", Name: "web"}

func TestDiscovery(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	rsp, err := httpClient(t, s, "").Get(s.URL + "/apis/tap.linkerd.io/v1alpha1")
	if err != nil {
		t.Fatal(err)
	}
	defer rsp.Body.Close()
	var l metav1.APIResourceList
	if err := json.NewDecoder(rsp.Body).Decode(&l); err != nil {
		t.Fatal(err)
	}
	if l.Kind != "APIResourceList" || l.GroupVersion != "tap.linkerd.io/v1alpha1" || len(l.APIResources) != 20 {
		t.Fatalf("discovery: %+v", l)
	}
	for _, r := range l.APIResources {
		if r.Kind != "Tap" || len(r.Verbs) != 1 || r.Verbs[0] != "watch" {
			t.Fatalf("resource %+v", r)
		}
	}
	if l.APIResources[1].Name != "namespaces/tap" || l.APIResources[1].Namespaced || !l.APIResources[11].Namespaced {
		t.Fatalf("order/scope: %+v %+v", l.APIResources[1], l.APIResources[11])
	}
}

func TestPathHandling(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	hc := httpClient(t, s, "alice")
	body := tapclient.Request{Target: web}.Marshal()

	rsp := post(t, hc, s.URL+"/apis/tap.linkerd.io/v1alpha1/watch/namespaces/a/b/c/d/e/tap", body)
	if msg := jsonError(t, rsp, 400); msg != "invalid path" {
		t.Fatalf("11 parts: %q", msg)
	}
	rsp = post(t, hc, s.URL+"/apis/tap.linkerd.io/v1alpha1/watch/namespaces/emojivoto/widgets/web/tap", body)
	if rsp.StatusCode != 404 {
		t.Fatalf("unknown resource: %d", rsp.StatusCode)
	}
	var paths struct{ Paths []string }
	_ = json.NewDecoder(rsp.Body).Decode(&paths)
	if len(paths.Paths) != 15 || !strings.Contains(strings.Join(paths.Paths, " "), "/deployments/:name/tap") {
		t.Fatalf("404 listing: %v", paths.Paths)
	}
}

func TestBodyChecks(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	s.Set(web, Tap{End: true})
	hc := httpClient(t, s, "alice")
	url := s.URLFor(tapclient.Request{Target: web})

	other := tapclient.Request{Target: tapclient.Target{Namespace: "emojivoto", Type: "deployment", Name: "voting"}}
	msg := apiError(t, post(t, hc, url, other.Marshal()))
	want := `tap request body did not match APIServer URL: "/apis/tap.linkerd.io/v1alpha1/watch/namespaces/emojivoto/deployments/voting/tap" != "/apis/tap.linkerd.io/v1alpha1/watch/namespaces/emojivoto/deployments/web/tap"`
	if msg != want {
		t.Fatalf("mismatch message:\n%s\nwant\n%s", msg, want)
	}
	if msg := apiError(t, post(t, hc, url, []byte{0x0a, 0x7f})); !strings.HasPrefix(msg, "Error decoding Tap Request proto: ") {
		t.Fatalf("bad body: %q", msg)
	}
	// Match{any: Seq{}} is refused like the real server's Unimplemented.
	anyMatch := append(tapclient.Request{Target: web}.Marshal()[:32], 0x12, 0x02, 0x12, 0x00)
	if msg := apiError(t, post(t, hc, url, anyMatch)); !strings.Contains(msg, "unexpected match specified") {
		t.Fatalf("any match: %q", msg)
	}
	ok := post(t, hc, url, tapclient.Request{Target: web}.Marshal())
	if ok.StatusCode != 200 || ok.Header.Get(tapclient.ErrorHeader) != "" || ok.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("good request: %d %v", ok.StatusCode, ok.Header)
	}
}

func TestIdentifyAndAuthorize(t *testing.T) {
	var got Attributes
	s := New(Options{
		Identify: func(r *http.Request) (string, []string, bool) {
			return r.Header.Get("X-Remote-User"), r.Header.Values("X-Remote-Group"), r.Header.Get("X-Front-Proxy") == "yes"
		},
		Authorize: func(a Attributes) bool { got = a; return false },
	})
	defer s.Close()
	hc := httpClient(t, s, "bob")
	ns := tapclient.Request{Target: tapclient.Target{Type: "namespace", Name: "emojivoto"}}
	if msg := jsonError(t, post(t, hc, s.URLFor(ns), ns.Marshal()), 400); !strings.Contains(msg, "front proxy") {
		t.Fatalf("untrusted caller: %q", msg)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URLFor(ns), bytes.NewReader(ns.Marshal()))
	req.Header.Set("X-Front-Proxy", "yes")
	rsp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer rsp.Body.Close()
	if msg := jsonError(t, rsp, 403); msg != "tap authorization failed (not authorized to access namespaces.tap.linkerd.io), visit https://linkerd.io/tap-rbac for more information" {
		t.Fatalf("denied: %q", msg)
	}
	want := Attributes{User: "bob", Verb: "watch", Group: "tap.linkerd.io", Version: "v1alpha1", Resource: "namespaces", Subresource: "tap", Namespace: "emojivoto"}
	if got.User != want.User || got.Resource != want.Resource || got.Namespace != want.Namespace || got.Name != "" || got.Verb != "watch" || got.Subresource != "tap" {
		t.Fatalf("SAR attributes %+v", got)
	}
}

func event(pod string, stream uint64) tapclient.Event {
	return tapclient.Event{Kind: tapclient.KindRequest, Direction: tapclient.DirectionInbound,
		Destination: tapclient.Endpoint{IP: netip.MustParseAddr("10.0.0.1"), Labels: map[string]string{"pod": pod}},
		ID:          tapclient.StreamID{Base: 1, Stream: stream}, Path: "/" + pod}
}

func TestTypeWideAndNamespaceTaps(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	s.Set(web, Tap{Events: []tapclient.Event{event("web", 0)}, End: true})
	s.Set(tapclient.Target{Namespace: "emojivoto", Type: "deployment", Name: "voting"}, Tap{Events: []tapclient.Event{event("voting", 1)}, End: true})
	s.Set(tapclient.Target{Namespace: "emojivoto", Type: "pod", Name: "p"}, Tap{Events: []tapclient.Event{event("p", 2)}, End: true})
	s.Set(tapclient.Target{Namespace: "other", Type: "deployment", Name: "x"}, Tap{Events: []tapclient.Event{event("x", 3)}, End: true})
	c, err := tapclient.New(s.RESTConfig("alice"))
	if err != nil {
		t.Fatal(err)
	}
	paths := func(target tapclient.Target) string {
		st, err := c.Watch(context.Background(), tapclient.Request{Target: target})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var out []string
		for {
			ev, err := st.Next()
			if err == io.EOF {
				return strings.Join(out, " ")
			}
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ev.Path)
		}
	}
	if got := paths(tapclient.Target{Namespace: "emojivoto", Type: "deployment"}); got != "/voting /web" {
		t.Errorf("deployments//tap: %q", got)
	}
	if got := paths(tapclient.Target{Type: "namespace", Name: "emojivoto"}); got != "/voting /web /p" {
		t.Errorf("namespace tap: %q", got)
	}
}
