package get

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/report"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/destination"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
)

// env holds the clients of one run. The destination connection is opened
// once, on first use, and shared by every lookup.
type env struct {
	o    *Options
	cfg  *rest.Config
	cs   kubernetes.Interface
	dyn  dynamic.Interface
	dc   discovery.DiscoveryInterface
	ns   string
	dest *destination.Client
	sem  chan struct{}
	// warned dedups warnings across the Services of one run.
	warned map[string]bool
	// Per-run caches, keyed by the namespaces read: several Services in the
	// same namespaces cost one round of list calls.
	routesCache map[string]map[report.NamespacedName][]report.HTTPRoute
	nearbyCache map[string]nearbyFacts
}

type nearbyFacts struct {
	names []report.NamespacedName
	known map[report.NamespacedName]bool
}

func (e *env) httpRoutes(ctx context.Context, namespaces []string) map[report.NamespacedName][]report.HTTPRoute {
	key := strings.Join(namespaces, ",")
	if r, ok := e.routesCache[key]; ok {
		return r
	}
	if e.routesCache == nil {
		e.routesCache = map[string]map[report.NamespacedName][]report.HTTPRoute{}
	}
	r := kube.HTTPRoutes(ctx, e.dc, e.dyn, namespaces)
	e.routesCache[key] = r
	return r
}

func newEnv(ctx context.Context, o *Options) (*env, error) {
	c, err := kube.NewClients(o.Flags)
	if err != nil {
		return nil, err
	}
	return &env{o: o, cfg: c.Config, cs: c.Kube, dyn: c.Dynamic, dc: c.Discovery, ns: c.Namespace, sem: make(chan struct{}, o.Concurrency)}, nil
}

// warn prints a warning line on stderr once per run.
func (e *env) warn(msg string) {
	if msg == "" || e.warned[msg] {
		return
	}
	if e.warned == nil {
		e.warned = map[string]bool{}
	}
	e.warned[msg] = true
	fmt.Fprintln(e.o.Streams.ErrOut, msg)
}

func (e *env) close() {
	if e.dest != nil {
		_ = e.dest.Close()
	}
}

func (e *env) connect(ctx context.Context) error {
	if e.dest != nil {
		return nil
	}
	if err := kube.CheckServiceProfileCRD(e.dc); err != nil {
		return err
	}
	c, err := e.o.Dest.Connect(ctx, e.cfg, e.cs)
	if err != nil {
		return err
	}
	e.dest = c
	return nil
}

// resolveServices resolves svc/NAME, service NAME, ... with kubectl's rules.
func (e *env) resolveServices(ctx context.Context, args []string) ([]*corev1.Service, error) {
	r := resource.NewBuilder(e.o.Flags).
		WithScheme(scheme.Scheme, scheme.Scheme.PrioritizedVersionsAllGroups()...).
		NamespaceParam(e.ns).DefaultNamespace().
		ResourceTypeOrNameArgs(true, args...).
		Flatten().Latest().Do()
	infos, err := r.Infos()
	if err != nil {
		if kerrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s in namespace %q (check the name, or pass -n NAMESPACE)", cli.OneLine(err.Error()), e.ns)
		}
		if strings.Contains(err.Error(), "doesn't have a resource type") {
			return nil, cli.Usagef("%v: name Services as svc/NAME or service NAME", err)
		}
		return nil, kube.Explain(err, "get "+strings.Join(args, " "))
	}
	var out []*corev1.Service
	for _, info := range infos {
		svc, ok := info.Object.(*corev1.Service)
		if !ok {
			kind := info.Mapping.GroupVersionKind.Kind
			return nil, cli.Usagef("get works on Services, not %s %q: for workloads use `kubectl profiles tap` or `get --from %s/%s`",
				kind, info.Name, strings.ToLower(kind), info.Name)
		}
		out = append(out, svc)
	}
	return out, nil
}

// clientFor builds the fake proxy's identity for lookups of svc.
func (e *env) clientFor(ctx context.Context, svc *corev1.Service) (report.Client, destination.Token, error) {
	ns := e.o.FromNamespace
	if ns == "" {
		ns = svc.Namespace
	}
	tok := destination.Token{Namespace: ns}
	c := report.Client{Namespace: ns}
	if e.o.From != "" {
		pod, err := kube.PodFor(ctx, e.o.Flags, e.cs, ns, e.o.From)
		if err != nil {
			return c, tok, err
		}
		tok.Pod, tok.NodeName = pod.Name, pod.Spec.NodeName
		c.Pod = pod.Name
	}
	c.Token = tok.String()
	return c, tok, nil
}

// reportAll builds one report per Service. all, when non-nil, holds every
// ServiceProfile of the cluster (audit mode); otherwise profiles are listed
// per Service.
func (e *env) reportAll(ctx context.Context, svcs []*corev1.Service, all []expect.Candidate) ([]report.Report, error) {
	if err := e.connect(ctx); err != nil {
		return nil, err
	}
	inputs := make([]report.Input, len(svcs))
	tokens := make([]destination.Token, len(svcs))
	for i, svc := range svcs {
		in, tok, err := e.input(ctx, svc, all)
		if err != nil {
			return nil, err
		}
		inputs[i], tokens[i] = in, tok
	}
	e.lookupAll(ctx, inputs, tokens, nil)
	out := make([]report.Report, len(inputs))
	for i := range inputs {
		out[i] = report.Build(inputs[i])
	}
	return out, nil
}

func (e *env) input(ctx context.Context, svc *corev1.Service, all []expect.Candidate) (report.Input, destination.Token, error) {
	client, tok, err := e.clientFor(ctx, svc)
	if err != nil {
		return report.Input{}, tok, err
	}
	s := kube.ToService(svc)
	fqdn := profile.FQDN(svc.Name, svc.Namespace, e.o.Dest.ClusterDomain)
	in := report.Input{Service: s, Client: client, ClusterDomain: e.o.Dest.ClusterDomain}

	namespaces := []string{svc.Namespace, client.Namespace}
	if all != nil {
		for _, c := range all {
			if c.Name == fqdn {
				in.Candidates = append(in.Candidates, c)
			}
		}
	} else {
		cands, partial, err := kube.ListProfiles(ctx, e.dyn, fqdn, namespaces)
		if err != nil {
			return in, tok, err
		}
		e.warn(partial.Warning("client-side overrides in other namespaces are not shown"))
		in.Candidates = cands
		in.NearbyProfiles, in.KnownServices = e.nearby(ctx, namespaces)
		in.HTTPRoutes = e.httpRoutes(ctx, namespaces)[report.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}]
	}

	if e.o.Port != 0 {
		if !s.HasPort(uint32(e.o.Port)) {
			return in, tok, fmt.Errorf("port %d is not a port of Service %s/%s (ports: %s): pass one of them to --port",
				e.o.Port, svc.Namespace, svc.Name, ports(s))
		}
		in.Lookups = []report.PortLookup{{Port: uint32(e.o.Port)}}
	} else {
		for _, p := range s.Ports {
			in.Lookups = append(in.Lookups, report.PortLookup{Port: p.Port})
		}
	}
	return in, tok, nil
}

// nearby reads profile and service names in the given namespaces, for
// near-miss detection. Unreadable namespaces are skipped: this only sharpens
// a warning.
func (e *env) nearby(ctx context.Context, namespaces []string) ([]report.NamespacedName, map[report.NamespacedName]bool) {
	key := strings.Join(namespaces, ",")
	if f, ok := e.nearbyCache[key]; ok {
		return f.names, f.known
	}
	names, known := e.listNearby(ctx, namespaces)
	if e.nearbyCache == nil {
		e.nearbyCache = map[string]nearbyFacts{}
	}
	e.nearbyCache[key] = nearbyFacts{names, known}
	return names, known
}

func (e *env) listNearby(ctx context.Context, namespaces []string) ([]report.NamespacedName, map[report.NamespacedName]bool) {
	var names []report.NamespacedName
	known := map[report.NamespacedName]bool{}
	seen := map[string]bool{}
	for _, ns := range namespaces {
		if seen[ns] {
			continue
		}
		seen[ns] = true
		list, err := kube.ProfileNames(ctx, e.dyn, ns)
		if err == nil {
			for _, n := range list {
				names = append(names, report.NamespacedName{Namespace: ns, Name: n})
			}
		}
		svcs, err := kube.ServiceNames(ctx, e.cs, ns)
		if err == nil {
			for _, n := range svcs {
				known[report.NamespacedName{Namespace: ns, Name: n}] = true
			}
		}
	}
	return names, known
}

// lookupAll runs every GetProfile concurrently, bounded by --concurrency.
// Each lookup costs at most --timeout and never blocks the others.
func (e *env) lookupAll(ctx context.Context, inputs []report.Input, tokens []destination.Token, progress func()) {
	var wg sync.WaitGroup
	for i := range inputs {
		for j := range inputs[i].Lookups {
			l := &inputs[i].Lookups[j]
			fqdn := profile.FQDN(inputs[i].Service.Name, inputs[i].Service.Namespace, e.o.Dest.ClusterDomain)
			tok := tokens[i]
			wg.Add(1)
			e.sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-e.sem }()
				l.Served, l.Err = e.dest.GetProfile(ctx, destination.Path(fqdn, l.Port), tok, e.o.Dest.Timeout)
				if progress != nil {
					progress()
				}
			}()
		}
	}
	wg.Wait()
}

func ports(s expect.Service) string {
	var ps []string
	for _, p := range s.Ports {
		ps = append(ps, fmt.Sprint(p.Port))
	}
	sort.Strings(ps)
	return strings.Join(ps, ", ")
}
