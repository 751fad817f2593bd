// Package routes implements `kubectl profiles routes`: per-route golden
// metrics (success, RPS, latency, retries, timeouts) read straight from the
// proxies' admin ports, for ServiceProfile and policy routes, without
// Prometheus or linkerd-viz.
package routes

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/metrics"
	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/completion"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/scrape"
)

const example = `  # ServiceProfile routes of svc/webapp, as its own (server) proxies count them
  kubectl profiles routes svc/webapp -n books

  # What deploy/traffic sees calling svc/webapp: ServiceProfile or HTTPRoute/GRPCRoute routes
  kubectl profiles routes deploy/traffic --to svc/webapp -n books
  kubectl profiles routes svc/webapp --from deploy/traffic -n books

  # Per backend, retries and timeouts, refreshed every 30s until Ctrl-C
  kubectl profiles routes deploy/traffic --to svc/webapp -o wide --window 30s -w`

// Clock is what the command reads time from; tests replace it.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// clock is replaced by tests (same package) for deterministic rates.
var clock Clock = realClock{}

// portForward is replaced by tests to reach a stand-in without a kubelet.
var portForward scrape.PortForwardFunc

// Options are the flags of routes.
type Options struct {
	Flags   *genericclioptions.ConfigFlags
	Streams genericiooptions.IOStreams

	To, From      string
	FromNamespace string
	Port          int
	Window        time.Duration
	Watch         bool
	Output        string
	Concurrency   int
	PodTimeout    time.Duration
	ClusterDomain string
	NoProgress    bool

	args []string
}

// NewCmd builds the routes command.
func NewCmd(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{Flags: flags, Streams: streams}
	cmd := &cobra.Command{
		Use:   "routes (svc/NAME | deploy/NAME | KIND/NAME) [--to svc/NAME | --from KIND/NAME]",
		Short: "Per-route success rate, RPS and latency, read from the proxies (no Prometheus needed)",
		Long: `Scrapes the Linkerd proxies' admin port (/metrics on 4191) twice, --window apart, through the API
server's pod proxy (a port-forward where that is refused), and computes per route: requests per second,
success rate (effective, and actual per attempt where retries apply), latency p50/p95/p99, retry and
timeout rates. Rows come from ServiceProfile routes (route_* metrics) or policy routes (HTTPRoute,
GRPCRoute: outbound_*_route_* metrics); the API column says which.

  routes svc/NAME | deploy/NAME           inbound: what the server proxies count (ServiceProfile routes only)
  routes deploy/CLIENT --to svc/NAME      outbound: what the client proxies count, both route APIs
  routes svc/NAME --from deploy/CLIENT    the same, named from the Service's side`,
		Example:           example,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completion.CompleteResources(flags, append(append([]string{}, completion.Services...), completion.Workloads...)...),
		RunE:              cli.RunE(&o.args, o.Validate, o.Run),
	}
	f := cmd.Flags()
	f.StringVar(&o.To, "to", "", "show the outbound routes of the target's proxies towards this Service (svc/NAME)")
	f.StringVar(&o.From, "from", "", "show the routes of the Service as counted by the proxies of this client workload (KIND/NAME, in --from-namespace)")
	f.StringVar(&o.FromNamespace, "from-namespace", "", "namespace of --from (default: the target's)")
	f.IntVar(&o.Port, "port", 0, "only this Service port (default: every port)")
	f.DurationVar(&o.Window, "window", 10*time.Second, "time between the two scrapes the rates are computed from")
	f.BoolVarP(&o.Watch, "watch", "w", false, "keep scraping and print a new table every --window until Ctrl-C")
	f.StringVarP(&o.Output, "output", "o", "", "output format: table, wide, json or yaml")
	f.IntVar(&o.Concurrency, "concurrency", 16, "how many proxies are scraped at once")
	f.DurationVar(&o.PodTimeout, "pod-timeout", 5*time.Second, "how long each scrape attempt of one pod may take (pod proxy, then port-forward)")
	f.StringVar(&o.ClusterDomain, "cluster-domain", profile.DefaultClusterDomain, "the cluster's DNS domain, as configured in Linkerd")
	f.BoolVar(&o.NoProgress, "no-progress", false, "do not print progress on stderr")
	_ = cmd.RegisterFlagCompletionFunc("to", completion.CompleteResources(flags, completion.Services...))
	_ = cmd.RegisterFlagCompletionFunc("from", completion.CompleteResources(flags, completion.Workloads...))
	_ = cmd.RegisterFlagCompletionFunc("from-namespace", completion.CompleteNamespaces(flags))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "wide", "json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Validate checks flags before anything touches the network.
func (o *Options) Validate() error {
	var err error
	if o.Output, err = cli.CheckOutput(o.Output, cli.OutputTable, cli.OutputWide, cli.OutputJSON, cli.OutputYAML); err != nil {
		return err
	}
	if o.To != "" && o.From != "" {
		return cli.Usagef("--to and --from choose opposite directions: use one")
	}
	if o.To != "" && !isService(o.To) {
		return cli.Usagef("--to %s: name a Service (svc/NAME)", o.To)
	}
	if o.From != "" && !isService(o.args[0]) {
		return cli.Usagef("--from needs a Service target (svc/NAME): the routes are the Service's")
	}
	if o.FromNamespace != "" && o.From == "" {
		return cli.Usagef("--from-namespace only applies with --from")
	}
	if o.Port < 0 || o.Port > 65535 {
		return cli.Usagef("--port %d is not a valid port", o.Port)
	}
	if o.Window < 100*time.Millisecond {
		return cli.Usagef("--window %s is too short: rates need at least 100ms between scrapes", o.Window)
	}
	if o.PodTimeout <= 0 {
		return cli.Usagef("--pod-timeout must be positive")
	}
	if o.Concurrency < 1 {
		return cli.Usagef("--concurrency must be at least 1")
	}
	if o.ClusterDomain == "" {
		return cli.Usagef("--cluster-domain must not be empty")
	}
	if !strings.Contains(o.args[0], "/") {
		return cli.Usagef("name the target as KIND/NAME, e.g. svc/webapp or deploy/webapp")
	}
	return nil
}

func isService(ref string) bool {
	kind, _, ok := strings.Cut(ref, "/")
	if !ok {
		return false
	}
	switch strings.ToLower(kind) {
	case "svc", "service", "services":
		return true
	}
	return false
}

// plan is what to scrape and how to read it.
type plan struct {
	direction string
	scraped   *kube.Workload // whose proxies are scraped
	service   *corev1.Service
	filter    metrics.Filter
	facts     metrics.Facts
	target    string // as the user named it
}

// Report is the JSON/YAML contract of one window.
type Report struct {
	Target    string `json:"target"`
	Namespace string `json:"namespace"`
	Direction string `json:"direction"`
	// Scraped is the workload whose proxies were read.
	Scraped    string          `json:"scraped"`
	Window     string          `json:"window"`
	Proxies    ProxyCount      `json:"proxies"`
	Rows       []metrics.Row   `json:"rows"`
	Notes      []metrics.Note  `json:"notes"`
	NotScraped []NotScraped    `json:"notScraped"`
	Traffic    float64         `json:"traffic"`
	Resets     int             `json:"resets"`
	Vanished   int             `json:"vanished"`
	Restarted  []string        `json:"restarted,omitempty"`
	Via        map[string]int  `json:"via"`
	InEffect   *InEffectReport `json:"inEffect,omitempty"`
}

// ProxyCount says how many pods were selected and how many were read twice.
type ProxyCount struct {
	Selected int `json:"selected"`
	Scraped  int `json:"scraped"`
}

// NotScraped is a pod that is not in the numbers, and why.
type NotScraped struct {
	Pod    string `json:"pod"`
	Reason string `json:"reason"`
}

// InEffectReport is the ServiceProfile in effect for the scraped proxies.
type InEffectReport struct {
	Source  string `json:"source"`
	Profile string `json:"profile,omitempty"`
	Routes  int    `json:"routes"`
	// PolicyRoutes: HTTPRoutes with the Service as parent.
	PolicyRoutes int `json:"policyRoutes"`
}

// Run resolves, scrapes and prints.
func (o *Options) Run(ctx context.Context) error {
	c, err := kube.NewClients(o.Flags)
	if err != nil {
		return err
	}
	ns := c.Namespace
	p, err := o.plan(ctx, c, ns)
	if err != nil {
		return err
	}
	pods := make([]*corev1.Pod, len(p.scraped.Pods))
	for i := range p.scraped.Pods {
		pods[i] = &p.scraped.Pods[i]
	}
	if len(pods) == 0 {
		return fmt.Errorf("%s has no pods in namespace %s: nothing to scrape", refOf(p.scraped), p.scraped.Namespace)
	}
	sc := &scrape.Scraper{Config: c.Config, Kube: c.Kube, Concurrency: o.Concurrency, Timeout: o.PodTimeout,
		Now: clock.Now, PortForward: portForward, Filter: &p.filter}
	prog := newProgress(o.Streams.ErrOut, !o.NoProgress)
	sc.Progress = prog.scraped

	before := sc.All(ctx, pods)
	prog.done()
	printed := 0
	for {
		prog.waiting(o.Window)
		select {
		case <-ctx.Done():
			prog.done()
			if printed == 0 {
				return &cli.Error{Code: cli.ExitInterrupted, Err: errors.New("interrupted before the second scrape: nothing to compare")}
			}
			return nil
		case <-clock.After(o.Window):
		}
		prog.done()
		after := sc.All(ctx, pods)
		prog.done()
		if ctx.Err() != nil {
			// Ctrl-C during a scrape: that round is incomplete, not printed.
			if printed == 0 {
				return &cli.Error{Code: cli.ExitInterrupted, Err: errors.New("interrupted during the second scrape: nothing to compare")}
			}
			return nil
		}
		rep := o.report(p, before, after)
		if printed > 0 && (o.Output == cli.OutputTable || o.Output == cli.OutputWide) {
			fmt.Fprintln(o.Streams.Out)
		}
		if err := o.render(rep); err != nil {
			return err
		}
		printed++
		if !o.Watch || ctx.Err() != nil {
			switch {
			case rep.Proxies.Scraped == 0:
				return fmt.Errorf("no proxy of %s could be scraped twice (%d pod(s), reasons above)", refOf(p.scraped), rep.Proxies.Selected)
			case len(rep.NotScraped) > 0:
				return &cli.Error{Code: cli.ExitIncomplete, Err: fmt.Errorf("%d of %d pod(s) not scraped: the numbers leave them out", len(rep.NotScraped), rep.Proxies.Selected)}
			}
			return nil
		}
		before = after
	}
}

func refOf(w *kube.Workload) string {
	return strings.ToLower(shortKind(w.Kind)) + "/" + w.Name
}

func shortKind(kind string) string {
	switch kind {
	case "Deployment":
		return "deploy"
	case "Service":
		return "svc"
	case "StatefulSet":
		return "sts"
	case "DaemonSet":
		return "ds"
	case "ReplicaSet":
		return "rs"
	}
	return kind
}

func (o *Options) plan(ctx context.Context, c *kube.Clients, ns string) (*plan, error) {
	target, err := kube.PodsFor(ctx, o.Flags, c.Kube, ns, o.args[0], "target")
	if err != nil {
		return nil, err
	}
	p := &plan{target: o.args[0], scraped: target, direction: "inbound"}
	svc := target.Service
	clientNS := target.Namespace
	switch {
	case o.To != "":
		p.direction = "outbound"
		_, name, _ := strings.Cut(o.To, "/")
		to, err := c.Kube.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, kube.Explain(err, fmt.Sprintf("get --to %s in namespace %s", o.To, ns))
		}
		svc = to
	case o.From != "":
		p.direction = "outbound"
		fns := o.FromNamespace
		if fns == "" {
			fns = target.Namespace
		}
		from, err := kube.PodsFor(ctx, o.Flags, c.Kube, fns, o.From, "--from")
		if err != nil {
			return nil, err
		}
		p.scraped = from
		clientNS = from.Namespace
	}
	p.service = svc
	p.filter = metrics.Filter{Direction: p.direction}
	p.facts = metrics.Facts{Scraped: scrapedName(p.scraped), Window: o.Window.String()}
	if svc == nil {
		p.facts.Target = "the proxies of " + refOf(target)
		return p, nil
	}
	if o.Port != 0 && !hasPort(svc, o.Port) {
		return nil, fmt.Errorf("svc/%s in namespace %s has no port %d", svc.Name, svc.Namespace, o.Port)
	}
	p.filter.Namespace, p.filter.Name, p.filter.Port = svc.Namespace, svc.Name, uint32(o.Port)
	p.filter.FQDN = profile.FQDN(svc.Name, svc.Namespace, o.ClusterDomain)
	p.facts.Service = true
	p.facts.Target = "svc/" + svc.Name + "." + svc.Namespace
	if o.Port != 0 {
		p.facts.Target += fmt.Sprintf(":%d", o.Port)
	}
	p.facts.PolicyRoutes = -1
	// The ServiceProfile in effect for the scraped proxies, with get's rules.
	cands, partial, err := kube.ListProfiles(ctx, c.Dynamic, p.filter.FQDN, []string{svc.Namespace, clientNS})
	if errors.Is(err, kube.ErrNoServiceProfileCRD) {
		cands, err = nil, nil // no CRD: no ServiceProfile anywhere
	}
	if err == nil && partial != nil && len(partial.Unreadable) > 0 {
		err = fmt.Errorf("serviceprofiles.linkerd.io are not readable in namespace %s (RBAC)", strings.Join(partial.Unreadable, ", "))
	}
	if err == nil {
		port := uint32(o.Port)
		if port == 0 && len(svc.Spec.Ports) > 0 {
			port = uint32(svc.Spec.Ports[0].Port)
		}
		out := expect.Expect(expect.Lookup{Service: kube.ToService(svc), Port: port, ClientNamespace: clientNS,
			ClusterDomain: o.ClusterDomain, Candidates: cands})
		if out.InEffect != nil {
			p.facts.Profile = out.InEffect.Namespace + "/" + out.InEffect.Name
			if out.InEffect.Profile != nil {
				p.facts.ProfileRoutes = len(out.InEffect.Profile.Spec.Routes)
			}
		}
		p.facts.ProfileSource = string(out.Source)
	} else {
		p.facts.ProfileUnknown = err.Error()
	}
	routes, unread := kube.HTTPRoutes(ctx, c.Discovery, c.Dynamic, []string{svc.Namespace, clientNS})
	if len(unread) > 0 {
		return p, nil // PolicyRoutes stays unknown (-1): no conclusion from routes that could not be listed
	}
	p.facts.PolicyRoutes = 0
	for _, r := range routes[model.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}] {
		if o.Port == 0 || r.Port == 0 || r.Port == uint32(o.Port) {
			p.facts.PolicyRoutes++
		}
	}
	return p, nil
}

func hasPort(svc *corev1.Service, port int) bool {
	for _, p := range svc.Spec.Ports {
		if int(p.Port) == port {
			return true
		}
	}
	return false
}

// scrapedName names what to restart: the pods' owning workloads.
func scrapedName(w *kube.Workload) string {
	if w.Kind != "Service" {
		return refOf(w)
	}
	seen := map[string]bool{}
	var names []string
	for i := range w.Pods {
		n := ownerOf(&w.Pods[i])
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return refOf(w)
	}
	return strings.Join(names, ", ")
}

// ownerOf is deploy/NAME for a pod of a Deployment's ReplicaSet
// (NAME-HASH), KIND/NAME of another owner, pod/NAME without one.
func ownerOf(pod *corev1.Pod) string {
	for _, o := range pod.OwnerReferences {
		if o.Controller == nil || !*o.Controller {
			continue
		}
		if o.Kind == "ReplicaSet" {
			if i := strings.LastIndexByte(o.Name, '-'); i > 0 {
				return "deploy/" + o.Name[:i]
			}
		}
		return strings.ToLower(shortKind(o.Kind)) + "/" + o.Name
	}
	return "pod/" + pod.Name
}

func (o *Options) report(p *plan, before, after []scrape.Result) *Report {
	target := p.target
	if p.service != nil {
		target = "svc/" + p.service.Name
	}
	rep := &Report{Target: target, Namespace: p.scraped.Namespace, Direction: p.direction, Scraped: refOf(p.scraped),
		Window: o.Window.String(), Via: map[string]int{}, NotScraped: []NotScraped{}}
	rep.Proxies.Selected = len(after)
	var pairs []metrics.Pair
	for i := range after {
		b, a := before[i], after[i]
		name := a.Pod.Namespace + "/" + a.Pod.Name
		switch {
		case a.Err != nil:
			rep.NotScraped = append(rep.NotScraped, NotScraped{Pod: name, Reason: a.Err.Error()})
			continue
		case b.Err != nil:
			rep.NotScraped = append(rep.NotScraped, NotScraped{Pod: name, Reason: "first scrape: " + b.Err.Error()})
			continue
		}
		rep.Via[a.Via]++
		pairs = append(pairs, metrics.Pair{Pod: name, Before: metrics.Scrape{At: b.At, Snap: b.Snap}, After: metrics.Scrape{At: a.At, Snap: a.Snap}})
	}
	rep.Proxies.Scraped = len(pairs)
	res := metrics.Compute(pairs, p.filter)
	rep.Rows = res.Rows
	if rep.Rows == nil {
		rep.Rows = []metrics.Row{}
	}
	rep.Traffic, rep.Resets, rep.Vanished, rep.Restarted = res.Traffic, res.Resets, res.Vanished, res.Restarted
	if len(pairs) > 0 {
		rep.Notes = metrics.Explain(res, p.direction, p.facts)
	}
	if rep.Notes == nil {
		rep.Notes = []metrics.Note{}
	}
	if p.facts.Service {
		rep.InEffect = &InEffectReport{Source: p.facts.ProfileSource, Profile: p.facts.Profile, Routes: p.facts.ProfileRoutes, PolicyRoutes: p.facts.PolicyRoutes}
	}
	return rep
}
