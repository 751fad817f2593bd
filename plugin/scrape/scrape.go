// Package scrape reads the /metrics of Linkerd proxies through the API
// server: the pod proxy subresource first
// (/api/v1/namespaces/NS/pods/NAME:PORT/proxy/metrics), a port-forward
// where that is refused. Bounded concurrency, a timeout per attempt, and
// every pod that could not be read comes back with the reason.
package scrape

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-profiles/kubectl-profiles/diag/metrics"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
)

// AdminPortName is the proxy's admin container port name (suffix match, as
// `linkerd diagnostics proxy-metrics` does).
const AdminPortName = "linkerd-admin"

// Via says how a pod was scraped.
const (
	ViaPodProxy    = "pod-proxy"
	ViaPortForward = "port-forward"
)

// Result is one pod's scrape.
type Result struct {
	Pod  *corev1.Pod
	Snap *metrics.Snapshot
	At   time.Time
	Via  string
	// Err says why the pod was not scraped (one line).
	Err error
}

// PortForwardFunc opens a port-forward to pod:port and returns the local
// address; kube.PortForward in production.
type PortForwardFunc func(ctx context.Context, cfg *rest.Config, pod *corev1.Pod, port int, timeout time.Duration) (string, func(), error)

// Scraper scrapes proxies.
type Scraper struct {
	Config *rest.Config
	Kube   kubernetes.Interface
	// Concurrency bounds the scrapes in flight.
	Concurrency int
	// Timeout bounds each attempt (pod proxy, then port-forward).
	Timeout time.Duration
	Limits  metrics.Limits
	// Filter, when set, keeps only the series that can belong to it
	// (metrics.ParseFor).
	Filter *metrics.Filter
	// Port, when set, is the port read instead of the proxy's admin port
	// (e.g. the destination controller's 9996), and Parse, when set,
	// replaces the proxy parser (e.g. diag/ctrlplane.Parse).
	Port  int
	Parse func(io.Reader) (*metrics.Snapshot, error)
	// Now gives the receive time of a scrape.
	Now         func() time.Time
	PortForward PortForwardFunc
	// Progress, when set, is called after each pod.
	Progress func(done, total int)

	once   sync.Once
	client *http.Client
	err    error
}

// AdminPort finds the proxy's admin port number (init containers first:
// native sidecars).
func AdminPort(pod *corev1.Pod) (int, bool) {
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			for _, p := range c.Ports {
				if strings.HasSuffix(p.Name, AdminPortName) && p.ContainerPort > 0 {
					return int(p.ContainerPort), true
				}
			}
		}
	}
	return 0, false
}

// Precheck says why a pod cannot be scraped at all (no network used), or nil.
func Precheck(pod *corev1.Pod) error {
	if _, ok := AdminPort(pod); !ok {
		return errors.New("not meshed: no linkerd-admin port on any container (inject it with Linkerd)")
	}
	if pod.DeletionTimestamp != nil {
		return errors.New("terminating")
	}
	if pod.Status.Phase != corev1.PodRunning {
		return fmt.Errorf("not running (phase %s)", orUnknown(string(pod.Status.Phase)))
	}
	if pod.Status.PodIP == "" {
		return errors.New("no pod IP yet")
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// All scrapes every pod, at most Concurrency at once; results are in the
// order of pods.
func (s *Scraper) All(ctx context.Context, pods []*corev1.Pod) []Result {
	out := make([]Result, len(pods))
	sem := make(chan struct{}, max(1, s.Concurrency))
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i, pod := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out[i] = Result{Pod: pod, Err: errors.New("interrupted")}
				return
			}
			out[i] = s.One(ctx, pod)
			<-sem
			if s.Progress != nil {
				mu.Lock()
				done++
				s.Progress(done, len(pods))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// One scrapes one pod: the pod proxy, then a port-forward where the pod
// proxy did not give metrics.
func (s *Scraper) One(ctx context.Context, pod *corev1.Pod) Result {
	res := Result{Pod: pod}
	if err := Precheck(pod); err != nil {
		res.Err = err
		return res
	}
	port, _ := AdminPort(pod)
	if s.Port != 0 {
		port = s.Port
	}
	snap, perr := s.viaPodProxy(ctx, pod, port)
	res.Via = ViaPodProxy
	var pe *parseError
	switch {
	case errors.As(perr, &pe):
		// The proxy answered: another path would read the same text.
	case perr != nil && ctx.Err() == nil:
		var ferr error
		snap, ferr = s.viaPortForward(ctx, pod, port)
		res.Via = ViaPortForward
		if ferr != nil && !errors.As(ferr, &pe) {
			res.Err = fmt.Errorf("pod proxy: %v; port-forward: %v", perr, ferr)
			return res
		}
		perr = ferr
	case perr != nil:
		res.Err = fmt.Errorf("interrupted: %v", perr)
		return res
	}
	if perr != nil {
		res.Err = fmt.Errorf("%v (via %s)", perr, res.Via)
		return res
	}
	res.At = s.now()
	res.Snap = snap
	return res
}

// parseError: the proxy answered 200 but its exposition could not be
// used (unparseable or over the limits).
type parseError struct{ err error }

func (e *parseError) Error() string { return e.err.Error() }

func (s *Scraper) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scraper) limits() metrics.Limits {
	if s.Limits.MaxBytes <= 0 {
		return metrics.DefaultLimits
	}
	return s.Limits
}

func (s *Scraper) timeout() time.Duration {
	if s.Timeout <= 0 {
		return 5 * time.Second
	}
	return s.Timeout
}

func (s *Scraper) httpClient() (*http.Client, error) {
	s.once.Do(func() { s.client, s.err = rest.HTTPClientFor(s.Config) })
	return s.client, s.err
}

// viaPodProxy GETs the metrics through the API server's pod proxy.
func (s *Scraper) viaPodProxy(ctx context.Context, pod *corev1.Pod, port int) (*metrics.Snapshot, error) {
	hc, err := s.httpClient()
	if err != nil {
		return nil, err
	}
	u := s.Kube.CoreV1().RESTClient().Get().Namespace(pod.Namespace).Resource("pods").
		Name(fmt.Sprintf("%s:%d", pod.Name, port)).SubResource("proxy").Suffix("metrics").URL()
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, s.explainTransport(ctx, err, "the API server")
	}
	defer resp.Body.Close()
	return s.read(ctx, resp, true)
}

// viaPortForward GETs the metrics over a port-forward to the admin port.
func (s *Scraper) viaPortForward(ctx context.Context, pod *corev1.Pod, port int) (*metrics.Snapshot, error) {
	pf := s.PortForward
	if pf == nil {
		pf = kube.PortForward
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	addr, stop, err := pf(ctx, s.Config, pod, port, s.timeout())
	if err != nil {
		if strings.HasPrefix(err.Error(), "forbidden") {
			return nil, fmt.Errorf("forbidden: RBAC does not allow create pods/portforward in namespace %s", pod.Namespace)
		}
		return nil, errors.New(firstLine(err.Error()))
	}
	defer stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		return nil, s.explainTransport(ctx, err, "the proxy")
	}
	defer resp.Body.Close()
	return s.read(ctx, resp, false)
}

func (s *Scraper) explainTransport(ctx context.Context, err error, who string) error {
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("%s did not answer within --pod-timeout %s", who, s.timeout())
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.New(firstLine(err.Error()))
}

// read parses the body of a 200 as it arrives (only the lines that can
// matter are kept: memory follows the target, not the exposition), or
// says who refused and what to do.
func (s *Scraper) read(ctx context.Context, resp *http.Response, viaAPIServer bool) (*metrics.Snapshot, error) {
	if resp.StatusCode == http.StatusOK {
		var snap *metrics.Snapshot
		var err error
		switch {
		case s.Parse != nil:
			snap, err = s.Parse(resp.Body)
		case s.Filter != nil:
			snap, err = metrics.ParseFor(resp.Body, s.limits(), *s.Filter)
		default:
			snap, err = metrics.Parse(resp.Body, s.limits())
		}
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, s.explainTransport(ctx, err, "the proxy")
		case err != nil:
			return nil, &parseError{err}
		}
		return snap, nil
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	// The API server's own refusals are Status objects; an answer of the
	// proxy itself is plain text (shared/reference/proxy-metrics.md §1.2).
	var st struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	}
	if viaAPIServer && json.Unmarshal(head, &st) == nil && st.Kind == "Status" {
		switch resp.StatusCode {
		case http.StatusForbidden:
			return nil, errors.New("forbidden: RBAC does not allow get pods/proxy (see krew/rbac.yaml)")
		case http.StatusUnauthorized:
			return nil, errors.New("unauthorized: the API server rejected the credentials")
		}
		return nil, fmt.Errorf("the API server could not reach the pod (HTTP %d: %s)", resp.StatusCode, firstLine(st.Message))
	}
	switch resp.StatusCode {
	case http.StatusForbidden:
		return nil, errors.New("the proxy's inbound policy refused the scrape (HTTP 403): authorize unauthenticated access to port linkerd-admin for the API server's network, or use a default inbound policy that allows it")
	case http.StatusNotFound:
		return nil, errors.New("the proxy answered 404: a Server on linkerd-admin may not allow /metrics")
	}
	return nil, fmt.Errorf("the proxy answered HTTP %d: %s", resp.StatusCode, firstLine(string(head)))
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
