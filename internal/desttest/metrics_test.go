package desttest_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/kubectl-profiles/kubectl-profiles/internal/desttest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/testenv"
)

const metricsFixtures = `
apiVersion: v1
kind: Namespace
metadata: {name: mtr}
---
apiVersion: v1
kind: Namespace
metadata: {name: mtr-cli}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: mtr}
spec:
  ports: [{port: 80}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: web.mtr.svc.cluster.local, namespace: mtr}
spec:
  routes: [{name: r1, condition: {pathRegex: /a}}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: typo.mtr.svc.cluster.locl, namespace: mtr}
spec:
  routes: [{name: r1, condition: {pathRegex: /a}}]
`

// scrape reads the admin endpoint with the reference parser (expfmt).
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// sample is the value of name{labels}; -1 when there is no such series.
func sample(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		}
	}
	return -1
}

// TestMetricsFollowTheRealWatcher pins destination-metrics.md §2.1-2.3:
// subscriber counting (a same-namespace stream counts twice), updates per
// informer event (add, update, delete), service_subscribers deleted with
// the last stream, the overflow series created at 0 and a full queue ending
// the stream with OK, and the families' types.
func TestMetricsFollowTheRealWatcher(t *testing.T) {
	testenv.SkipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := env.Apply(ctx, metricsFixtures); err != nil {
		t.Fatal(err)
	}
	srv, err := desttest.Start(ctx, env.Clientset, env.Dynamic, "127.0.0.1:0", desttest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	admin, err := srv.StartAdmin("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := pb.NewDestinationClient(conn)
	sp := map[string]string{"namespace": "mtr", "profile": "web.mtr.svc.cluster.local"}
	cli := map[string]string{"namespace": "mtr-cli", "profile": "web.mtr.svc.cluster.local"}
	typo := map[string]string{"namespace": "mtr", "profile": "typo.mtr.svc.cluster.locl"}

	fams := scrape(t, admin)
	if got := sample(fams, "profile_subscribers", typo); got != 0 {
		t.Errorf("an unwatched ServiceProfile's publisher: subscribers %v, want 0", got)
	}
	if got := sample(fams, "profile_updates", sp); got != 1 {
		t.Errorf("profile_updates after the add = %v, want 1", got)
	}
	for name, typ := range map[string]dto.MetricType{"profile_subscribers": dto.MetricType_GAUGE, "profile_updates": dto.MetricType_COUNTER,
		"serviceprofiles_informer_lag_seconds": dto.MetricType_HISTOGRAM, "services_informer_lag_seconds": dto.MetricType_HISTOGRAM} {
		if fams[name] == nil || fams[name].GetType() != typ {
			t.Errorf("family %s missing or not a %s", name, typ)
		}
	}

	open := func(token string) (pb.Destination_GetProfileClient, context.CancelFunc) {
		sctx, scancel := context.WithCancel(ctx)
		st, err := c.GetProfile(sctx, &pb.GetDestination{Path: "web.mtr.svc.cluster.local:80", ContextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Recv(); err != nil {
			t.Fatal(err)
		}
		return st, scancel
	}
	same, cancelSame := open(`{"ns":"mtr"}`)
	other, cancelOther := open(`{"ns":"mtr-cli"}`)
	fams = scrape(t, admin)
	if got := sample(fams, "profile_subscribers", sp); got != 3 { // 2 (same ns) + 1 (backup of the other)
		t.Errorf("profile_subscribers{mtr} = %v, want 3", got)
	}
	if got := sample(fams, "profile_subscribers", cli); got != 1 {
		t.Errorf("profile_subscribers{mtr-cli} = %v, want 1", got)
	}
	if got := sample(fams, "service_subscribers", map[string]string{"namespace": "mtr", "name": "web"}); got != 2 {
		t.Errorf("service_subscribers = %v, want 2", got)
	}
	if got := sample(fams, "profile_updates_queue_overflow", map[string]string{"fqn": "web.mtr.svc.cluster.local", "port": "80"}); got != 0 {
		t.Errorf("overflow series = %v, want 0 (created with the stream)", got)
	}

	// An update is counted and pushed.
	if err := env.Apply(ctx, strings.Replace(metricsFixtures, "pathRegex: /a}}]\n---\napiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: typo", "pathRegex: /b}}]\n---\napiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: typo", 1)); err != nil {
		t.Fatal(err)
	}
	m, err := same.Recv()
	if err != nil || m.GetRoutes()[0].GetCondition().GetPath().GetRegex() != "/b" {
		t.Fatalf("update not pushed: %v %v", m, err)
	}
	if got := sample(scrape(t, admin), "profile_updates", sp); got != 2 {
		t.Errorf("profile_updates after one update = %v, want 2", got)
	}

	// A full queue ends both streams with OK.
	if n := srv.Overflow("web.mtr.svc.cluster.local", 80); n != 2 {
		t.Errorf("Overflow ended %d streams, want 2", n)
	}
	for _, st := range []pb.Destination_GetProfileClient{same, other} {
		for {
			if _, err := st.Recv(); err != nil {
				if err != io.EOF {
					t.Errorf("stream ended with %v, want OK (io.EOF)", err)
				}
				break
			}
		}
	}
	cancelSame()
	cancelOther()
	fams = scrape(t, admin)
	if got := sample(fams, "profile_updates_queue_overflow", map[string]string{"fqn": "web.mtr.svc.cluster.local", "port": "80"}); got != 2 {
		t.Errorf("overflow = %v, want 2", got)
	}
	if got := sample(fams, "service_subscribers", map[string]string{"namespace": "mtr", "name": "web"}); got != -1 {
		t.Errorf("service_subscribers after the last stream = %v, want no series", got)
	}
	if got := sample(fams, "profile_subscribers", sp); got != 0 {
		t.Errorf("profile_subscribers after the streams = %v, want 0 (kept)", got)
	}
	// Delete counts as an update; the series stay.
	if err := env.Delete(ctx, metricsFixtures[strings.Index(metricsFixtures, "apiVersion: linkerd.io/v1alpha2"):strings.Index(metricsFixtures, "---\napiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: typo")]); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for sample(scrape(t, admin), "profile_updates", sp) != 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := sample(scrape(t, admin), "profile_updates", sp); got != 3 {
		t.Errorf("profile_updates after the delete = %v, want 3", got)
	}
}
