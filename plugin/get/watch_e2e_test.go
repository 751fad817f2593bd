package get_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-profiles/kubectl-profiles/plugin"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

const watchNS = `
apiVersion: v1
kind: Namespace
metadata: {name: live}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: live}
spec:
  ports: [{port: 80}]
`

// liveSP is the ServiceProfile of live/web with the timeout of GET /books.
func liveSP(timeout string) string {
	return `
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: web.live.svc.cluster.local, namespace: live}
spec:
  routes:
  - name: GET /books
    condition: {method: GET, pathRegex: /books}
    timeout: ` + timeout + "\n"
}

// live is a command running in-process until stopped, its stdout read line
// by line.
type live struct {
	t      testing.TB
	lines  chan string
	cancel context.CancelFunc
	done   chan struct{}
	err    error
	stderr bytes.Buffer
	mu     sync.Mutex
	seen   []string
}

// start runs `kubectl profiles args...` with a context the test cancels,
// as Ctrl-C would.
func start(t testing.TB, args ...string) *live {
	t.Helper()
	pr, pw := io.Pipe()
	l := &live{t: t, lines: make(chan string, 1000), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	root := plugin.NewRootCmd(genericiooptions.IOStreams{In: strings.NewReader(""), Out: pw, ErrOut: &syncWriter{w: &l.stderr, mu: &l.mu}})
	root.SetArgs(append([]string{"--kubeconfig", env.Kubeconfig}, withPolicy(args)...))
	go func() {
		defer close(l.done)
		l.err = root.ExecuteContext(ctx)
		pw.Close()
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			l.lines <- sc.Text()
		}
		close(l.lines)
	}()
	t.Cleanup(func() { l.stop() })
	return l
}

type syncWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// next returns the next line matching re (lines before it are kept in
// seen); it fails the test when the command ends or a minute passes (a
// bound against hangs, not a timing assertion).
func (l *live) next(re string) []string {
	l.t.Helper()
	rx := regexp.MustCompile(re)
	limit := time.After(time.Minute)
	for {
		select {
		case line, ok := <-l.lines:
			if !ok {
				l.t.Fatalf("the command ended before printing %q; seen:\n%s\nstderr: %s", re, strings.Join(l.seen, "\n"), l.errOut())
			}
			l.seen = append(l.seen, line)
			if m := rx.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-limit:
			l.t.Fatalf("no line %q; seen:\n%s\nstderr: %s", re, strings.Join(l.seen, "\n"), l.errOut())
		}
	}
}

func (l *live) errOut() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stderr.String()
}

// stop is Ctrl-C: it returns the exit status.
func (l *live) stop() int {
	l.cancel()
	<-l.done
	for range l.lines {
	}
	return cli.CodeOf(l.err)
}

func applyT(t *testing.T, manifests ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.Apply(ctx, manifests...); err != nil {
		t.Fatal(err)
	}
}

func deleteT(t *testing.T, manifests ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.Delete(ctx, manifests...); err != nil {
		t.Fatal(err)
	}
}

// TestWatchFollowsChanges edits and deletes a ServiceProfile on the API
// server while `get --watch` runs, and checks the events in order: the push
// of each change with what it changed, a change the destination never
// pushes (frozen informers) as a finding and its late push, the fallback to
// the default profile on delete, a stream the server ends (full queue)
// reconnected, and Ctrl-C ending with exit 0.
func TestWatchFollowsChanges(t *testing.T) {
	setup(t)
	applyT(t, watchNS, liveSP("1s"))
	l := start(t, "get", "svc/web", "-n", "live", "--destination-addr", dest.Addr(), "--timeout", "6s", "--watch")
	l.next(`^IN EFFECT\s+live/web\.live\.svc\.cluster\.local from the service namespace`)
	l.next(`watching 1 stream\(s\) and their ServiceProfiles, 1 policy stream\(s\) and their routes \(Ctrl-C to stop\)$`)

	applyT(t, liveSP("2s"))
	l.next(`^\d\d:\d\d:\d\d\.\d{3} ServiceProfile live/web\.live\.svc\.cluster\.local updated \(rv \d+\) -> destination pushed (after -?\d+ ms|\d+ ms before the API watch delivered the change) \(port 80\): route GET /books timeout 1s -> 2s$`)

	// Frozen informers: the change is not pushed within --timeout.
	dest.Freeze()
	applyT(t, liveSP("3s"))
	l.next(`ServiceProfile live/web\.live\.svc\.cluster\.local updated \(rv \d+\) -> NOT pushed by the destination within --timeout 6s \(port 80\)$`)
	l.next(`^    drift: 1 field\(s\) differ from the ServiceProfile, first routes\[0\]\.timeout: expected "3s", served "2s"$`)
	l.next(`^    \+ error watch-not-pushed: the destination did not push ServiceProfile live/web\.live\.svc\.cluster\.local \(rv \d+\) to this client within --timeout 6s`)
	dest.Thaw()
	l.next(`ServiceProfile live/web\.live\.svc\.cluster\.local updated \(rv \d+\) -> destination pushed late, after \d+ ms \(beyond --timeout 6s\) \(port 80\): route GET /books timeout 2s -> 3s$`)
	l.next(`^    drift: none`)
	l.next(`^    - error watch-not-pushed \(gone\)$`)

	// Delete: the default profile.
	deleteT(t, liveSP("3s"))
	m := l.next(`ServiceProfile live/web\.live\.svc\.cluster\.local deleted \(rv \d+\) -> destination pushed .*\(port 80\): (.*)$`)
	if !strings.Contains(m[1], "route GET /books removed") {
		t.Errorf("delete: changes %q, want the route removed", m[1])
	}
	l.next(`^    in effect: live/web\.live\.svc\.cluster\.local from the service namespace \(resourceVersion \d+\) -> default profile \(no ServiceProfile\)$`)

	// A full queue: the server ends the stream with OK; it is reopened.
	if n := dest.Overflow("web.live.svc.cluster.local", 80); n != 1 {
		t.Fatalf("Overflow ended %d streams, want 1", n)
	}
	l.next(`stream web\.live\.svc\.cluster\.local:80 broke: .*the destination ended the stream \(queue overflow or restart\); reconnecting in 100ms$`)
	l.next(`stream web\.live\.svc\.cluster\.local:80 reconnected: profile unchanged$`)

	if code := l.stop(); code != 0 {
		t.Errorf("Ctrl-C: exit %d, want 0 (stderr %s)", code, l.errOut())
	}
	t.Logf("watch output:\n%s", strings.Join(l.seen, "\n"))
}

// TestWatchJSONLines: -o json prints one event object per line: the
// initial report, then a pushed event with its latency and changes.
func TestWatchJSONLines(t *testing.T) {
	setup(t)
	applyT(t, watchNS, liveSP("1s"))
	l := start(t, "get", "svc/web", "-n", "live", "--destination-addr", dest.Addr(), "--timeout", "6s", "-w", "-o", "json")
	var ev struct {
		Type      string
		Service   string
		Port      int
		LatencyMs *float64
		Changes   []string
		Object    *struct{ Namespace, Name, ResourceVersion, Event string }
		InEffect  *struct{ Source string }
		Findings  []struct{ Code string }
		Report    *jsonReport
	}
	line := l.next(`^\{.*"type":"initial".*$`)[0]
	if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Report == nil || ev.Report.Ports[0].Lookup.Result != "served" {
		t.Fatalf("initial event %v: %s", err, line)
	}
	applyT(t, liveSP("5s"))
	line = l.next(`^\{.*"type":"pushed".*$`)[0]
	ev.Report = nil
	if err := json.Unmarshal([]byte(line), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Service != "live/web" || ev.Port != 80 || ev.LatencyMs == nil || ev.Object == nil || ev.Object.Event != "updated" || ev.Object.ResourceVersion == "" ||
		len(ev.Changes) != 1 || ev.Changes[0] != "route GET /books timeout 1s -> 5s" || ev.InEffect == nil || ev.InEffect.Source != "service-namespace" {
		t.Errorf("pushed event: %s", line)
	}
	for _, s := range l.seen {
		if !json.Valid([]byte(s)) {
			t.Errorf("not one JSON object per line: %q", s)
		}
	}
	if code := l.stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
}

const policyWatchNS = `
apiVersion: v1
kind: Namespace
metadata: {name: livep}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: livep}
spec:
  ports: [{port: 80}]
`

// livepRoute is an HTTPRoute of livep/web, accepted, with a request
// timeout annotation.
func livepRoute(timeout string) string {
	return `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: r
  namespace: livep
  annotations: {timeout.linkerd.io/request: "` + timeout + `"}
spec:
  parentRefs: [{group: core, kind: Service, name: web, port: 80}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /books}}]
status:
  parents:
  - parentRef: {group: core, kind: Service, name: web, port: 80}
    controllerName: linkerd.io/policy-controller
    conditions: [{type: Accepted, status: "True", reason: Accepted, message: "", lastTransitionTime: "2026-01-01T00:00:00Z"}]
`
}

// TestWatchFollowsRoutes (issue 13): the policy controller's stream stays
// open and the routes naming the Service are watched: adding, editing and
// deleting an HTTPRoute each print the route change, then the push, with
// what it changed; a change a stuck controller does not push is the
// watch-not-pushed finding, then its late push; a stream the controller
// ends with OK is reopened.
func TestWatchFollowsRoutes(t *testing.T) {
	setup(t)
	applyT(t, policyWatchNS)
	l := start(t, "get", "svc/web", "-n", "livep", "--destination-addr", dest.Addr(), "--timeout", "6s", "--watch")
	l.next(`^default http\s+0\s+prefix:/`)
	l.next(`watching 1 stream\(s\) and their ServiceProfiles, 1 policy stream\(s\) and their routes \(Ctrl-C to stop\)$`)
	const pushed = ` -> policy controller pushed (after -?\d+ ms|\d+ ms before the API watch delivered the change) \(port 80\): `

	applyT(t, livepRoute("1s"))
	l.next(`^\d\d:\d\d:\d\d\.\d{3} HTTPRoute livep/r added \(rv \d+\)` + pushed + `default route http removed; HTTPRoute livep/r added$`)

	applyT(t, livepRoute("2s"))
	l.next(`^\d\d:\d\d:\d\d\.\d{3} HTTPRoute livep/r updated \(rv \d+\)` + pushed + `HTTPRoute livep/r rule 0 timeouts\.request 1s -> 2s$`)

	// A stuck index: the change is not pushed within --timeout, then late.
	pol.Freeze()
	applyT(t, livepRoute("3s"))
	l.next(`^\d\d:\d\d:\d\d\.\d{3} HTTPRoute livep/r updated \(rv \d+\) -> NOT pushed by the policy controller within --timeout 6s \(port 80\)$`)
	// (Its policy drift line may come with the push before: a re-render
	// reads the cluster as it is then.)
	l.next(`^    \+ error watch-not-pushed: the policy controller did not push HTTPRoute livep/r \(rv \d+\) to this client within --timeout 6s`)
	pol.Thaw()
	l.next(`^\d\d:\d\d:\d\d\.\d{3} HTTPRoute livep/r updated \(rv \d+\) -> policy controller pushed late, after \d+ ms \(beyond --timeout 6s\) \(port 80\): HTTPRoute livep/r rule 0 timeouts\.request 2s -> 3s$`)
	l.next(`^    policy drift: none`)
	l.next(`^    - error watch-not-pushed \(gone\)$`)

	deleteT(t, livepRoute("3s"))
	l.next(`^\d\d:\d\d:\d\d\.\d{3} HTTPRoute livep/r deleted \(rv \d+\)` + pushed + `HTTPRoute livep/r removed; default route http added$`)

	// The controller reinitialises its watch: the stream ends with OK
	// and is reopened, the policy unchanged.
	pol.EndWatches()
	l.next(`policy stream \d+\.\d+\.\d+\.\d+:80 broke: .*the policy controller ended the stream .*; reconnecting in 100ms$`)
	l.next(`policy stream \d+\.\d+\.\d+\.\d+:80 reconnected: policy unchanged$`)

	for _, s := range l.seen {
		if strings.Contains(s, "no route change seen") {
			t.Errorf("every push matched its route change, got %q", s)
		}
	}
	if code := l.stop(); code != 0 {
		t.Errorf("Ctrl-C: exit %d, want 0 (stderr %s)", code, l.errOut())
	}
	t.Logf("watch output:\n%s", strings.Join(l.seen, "\n"))
}

// TestWatchPolicyJSON: with -o json a policy push is a "pushed" event with
// api "policy", the route as its object and what changed.
func TestWatchPolicyJSON(t *testing.T) {
	setup(t)
	applyT(t, policyWatchNS, livepRoute("1s"))
	l := start(t, "get", "svc/web", "-n", "livep", "--destination-addr", dest.Addr(), "--timeout", "6s", "-w", "-o", "json")
	l.next(`^\{.*"type":"initial".*$`)
	l.next(`^\{.*"type":"watching".*"message":"watching 1 stream\(s\) and their ServiceProfiles, 1 policy stream\(s\) and their routes \(Ctrl-C to stop\)".*$`)
	applyT(t, livepRoute("7s"))
	line := l.next(`^\{.*"type":"pushed".*"api":"policy".*$`)[0]
	var ev struct {
		Type, Service, API string
		Port               int
		LatencyMs          *float64
		Changes            []string
		Object             *struct{ Kind, Group, Namespace, Name, ResourceVersion, Event string }
		Mode               string
	}
	if err := json.Unmarshal([]byte(line), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Service != "livep/web" || ev.Port != 80 || ev.LatencyMs == nil || ev.Object == nil || ev.Object.Kind != "HTTPRoute" ||
		ev.Object.Group != "gateway.networking.k8s.io" || ev.Object.Name != "r" || ev.Object.Event != "updated" || ev.Object.ResourceVersion == "" ||
		len(ev.Changes) != 1 || ev.Changes[0] != "HTTPRoute livep/r rule 0 timeouts.request 1s -> 7s" || ev.Mode != "policy" {
		t.Errorf("pushed event: %s", line)
	}
	if code := l.stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
}

func TestWatchUsage(t *testing.T) {
	setup(t)
	for _, args := range [][]string{{"-A", "--watch"}, {"svc/web", "-w", "-o", "yaml"}} {
		_, errOut, code := get(t, args...)
		if code != 2 || !strings.Contains(errOut, "--watch") {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
	}
}

// TestWatchCreditsThePushToItsChange: a push is credited to the change that
// brought it. (1) A profile the destination cannot translate is fixed: the
// stream, silent until then, sends its first message, which is that fix's
// push, not a change "between the report and the watch". (2) Seen from a
// client namespace whose own profile hides the Service's, an edit of the
// Service's profile pushes nothing until the client's profile is deleted:
// that push is the deletion's, the edit is in the same push, and neither is
// called "not the profile in effect".
func TestWatchCreditsThePushToItsChange(t *testing.T) {
	setup(t)
	const ns = `
apiVersion: v1
kind: Namespace
metadata: {name: credit}
---
apiVersion: v1
kind: Namespace
metadata: {name: credit-client}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: credit}
spec:
  ports: [{port: 80}]
`
	sp := func(ns, ttl, timeout string) string {
		return `
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: web.credit.svc.cluster.local, namespace: ` + ns + `}
spec:
  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: "` + ttl + `"}
  routes:
  - name: GET /books
    condition: {method: GET, pathRegex: /books}
    timeout: ` + timeout + "\n"
	}
	applyT(t, ns, sp("credit", "10 seconds", "1s"))
	l := start(t, "get", "svc/web", "-n", "credit", "--destination-addr", dest.Addr(), "--timeout", "4s", "--watch")
	l.next(`watching 1 stream\(s\)`)
	applyT(t, sp("credit", "10s", "1s"))
	l.next(`ServiceProfile credit/web\.credit\.svc\.cluster\.local updated \(rv \d+\) -> destination pushed .*\(port 80\)`)
	l.stop()
	for _, line := range l.seen {
		if strings.Contains(line, "between the report and the opening") || strings.Contains(line, "nothing to push") {
			t.Errorf("the fix's push credited elsewhere: %q", line)
		}
	}

	applyT(t, sp("credit-client", "10s", "5s"))
	l = start(t, "get", "svc/web", "-n", "credit", "--from-namespace", "credit-client", "--destination-addr", dest.Addr(), "--timeout", "6s", "--watch")
	l.next(`^IN EFFECT\s+credit-client/web\.credit\.svc\.cluster\.local from the client namespace`)
	l.next(`watching 1 stream\(s\)`)
	applyT(t, sp("credit", "10s", "2s"))
	deleteT(t, sp("credit-client", "10s", "5s"))
	// The push follows the deletion. When the API watch delivers the
	// deletion first, the push is the deletion's and the edit is in the
	// same push; when it delivers it after the push (a race), the push
	// went to the edit and the deletion is said to be already reflected.
	m := l.next(`ServiceProfile (credit-client|credit)/web\.credit\.svc\.cluster\.local (deleted|updated) \(rv \d+\) -> destination pushed .*\(port 80\): .*timeout 5s -> 2s$`)
	seen := strings.Join(l.seen, "\n")
	switch m[2] {
	case "deleted":
		if !strings.Contains(seen, "updated") || !regexp.MustCompile(`ServiceProfile credit/\S+ updated \(rv \d+\) -> in the same push as the later change below`).MatchString(seen) {
			t.Errorf("the edit before the deletion is not said to be in its push:\n%s", seen)
		}
	default:
		l.next(`ServiceProfile credit-client/web\.credit\.svc\.cluster\.local deleted \(rv \d+\) -> nothing to push for port 80 \(what this client was last served already reflects it`)
	}
	l.stop()
}
