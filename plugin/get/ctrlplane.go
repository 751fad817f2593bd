package get

// The control plane behind the profiles: get reads the metrics of every
// linkerd-destination replica (admin port 9996, through the API server's
// pod proxy, a port-forward where that is refused, or
// --destination-metrics-addr directly), sums them (diag/ctrlplane) and
// shows, per port, the subscribers of the profile and the updates
// delivered, with findings for queue overflows and informer lag; an audit
// adds unused overrides and a one-line health summary. Metrics that cannot
// be read cost one warning line, never the report.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-profiles/kubectl-profiles/diag/analyze"
	"github.com/kubectl-profiles/kubectl-profiles/diag/ctrlplane"
	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/metrics"
	"github.com/kubectl-profiles/kubectl-profiles/diag/report"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/destination"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/scrape"
)

// DestinationAdminPort is the destination container's admin port
// (-metrics-addr :9996).
const DestinationAdminPort = 9996

// DestinationComponentLabel selects the destination's pods.
const DestinationComponentLabel = "linkerd.io/control-plane-component=destination"

// DefaultLagThreshold is --informer-lag-threshold's default: observations
// are inflated by up to 1s (managedFields resolution), so well above it.
const DefaultLagThreshold = 5 * time.Second

// cpRead is the outcome of reading the control plane's metrics.
type cpRead struct {
	facts      *ctrlplane.Facts
	unreadable []string // "pod: why"
	err        error    // nothing could be read
}

// controlPlaneWanted: --control-plane always or never; auto (the
// default) when get reaches the control plane through the cluster (no
// --destination-addr) or --destination-metrics-addr is given.
func (o *Options) controlPlaneWanted() bool {
	switch o.watch.ControlPlane {
	case "always":
		return true
	case "never":
		return false
	}
	return o.watch.MetricsAddr != "" || o.Dest.Addr == ""
}

// startControlPlane reads the metrics in the background, while the
// lookups run; the returned function waits for them (bounded by
// --timeout per replica).
func (o *Options) startControlPlane(ctx context.Context, c *kube.Clients) func() *cpRead {
	if !o.controlPlaneWanted() {
		return func() *cpRead { return nil }
	}
	done := make(chan *cpRead, 1)
	go func() { done <- o.readControlPlane(ctx, c) }()
	return func() *cpRead {
		select {
		case r := <-done:
			return r
		case <-ctx.Done():
			return &cpRead{err: ctx.Err()}
		}
	}
}

func (o *Options) readControlPlane(ctx context.Context, c *kube.Clients) *cpRead {
	if o.watch.MetricsAddr != "" {
		snap, err := readMetricsAddr(ctx, o.watch.MetricsAddr, o.Dest.Timeout)
		if err != nil {
			return &cpRead{err: err}
		}
		return &cpRead{facts: ctrlplane.FromReplicas([]ctrlplane.Replica{{Pod: o.watch.MetricsAddr, Snap: snap}})}
	}
	lctx, cancel := context.WithTimeout(ctx, o.Dest.Timeout)
	list, err := c.Kube.CoreV1().Pods(o.Dest.LinkerdNS).List(lctx, metav1.ListOptions{LabelSelector: DestinationComponentLabel})
	cancel()
	if err != nil {
		return &cpRead{err: kube.Explain(err, "list pods in namespace "+o.Dest.LinkerdNS)}
	}
	var pods []*corev1.Pod
	for i := range list.Items {
		p := &list.Items[i]
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			pods = append(pods, p)
		}
	}
	if len(pods) == 0 {
		return &cpRead{err: fmt.Errorf("no Running %s pod (label %s) in namespace %s", kube.DestinationDeployment, DestinationComponentLabel, o.Dest.LinkerdNS)}
	}
	sc := &scrape.Scraper{Config: c.Config, Kube: c.Kube, Concurrency: 4, Timeout: o.Dest.Timeout, Port: DestinationAdminPort, Parse: ctrlplane.Parse}
	res := &cpRead{}
	var reps []ctrlplane.Replica
	for _, r := range sc.All(ctx, pods) {
		if r.Err != nil {
			res.unreadable = append(res.unreadable, fmt.Sprintf("%s: %s", r.Pod.Name, cli.OneLine(r.Err.Error())))
			continue
		}
		reps = append(reps, ctrlplane.Replica{Pod: r.Pod.Name, Snap: r.Snap})
	}
	if len(reps) == 0 {
		res.err = fmt.Errorf("no destination replica could be read (%s)", strings.Join(res.unreadable, "; "))
		return res
	}
	res.facts = ctrlplane.FromReplicas(reps)
	return res
}

// readMetricsAddr reads one destination's /metrics at HOST:PORT.
func readMetricsAddr(ctx context.Context, addr string, timeout time.Duration) (*metrics.Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("the destination's metrics at %s did not answer within --timeout %s", addr, timeout)
		}
		return nil, fmt.Errorf("cannot read the destination's metrics at %s: %s", addr, cli.OneLine(err.Error()))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		return nil, fmt.Errorf("the destination's metrics at %s answered HTTP %d: %s", addr, resp.StatusCode, cli.OneLine(string(head)))
	}
	return ctrlplane.Parse(resp.Body)
}

// applyControlPlane adds the facts to the reports: per port the profile's
// subscribers and updates, and the control plane's findings. In an audit
// (audit true), ServiceProfiles nobody subscribes to are findings too.
// It returns the lines to print on stderr (a warning when nothing could
// be read; the health summary in an audit).
func (o *Options) applyControlPlane(r *cpRead, reports []report.Report, audit bool) []string {
	if r == nil {
		return nil
	}
	var lines []string
	if r.facts == nil {
		return []string{fmt.Sprintf("warning: control-plane metrics not read (%s): subscribers, updates and control-plane findings are not shown; check RBAC (get pods/proxy in %s) or pass --destination-metrics-addr",
			cli.OneLine(r.err.Error()), o.Dest.LinkerdNS)}
	}
	if len(r.unreadable) > 0 {
		lines = append(lines, fmt.Sprintf("warning: %d destination replica(s) not read, so the counts are partial: %s", len(r.unreadable), strings.Join(r.unreadable, "; ")))
	}
	f := r.facts
	for i := range reports {
		rep := &reports[i]
		var unused []string
		// Unused means no subscriber on ANY replica: unknown when one was not read.
		if audit && len(r.unreadable) == 0 {
			for _, ns := range append([]string{rep.Service.Namespace}, rep.Overrides...) {
				if f.Unused(ns, rep.FQDN) {
					unused = append(unused, ns)
				}
			}
		}
		for j := range rep.Ports {
			p := &rep.Ports[j]
			ns := p.InEffect.Namespace
			if p.InEffect.Name == "" {
				ns = ""
			}
			cp := f.ForService(rep.Service.Namespace, rep.Service.Name, rep.FQDN, p.Port, ns)
			p.ControlPlane = &cp
			for _, is := range analyze.Run(analyze.ControlFacts(&analyze.Control{
				Metrics: f, FQDN: rep.FQDN, Port: p.Port, LagThreshold: o.watch.LagThreshold, UnusedIn: unused,
			})) {
				p.Findings = append(p.Findings, is.Finding)
			}
			finding.Sort(p.Findings)
		}
	}
	if audit {
		lines = append(lines, f.Health(o.watch.LagThreshold, len(r.unreadable)))
	}
	return lines
}

func (o *Options) validateControlPlane() error {
	if err := destination.ValidateAddr("--destination-metrics-addr", o.watch.MetricsAddr); err != nil {
		return err
	}
	switch o.watch.ControlPlane {
	case "auto", "always", "never":
	default:
		return cli.Usagef("--control-plane %q is not auto, always or never", o.watch.ControlPlane)
	}
	if o.watch.LagThreshold <= 0 {
		return cli.Usagef("--informer-lag-threshold must be positive")
	}
	return nil
}
