// Package get implements `kubectl profiles get`: the profile a proxy really
// gets from the destination service, side by side with the ServiceProfile
// resources it should come from.
package get

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/completion"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/destination"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
	ppolicy "github.com/kubectl-profiles/kubectl-profiles/plugin/policy"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

const example = `  # The profile clients in the service's namespace get, for every port
  kubectl profiles get svc/webapp -n books

  # As seen by a pod of deploy/traffic in namespace foobar (client-side overrides apply)
  kubectl profiles get svc/webapp -n books --from deploy/traffic --from-namespace foobar

  # One port, as any client in namespace foobar, as JSON for scripts
  kubectl profiles get service webapp -n books --port 7000 --from-namespace foobar -o json

  # Audit every Service that has a ServiceProfile, in every namespace
  kubectl profiles get -A

  # Talk to a destination service you already reach (no port-forward)
  kubectl profiles get svc/webapp --destination-addr 127.0.0.1:8086`

// Options are the flags of get.
type Options struct {
	Flags   *genericclioptions.ConfigFlags
	Streams genericiooptions.IOStreams

	Dest          destination.Flags
	Policy        ppolicy.Flags
	Port          int
	From          string
	FromNamespace string
	Output        string
	AllNamespaces bool
	AllServices   bool
	Concurrency   int
	NoProgress    bool

	watch watchFlags // watch.go, ctrlplane.go

	args []string
}

// NewCmd builds the get command.
func NewCmd(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{Flags: flags, Streams: streams}
	cmd := &cobra.Command{
		Use:   "get [svc/NAME | service NAME]...",
		Short: "Show the profile the destination serves for a Service, next to the ServiceProfiles it comes from",
		Long: `Dials Linkerd's destination service as a proxy would (GetProfile with a context token for the chosen
client), reads the ServiceProfiles named after the service in every namespace, decides which one the
destination should serve, and shows the routes in effect, every difference between what is served and
what the ServiceProfile predicts (DRIFT), and findings that explain them.

Without a name, audits every Service that has a ServiceProfile in -n NAMESPACE, or everywhere with -A.`,
		Example:           example,
		ValidArgsFunction: completion.CompleteResources(flags, completion.Services...),
		RunE:              cli.RunE(&o.args, o.Validate, o.Run),
	}
	f := cmd.Flags()
	f.IntVar(&o.Port, "port", 0, "look up only this service port (default: every port of the Service)")
	f.StringVar(&o.From, "from", "", "look up as this pod or workload (KIND/NAME in --from-namespace): the token carries its ns, pod and nodeName")
	f.StringVar(&o.FromNamespace, "from-namespace", "", "look up as a client in this namespace (token {\"ns\":NS}); default: the service's namespace")
	o.Dest.AddFlags(f, "how long to wait for each lookup (the destination stays silent on profiles it cannot translate)")
	o.Policy.AddFlags(f)
	f.StringVarP(&o.Output, "output", "o", "", "output format: table, wide, json or yaml")
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "audit Services in every namespace")
	f.BoolVar(&o.AllServices, "all-services", false, "when auditing, include Services that have no ServiceProfile")
	f.IntVar(&o.Concurrency, "concurrency", 32, "how many lookups run at once over the single gRPC connection")
	f.BoolVar(&o.NoProgress, "no-progress", false, "do not print progress on stderr during long audits")
	o.addWatchFlags(f)
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
	if o.Port < 0 || o.Port > 65535 {
		return cli.Usagef("--port %d is not a valid port", o.Port)
	}
	if err := o.Dest.Validate(); err != nil {
		return err
	}
	if err := o.Policy.Validate(); err != nil {
		return err
	}
	if o.FromNamespace != "" {
		if errs := validation.IsDNS1123Label(o.FromNamespace); len(errs) > 0 {
			return cli.Usagef("--from-namespace %q is not a namespace name: %s", o.FromNamespace, errs[0])
		}
	}
	if o.From != "" {
		if err := checkFrom(o.From); err != nil {
			return err
		}
	}
	if o.Concurrency < 1 {
		return cli.Usagef("--concurrency must be at least 1")
	}
	if len(o.args) > 0 && o.AllNamespaces {
		return cli.Usagef("-A audits every Service: do not also name Services")
	}
	if len(o.args) == 0 && o.From != "" && o.FromNamespace == "" {
		return cli.Usagef("--from in an audit needs --from-namespace: every lookup is made as that pod, in that namespace")
	}
	if len(o.args) > 0 && o.AllServices {
		return cli.Usagef("--all-services only applies when auditing (no Service names)")
	}
	return o.validateWatch()
}

// checkFrom accepts --from KIND/NAME where KIND has pods (a pod or a
// workload with a pod selector), as tap targets are spelled.
func checkFrom(v string) error {
	_, name, ok := strings.Cut(v, "/")
	t, err := tapclient.ParseTarget("x", v)
	if !ok || name == "" || err != nil || t.Type == tapclient.TypeNamespace || t.Type == tapclient.TypeCronJob {
		return cli.Usagef("--from %q is not KIND/NAME of a pod or a workload (po, deploy, sts, ds, rs, rc, job), e.g. deploy/traffic", v)
	}
	return nil
}

// Run gathers, looks up and prints.
func (o *Options) Run(ctx context.Context) error {
	c, err := kube.NewClients(o.Flags)
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	eng := &Engine{
		Kube: c.Kube, Dynamic: c.Dynamic,
		Connect: func(ctx context.Context) (Lookuper, error) {
			cl, err := o.Dest.Connect(ctx, c.Config, c.Kube)
			if err != nil {
				return nil, err
			}
			return cl, nil
		},
		PodFor: func(ctx context.Context, ns, ref string) (*corev1.Pod, error) {
			return kube.PodFor(ctx, o.Flags, c.Kube, ns, ref)
		},
		Config: Config{Port: o.Port, From: o.From, FromNamespace: o.FromNamespace, ClusterDomain: o.Dest.ClusterDomain,
			Timeout: o.Dest.Timeout, Concurrency: o.Concurrency, AllServices: o.AllServices},
		Warn: func(msg string) { fmt.Fprintln(o.Streams.ErrOut, cli.OneLine(msg)) },
		Policy: &PolicyConfig{
			Connect: func(ctx context.Context) (PolicyLooker, error) {
				cl, err := o.Policy.Connect(ctx, c.Config, c.Kube, &o.Dest)
				if err != nil {
					return nil, err
				}
				return cl, nil
			},
			ReadCluster: func(ctx context.Context, namespaces []string) (*dpolicy.Cluster, []string, error) {
				return ppolicy.ReadCluster(ctx, c.Kube, c.Discovery, c.Dynamic, namespaces)
			},
			ControlPlane: func(ctx context.Context) dpolicy.ControlPlane {
				return ppolicy.ReadControlPlane(ctx, c.Kube, o.Dest.LinkerdNS)
			},
			NoPolicy: ppolicy.ErrNoPolicy,
		},
	}
	defer eng.Close()
	defer cancel() // first: a dial still in flight ends now
	// The destination is dialled while the API server is read.
	eng.Start(runCtx)
	o.watch.cp = o.startControlPlane(runCtx, c) // ctrlplane.go
	if len(o.args) == 0 {
		return interrupted(ctx, o.runAudit(runCtx, eng, c.Namespace))
	}
	svcs, err := o.resolveServices(runCtx, c.Kube, c.Namespace)
	if err != nil {
		return interrupted(ctx, err)
	}
	if o.watch.Watch {
		return o.runWatch(runCtx, eng, svcs) // Ctrl-C ends it with exit 0
	}
	res, err := eng.Get(runCtx, svcs)
	if err != nil {
		return interrupted(ctx, err)
	}
	reports := res.Reports
	o.printLines(o.applyControlPlane(o.watch.wait(), reports, false))
	switch o.Output {
	case cli.OutputJSON, cli.OutputYAML:
		var v interface{} = reports
		if len(reports) == 1 {
			v = reports[0]
		}
		if o.Output == cli.OutputJSON {
			err = cli.WriteJSON(o.Streams.Out, v)
		} else {
			err = cli.WriteYAML(o.Streams.Out, v)
		}
	default:
		for i, r := range reports {
			if i > 0 {
				fmt.Fprintln(o.Streams.Out)
			}
			if err = Render(o.Streams.Out, r, o.Output == cli.OutputWide, cli.TermOf(o.Streams.Out)); err != nil {
				break
			}
		}
	}
	if err != nil {
		return err
	}
	return incomplete(res)
}

// interrupted turns any error of a run that Ctrl-C ended into
// ErrInterrupted.
func interrupted(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ErrInterrupted
	}
	return err
}

// incomplete is the exit status of a run that printed a report: 4 when
// some lookups failed or stayed silent against the prediction.
func incomplete(res *Result) error {
	if res.DomainMismatch != "" {
		return &cli.Error{Code: cli.ExitIncomplete, Err: errors.New(res.DomainMismatch)}
	}
	s := res.Stats
	if !s.Incomplete() {
		return nil
	}
	if s.Failed+s.SilentUnexpected == 0 {
		return &cli.Error{Code: cli.ExitIncomplete, Err: fmt.Errorf(
			"%d of %d policy lookups failed, so MODE and the policy routes are predicted, not seen (first: %s); check the policy controller (--policy-addr or the port-forward to port 8090 of linkerd-destination) and run again",
			s.PolicyFailed, s.PolicyLookups, s.FirstPolicyFailure)}
	}
	return &cli.Error{Code: cli.ExitIncomplete, Err: fmt.Errorf(
		"%d of %d lookups failed or stayed silent unexpectedly, so the report is incomplete (first: %s); check the destination (--destination-addr or the port-forward, the linkerd-destination logs) and run again",
		s.Failed+s.SilentUnexpected, s.Lookups, s.FirstFailure)}
}

// resolveServices reads svc/NAME and `service NAME...` directly (no
// discovery); any other form goes through kubectl's resource builder.
func (o *Options) resolveServices(ctx context.Context, cs kubernetes.Interface, ns string) ([]*corev1.Service, error) {
	svcs, ok, err := ResolveServices(ctx, cs, ns, o.args)
	if ok {
		if kerrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s in namespace %q (check the name, or pass -n NAMESPACE)", cli.OneLine(err.Error()), ns)
		}
		if err != nil {
			return nil, kube.Explain(err, "get "+strings.Join(o.args, " "))
		}
		return svcs, nil
	}
	// A kind that is not a Service is a usage error whether or not the
	// object exists (deploy/webapp and deploy/nope alike).
	if mapper, err := o.Flags.ToRESTMapper(); err == nil {
		for _, a := range o.args {
			typ, name, ok := strings.Cut(a, "/")
			if !ok {
				continue
			}
			gvr, err := mapper.ResourceFor(schema.GroupVersionResource{Resource: typ})
			if err != nil || gvr.Resource == "services" {
				continue
			}
			gvk, err := mapper.KindFor(gvr)
			if err != nil {
				continue
			}
			return nil, notAService(gvk.Kind, name)
		}
	}
	r := resource.NewBuilder(o.Flags).
		WithScheme(scheme.Scheme, scheme.Scheme.PrioritizedVersionsAllGroups()...).
		NamespaceParam(ns).DefaultNamespace().
		ResourceTypeOrNameArgs(true, o.args...).
		Flatten().Latest().Do()
	infos, err := r.Infos()
	if err != nil {
		if kerrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s in namespace %q (check the name, or pass -n NAMESPACE)", cli.OneLine(err.Error()), ns)
		}
		if strings.Contains(err.Error(), "doesn't have a resource type") {
			return nil, cli.Usagef("%v: name Services as svc/NAME or service NAME", err)
		}
		return nil, kube.Explain(err, "get "+strings.Join(o.args, " "))
	}
	var out []*corev1.Service
	for _, info := range infos {
		svc, ok := info.Object.(*corev1.Service)
		if !ok {
			return nil, notAService(info.Mapping.GroupVersionKind.Kind, info.Name)
		}
		out = append(out, svc)
	}
	return out, nil
}

func notAService(kind, name string) error {
	return cli.Usagef("get works on Services, not %s %q: for workloads use `kubectl profiles tap` or `get --from %s/%s`",
		kind, name, strings.ToLower(kind), name)
}

// runAudit audits -n NAMESPACE or, with -A, every namespace, and prints
// the table (or JSON/YAML) and a summary line on stderr.
func (o *Options) runAudit(ctx context.Context, eng *Engine, ns string) error {
	fallback := []string{ns}
	if o.FromNamespace != "" {
		fallback = append(fallback, o.FromNamespace)
	}
	if o.AllNamespaces {
		ns, fallback = metav1.NamespaceAll, nil
	}
	progress := o.progress()
	eng.Progress = progress.begin
	res, err := eng.Audit(ctx, ns, fallback)
	progress.done()
	if err != nil {
		return err
	}
	reports := res.Reports
	cpLines := o.applyControlPlane(o.watch.wait(), reports, true)
	switch o.Output {
	case cli.OutputJSON:
		err = cli.WriteJSON(o.Streams.Out, reports)
	case cli.OutputYAML:
		err = cli.WriteYAML(o.Streams.Out, reports)
	default:
		if len(reports) == 0 {
			where := "namespace " + ns
			if ns == "" {
				where = "any namespace"
			}
			fmt.Fprintf(o.Streams.ErrOut, "No Service with a ServiceProfile in %s (use --all-services to audit every Service).\n", where)
			return incomplete(res)
		}
		err = cli.Table(o.Streams.Out, SummaryHeader(o.Output == cli.OutputWide), SummaryRows(reports, o.Output == cli.OutputWide), cli.TermOf(o.Streams.Out).Width)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(o.Streams.ErrOut, res.Stats.Summary())
	o.printLines(cpLines)
	return incomplete(res)
}
