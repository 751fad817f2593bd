package get_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/destination"
)

var adminAddr string

// admin starts the test destination's metrics endpoint once.
func admin(t *testing.T) string {
	t.Helper()
	setup(t)
	if adminAddr == "" {
		a, err := dest.StartAdmin("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		adminAddr = a
	}
	return adminAddr
}

// proxyFrom keeps a GetProfile stream open as a proxy in namespace ns
// would, until the test ends.
func proxyFrom(t *testing.T, path, ns string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c, err := destination.Dial(ctx, dest.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		first := true
		_ = c.Watch(ctx, path, destination.Token{Namespace: ns}, func(*pb.DestinationProfile) {
			if first {
				first = false
				close(got)
			}
		})
	}()
	select {
	case <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the proxy stream got no profile")
	}
	t.Cleanup(func() { cancel(); <-done; c.Close() })
}

type cpReport struct {
	Ports []struct {
		Port         int
		ControlPlane *struct {
			Replicas    int
			Subscribers []struct {
				Namespace string
				Count     float64
			}
			Updates   *float64
			Streams   float64
			Overflows float64
		}
		Findings []struct{ Code, Level, Message string }
	}
}

func getCP(t *testing.T, args ...string) (cpReport, string) {
	t.Helper()
	out, errOut, code := get(t, append(args, "-o", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r cpReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return r, errOut
}

func findingCodes(fs []struct{ Code, Level, Message string }) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

// TestControlPlaneFacts: subscribers per namespace and updates from the
// destination's metrics, a full update queue on one port and a lagging
// informer as findings (the other port has no overflow), read with
// --destination-metrics-addr.
func TestControlPlaneFacts(t *testing.T) {
	addr := admin(t)
	proxyFrom(t, "webapp.books.svc.cluster.local:7000", "foobar")
	r, _ := getCP(t, "svc/webapp", "-n", "books", "--destination-metrics-addr", addr)
	if len(r.Ports) != 2 || r.Ports[0].ControlPlane == nil {
		t.Fatalf("no control-plane facts: %+v", r)
	}
	cp := r.Ports[0].ControlPlane
	per := map[string]float64{}
	for _, s := range cp.Subscribers {
		per[s.Namespace] = s.Count
	}
	// The foobar proxy: +1 on foobar's publisher, +1 on books' (backup).
	// The lookups of get itself (token books) may add to books only.
	if per["foobar"] != 1 || per["books"] < 1 || cp.Replicas != 1 || cp.Updates == nil || *cp.Updates < 1 {
		t.Errorf("control plane = %+v (subscribers %v)", cp, per)
	}
	for _, p := range r.Ports {
		if has(findingCodes(p.Findings), "destination-queue-overflow") || has(findingCodes(p.Findings), "destination-informer-lag") {
			t.Errorf("port %d: control-plane finding before any overflow or lag: %v", p.Port, findingCodes(p.Findings))
		}
	}

	// Text: the SUBSCRIBERS line (per profile: the same on every port).
	out, _, _ := get(t, "svc/webapp", "-n", "books", "--port", "7001", "--destination-metrics-addr", addr)
	if !strings.Contains(out, "\nSUBSCRIBERS   ") || !strings.Contains(out, "foobar 1)") {
		t.Errorf("no SUBSCRIBERS line:\n%s", out)
	}

	// A full queue ends the foobar proxy's stream (it is not reopened here).
	if n := dest.Overflow("webapp.books.svc.cluster.local", 7000); n < 1 {
		t.Fatalf("Overflow ended %d streams", n)
	}
	dest.ObserveLag("serviceprofiles", 30)
	r, _ = getCP(t, "svc/webapp", "-n", "books", "--destination-metrics-addr", addr)
	for _, p := range r.Ports {
		codes := findingCodes(p.Findings)
		if want := p.Port == 7000; has(codes, "destination-queue-overflow") != want {
			t.Errorf("port %d: overflow finding %v, want %v", p.Port, codes, want)
		}
		if !has(codes, "destination-informer-lag") {
			t.Errorf("port %d: no informer lag finding: %v", p.Port, codes)
		}
	}
}

const lonely = `
apiVersion: v1
kind: Namespace
metadata: {name: cpx}
---
apiVersion: v1
kind: Namespace
metadata: {name: cpx-other}
---
apiVersion: v1
kind: Service
metadata: {name: lonely, namespace: cpx}
spec:
  ports: [{port: 80}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: lonely.cpx.svc.cluster.local, namespace: cpx}
spec:
  routes: [{name: r, condition: {pathRegex: /r}}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: lonely.cpx.svc.cluster.local, namespace: cpx-other}
spec:
  routes: [{name: o, condition: {pathRegex: /o}}]
`

// TestAuditUnusedOverrideAndHealth: an override no client of its
// namespace watches is reported, with the health line on stderr.
func TestAuditUnusedOverrideAndHealth(t *testing.T) {
	addr := admin(t)
	applyT(t, lonely)
	out, errOut, code := get(t, "-n", "cpx", "--destination-metrics-addr", addr, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rs []cpReport
	if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) == 0 {
		t.Fatalf("%v: %s", err, out)
	}
	// No client in cpx-other runs, so its override is unused whatever
	// the audit's own lookups (from cpx) are doing.
	found := false
	for _, f := range rs[0].Ports[0].Findings {
		if f.Code == "profile-unused" && strings.Contains(f.Message, "cpx-other/lonely.cpx.svc.cluster.local") {
			found = true
		}
	}
	if !found {
		t.Errorf("no profile-unused finding for the cpx-other override: %+v", rs[0].Ports[0].Findings)
	}
	if !strings.Contains(errOut, "control plane ") || !strings.Contains(errOut, "1 destination replica(s) read") {
		t.Errorf("no health line on stderr: %s", errOut)
	}
}

// TestControlPlaneUnreadable: metrics that cannot be read cost one line,
// never the report.
func TestControlPlaneUnreadable(t *testing.T) {
	setup(t)
	out, errOut, code := get(t, "svc/webapp", "-n", "books", "--port", "7000", "--destination-metrics-addr", "127.0.0.1:1")
	if code != 0 || !strings.Contains(out, "PORT 7000") {
		t.Fatalf("exit %d, report:\n%s\n%s", code, out, errOut)
	}
	if n := strings.Count(errOut, "control-plane metrics not read"); n != 1 || !strings.Contains(errOut, "127.0.0.1:1") {
		t.Errorf("want one warning line, got: %s", errOut)
	}
	if strings.Contains(out, "SUBSCRIBERS") {
		t.Errorf("facts shown although unread:\n%s", out)
	}
}
