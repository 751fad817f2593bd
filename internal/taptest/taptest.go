// Package taptest is a stand-in for the linkerd-viz tap API server, for
// tests. It follows the documented protocol of the real one
// (shared/reference/tap-api.md §5): HTTPS, discovery for
// tap.linkerd.io/v1alpha1, POST .../watch/namespaces/{ns}[/{type}s/{name}]/tap
// with a TapByResourceRequest body checked against the URL, errors in the
// linkerd-error header or as JSON, and length-framed TapEvents that the test
// scripts per target. It can sit behind a real kube-apiserver's
// aggregation layer (see internal/testenv) or be called directly.
package taptest

import (
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/internal/tapwire"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
)

// Resources are the plural resource names the real server routes, in its
// order; "namespaces" is the only cluster-scoped one.
var Resources = []string{"namespaces", "pods", "replicationcontrollers", "services", "daemonsets",
	"deployments", "replicasets", "statefulsets", "jobs", "cronjobs"}

const (
	group   = "tap.linkerd.io"
	version = "v1alpha1"
	prefix  = "/apis/" + group + "/" + version
)

// Attributes is what the tap server's SubjectAccessReview asks about.
type Attributes struct {
	User        string
	Groups      []string
	Verb        string // always "watch"
	Group       string // tap.linkerd.io
	Version     string // v1alpha1
	Resource    string // e.g. "deployments"; "namespaces" for namespace taps
	Subresource string // always "tap"
	Namespace   string
	Name        string // "" for namespace taps and type-wide taps
}

// Options configure a Server. The zero value gives an HTTPS server with a
// self-signed certificate that trusts X-Remote-User from anyone.
type Options struct {
	// TLSConfig for the listener, e.g. testenv's ServerTLSConfig, which
	// verifies the aggregator's front-proxy client certificate.
	TLSConfig *tls.Config
	// Identify returns the caller's user and groups; ok=false rejects the
	// request with 400, as the real server does for a client certificate
	// that is not the front proxy's. Default: the X-Remote-User and
	// X-Remote-Group headers, trusted from anyone.
	Identify func(r *http.Request) (user string, groups []string, ok bool)
	// Authorize stands in for the SubjectAccessReview; nil allows any
	// non-empty user.
	Authorize func(Attributes) bool
}

// Tap scripts what the server does for one target.
type Tap struct {
	// Events are streamed in order, each after Interval, filtered by the
	// request's match (method, scheme, authority, path prefix, destination)
	// the way the proxies would, so a response or end whose request was
	// filtered out is dropped too. Headers and trailers are stripped unless
	// the request asks to extract them.
	Events   []tapclient.Event
	Interval time.Duration
	// Raw is written verbatim after the events (corrupt or oversized frames).
	Raw []byte
	// End closes the stream after the events; the real server never does,
	// it keeps streaming until the client goes away.
	End bool
	// FlushHeaders sends the response headers at once. The real server
	// only sends them with the first event, so a silent tap leaves the
	// client waiting for headers.
	FlushHeaders bool
	// Error answers with this message in a linkerd-error reply instead.
	Error string
}

// Seen records one tap request that reached the handler.
type Seen struct {
	User    string
	Groups  []string
	Path    string
	Request tapclient.Request
}

// Server is a running test tap server.
type Server struct {
	// URL is the base URL, https://127.0.0.1:port.
	URL  string
	opts Options
	ts   *httptest.Server

	mu      sync.Mutex
	taps    map[tapclient.Target]Tap
	seen    []Seen
	closing chan struct{}
	once    sync.Once
}

// New starts a Server on 127.0.0.1 with a random port.
func New(opts Options) *Server {
	s := &Server{opts: opts, taps: map[tapclient.Target]Tap{}, closing: make(chan struct{})}
	s.ts = httptest.NewUnstartedServer(s)
	if opts.TLSConfig != nil {
		s.ts.TLS = opts.TLSConfig.Clone()
	}
	s.ts.EnableHTTP2 = true
	s.ts.StartTLS()
	s.URL = s.ts.URL
	return s
}

// Close stops the server, ending any open taps.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closing) })
	s.ts.CloseClientConnections()
	s.ts.Close()
}

// Port is the TCP port the server listens on.
func (s *Server) Port() int {
	return s.ts.Listener.Addr().(*net.TCPAddr).Port
}

// Set scripts the behaviour for target (a canonical tapclient.Target; the
// namespace is empty for namespace targets). Targets never Set get the
// real server's "no pods to tap" reply.
func (s *Server) Set(target tapclient.Target, tap Tap) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.taps[target] = tap
}

// Requests returns the tap requests handled so far.
func (s *Server) Requests() []Seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Seen(nil), s.seen...)
}

// RESTConfig is a client config for calling the server directly (no
// kube-apiserver) as user: it sends the X-Remote-User/X-Remote-Group
// headers the aggregator would add. It trusts the server's certificate.
func (s *Server) RESTConfig(user string, groups ...string) *rest.Config {
	cfg := &rest.Config{Host: s.URL}
	if s.opts.TLSConfig == nil {
		cfg.TLSClientConfig.CAData = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.ts.Certificate().Raw})
	} else {
		cfg.TLSClientConfig.Insecure = true
	}
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			if user != "" {
				r.Header.Set("X-Remote-User", user)
			}
			for _, g := range groups {
				r.Header.Add("X-Remote-Group", g)
			}
			return rt.RoundTrip(r)
		})
	}
	return cfg
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (s *Server) identify(r *http.Request) (string, []string, bool) {
	if s.opts.Identify != nil {
		return s.opts.Identify(r)
	}
	return r.Header.Get("X-Remote-User"), r.Header.Values("X-Remote-Group"), true
}

// ServeHTTP routes like the real server: discovery, health, and the tap
// endpoints; anything else is a 404 listing the known paths.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, groups, ok := s.identify(r)
	if !ok {
		renderJSONError(w, http.StatusBadRequest, "request is not from the front proxy: client certificate missing or not allowed")
		return
	}
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && p == "/apis":
		writeJSON(w, http.StatusOK, metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"},
			Groups: []metav1.APIGroup{apiGroup()}})
	case r.Method == http.MethodGet && p == "/apis/"+group:
		g := apiGroup()
		g.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
		writeJSON(w, http.StatusOK, g)
	case r.Method == http.MethodGet && p == prefix:
		writeJSON(w, http.StatusOK, resourceList())
	case r.Method == http.MethodGet && (p == "/healthz" || p == "/readyz" || p == "/livez"):
		_, _ = w.Write([]byte("ok"))
	case r.Method == http.MethodGet && p == "/version":
		writeJSON(w, http.StatusOK, map[string]string{"major": "1", "minor": "0", "gitVersion": "v0.0.0-taptest"})
	case (r.Method == http.MethodPost || r.Method == http.MethodGet) &&
		strings.HasPrefix(p, prefix+"/watch/namespaces/") && strings.HasSuffix(p, "/tap"):
		s.handleTap(w, r, user, groups)
	default:
		s.notFound(w)
	}
}

func apiGroup() metav1.APIGroup {
	gv := metav1.GroupVersionForDiscovery{GroupVersion: group + "/" + version, Version: version}
	return metav1.APIGroup{Name: group, Versions: []metav1.GroupVersionForDiscovery{gv}, PreferredVersion: gv}
}

// resourceList is the discovery answer: X and X/tap for each resource,
// kind Tap, verb watch.
func resourceList() *metav1.APIResourceList {
	l := &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
		GroupVersion: group + "/" + version}
	for _, res := range Resources {
		for _, name := range []string{res, res + "/tap"} {
			l.APIResources = append(l.APIResources, metav1.APIResource{
				Name: name, Namespaced: res != "namespaces", Kind: "Tap", Verbs: metav1.Verbs{"watch"},
			})
		}
	}
	return l
}

func (s *Server) notFound(w http.ResponseWriter) {
	paths := []string{"/apis", "/apis/" + group, prefix, "/healthz", "/version"}
	for _, res := range Resources {
		if res == "namespaces" {
			paths = append(paths, prefix+"/watch/namespaces/:namespace/tap")
			continue
		}
		paths = append(paths, prefix+"/watch/namespaces/:namespace/"+res+"/:name/tap")
	}
	writeJSON(w, http.StatusNotFound, map[string][]string{"paths": paths})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// renderJSONError is the real server's {"error": "..."} reply.
func renderJSONError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// writeAPIError is the real server's linkerd-error reply: status 200, the
// header set to a status text, and one framed ApiError as the body.
func writeAPIError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set(tapclient.ErrorHeader, http.StatusText(code))
	w.Header().Set("Content-Type", "application/octet-stream")
	_ = tapwire.WriteFrame(w, tapwire.EncodeAPIError(msg))
}

func (s *Server) handleTap(w http.ResponseWriter, r *http.Request, user string, groups []string) {
	parts := strings.Split(r.URL.Path, "/")
	attrs := Attributes{User: user, Groups: groups, Verb: "watch", Group: group, Version: version, Subresource: "tap"}
	switch len(parts) {
	case 8: // /apis/tap.linkerd.io/v1alpha1/watch/namespaces/:namespace/tap
		attrs.Resource, attrs.Namespace = parts[5], parts[6]
	case 10: // .../namespaces/:namespace/:resource/:name/tap
		attrs.Resource, attrs.Namespace, attrs.Name = parts[7], parts[6], parts[8]
		if !known(attrs.Resource) || attrs.Resource == "namespaces" {
			s.notFound(w)
			return
		}
	default:
		renderJSONError(w, http.StatusBadRequest, "invalid path")
		return
	}
	if user == "" || (s.opts.Authorize != nil && !s.opts.Authorize(attrs)) {
		renderJSONError(w, http.StatusForbidden, fmt.Sprintf(
			"tap authorization failed (not authorized to access %s.%s), visit https://linkerd.io/tap-rbac for more information",
			attrs.Resource, group))
		return
	}

	body, err := readBody(r)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, err.Error())
		return
	}
	req, err := tapwire.DecodeRequest(body)
	if err == tapwire.ErrUnsupportedMatch {
		writeAPIError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "Error decoding Tap Request proto: "+err.Error())
		return
	}
	if want := req.URLPath(); want != r.URL.Path {
		writeAPIError(w, http.StatusBadRequest, fmt.Sprintf("tap request body did not match APIServer URL: %q != %q", want, r.URL.Path))
		return
	}
	s.mu.Lock()
	s.seen = append(s.seen, Seen{User: user, Groups: groups, Path: r.URL.Path, Request: req})
	s.mu.Unlock()

	if req.LabelSelector != "" {
		if _, err := labels.Parse(req.LabelSelector); err != nil {
			writeAPIError(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	if !servedTypes[req.Target.Type] {
		writeAPIError(w, http.StatusInternalServerError, "unimplemented resource type: "+req.Target.Type)
		return
	}
	tap, ok := s.lookup(req.Target)
	if !ok {
		writeAPIError(w, http.StatusInternalServerError,
			fmt.Sprintf("no pods to tap for type=%q name=%q\n", req.Target.Type, req.Target.Name))
		return
	}
	if tap.Error != "" {
		writeAPIError(w, http.StatusInternalServerError, tap.Error)
		return
	}
	s.stream(w, r, req, tap)
}

func known(res string) bool {
	for _, r := range Resources {
		if r == res {
			return true
		}
	}
	return false
}

// readBody reads the request body with the real server's 100 MB limit.
func readBody(r *http.Request) ([]byte, error) {
	const limit = 100 << 20
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("http: request body too large")
	}
	return b, nil
}

// lookup finds the script for t. A type-wide tap (no name) gets the events
// of every target of that type in the namespace; a namespace tap those of
// every target in the namespace, unless the namespace itself was Set.
func (s *Server) lookup(t tapclient.Target) (Tap, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tap, ok := s.taps[t]; ok {
		return tap, true
	}
	var keys []tapclient.Target
	for k := range s.taps {
		switch {
		case t.Type == tapclient.TypeNamespace && k.Namespace == t.Name && t.Name != "":
		case t.Name == "" && k.Type == t.Type && k.Namespace == t.Namespace:
		default:
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return Tap{}, false
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	merged := Tap{}
	for _, k := range keys {
		tap := s.taps[k]
		merged.Events = append(merged.Events, tap.Events...)
		merged.Raw = append(merged.Raw, tap.Raw...)
		merged.Interval = max(merged.Interval, tap.Interval)
		merged.End = merged.End || tap.End
		merged.FlushHeaders = merged.FlushHeaders || tap.FlushHeaders
	}
	return merged, true
}

// stream writes the scripted events as frames, flushing after each, and
// then holds the stream open until the client leaves (unless tap.End).
func (s *Server) stream(w http.ResponseWriter, r *http.Request, req tapclient.Request, tap Tap) {
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/octet-stream")
	if tap.FlushHeaders && flusher != nil {
		w.WriteHeader(http.StatusOK)
		flusher.Flush()
	}
	ctx := r.Context()
	f := newFilter(req)
	for i := range tap.Events {
		if tap.Interval > 0 {
			select {
			case <-time.After(tap.Interval):
			case <-ctx.Done():
				return
			case <-s.closing:
				return
			}
		}
		ev := tap.Events[i]
		if !f.pass(&ev) {
			continue
		}
		if !req.ExtractHeaders {
			ev.Headers, ev.Trailers = nil, nil
		}
		if err := tapwire.WriteFrame(w, tapwire.EncodeEvent(&ev)); err != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
	if len(tap.Raw) > 0 {
		_, _ = w.Write(tap.Raw)
		if flusher != nil {
			flusher.Flush()
		}
	}
	if tap.End {
		return
	}
	select {
	case <-ctx.Done():
	case <-s.closing:
	}
}

// filter applies a request's match like the proxies: on RequestInit, and
// to the response and end of a request that passed.
type filter struct {
	req    tapclient.Request
	dst    map[string]string
	passed map[tapclient.Key]bool
}

func newFilter(req tapclient.Request) *filter {
	f := &filter{req: req, passed: map[tapclient.Key]bool{}}
	if req.To != nil {
		f.dst = destinationLabels(*req.To)
	}
	return f
}

// destinationLabels is the label match the real server builds for --to:
// {type: name} (job as k8s_job) plus {namespace: ns}.
func destinationLabels(t tapclient.Target) map[string]string {
	m := map[string]string{}
	if t.Name != "" {
		key := t.Type
		if key == tapclient.TypeJob {
			key = "k8s_job"
		}
		m[key] = t.Name
	}
	if t.Type != tapclient.TypeNamespace && t.Namespace != "" {
		m["namespace"] = t.Namespace
	}
	return m
}

func (f *filter) pass(ev *tapclient.Event) bool {
	k := tapclient.KeyOf(ev)
	if ev.Kind != tapclient.KindRequest {
		seen, ok := f.passed[k]
		if ev.Kind == tapclient.KindEnd {
			delete(f.passed, k)
		}
		// A response to a request the tap never saw passes only unfiltered.
		return seen || (!ok && f.unfiltered())
	}
	ok := f.match(ev)
	f.passed[k] = ok
	return ok
}

func (f *filter) unfiltered() bool {
	r := f.req
	return r.To == nil && r.Scheme == "" && r.Method == "" && r.Authority == "" && r.Path == ""
}

func (f *filter) match(ev *tapclient.Event) bool {
	r := f.req
	if r.Scheme != "" && !strings.EqualFold(ev.Scheme, r.Scheme) {
		return false
	}
	if r.Method != "" && !strings.EqualFold(ev.Method, r.Method) {
		return false
	}
	if r.Authority != "" && ev.Authority != r.Authority {
		return false
	}
	if r.Path != "" && !strings.HasPrefix(ev.Path, r.Path) {
		return false
	}
	for k, v := range f.dst {
		if ev.Destination.Labels[k] != v {
			return false
		}
	}
	return true
}

// servedTypes are the resource types the tap server resolves
// (k8sAPI.GetObjects, tap-api.md §"Resolve objects"): its own list, not the
// plugin's, so a type the plugin sends wrongly fails a test.
var servedTypes = map[string]bool{
	"namespace": true, "cronjob": true, "daemonset": true, "deployment": true, "job": true, "pod": true,
	"replicationcontroller": true, "replicaset": true, "service": true, "statefulset": true,
}

// URLFor is the full URL of req on this server (for raw HTTP tests).
func (s *Server) URLFor(req tapclient.Request) string {
	return s.URL + req.URLPath()
}
