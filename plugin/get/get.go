// Package get implements `kubectl profiles get`: the profile a proxy really
// gets from the destination service, side by side with the ServiceProfile
// resources it should come from.
package get

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/completion"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/destination"
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
	Port          int
	From          string
	FromNamespace string
	Output        string
	AllNamespaces bool
	AllServices   bool
	Concurrency   int
	NoProgress    bool

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
	f.StringVarP(&o.Output, "output", "o", "", "output format: table, wide, json or yaml")
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "audit Services in every namespace")
	f.BoolVar(&o.AllServices, "all-services", false, "when auditing, include Services that have no ServiceProfile")
	f.IntVar(&o.Concurrency, "concurrency", 32, "how many lookups run at once over the single gRPC connection")
	f.BoolVar(&o.NoProgress, "no-progress", false, "do not print progress on stderr during long audits")
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
	if o.FromNamespace != "" {
		if errs := validation.IsDNS1123Label(o.FromNamespace); len(errs) > 0 {
			return cli.Usagef("--from-namespace %q is not a namespace name: %s", o.FromNamespace, errs[0])
		}
	}
	if o.Concurrency < 1 {
		return cli.Usagef("--concurrency must be at least 1")
	}
	if len(o.args) > 0 && o.AllNamespaces {
		return cli.Usagef("-A audits every Service: do not also name Services")
	}
	if len(o.args) > 0 && o.AllServices {
		return cli.Usagef("--all-services only applies when auditing (no Service names)")
	}
	return nil
}

// Run gathers, looks up and prints.
func (o *Options) Run(ctx context.Context) error {
	env, err := newEnv(ctx, o)
	if err != nil {
		return err
	}
	defer env.close()
	if len(o.args) == 0 {
		return o.runAudit(ctx, env)
	}
	targets, err := env.resolveServices(ctx, o.args)
	if err != nil {
		return err
	}
	reports, err := env.reportAll(ctx, targets, nil)
	if err != nil {
		return err
	}
	switch o.Output {
	case cli.OutputJSON, cli.OutputYAML:
		var v interface{} = reports
		if len(reports) == 1 {
			v = reports[0]
		}
		if o.Output == cli.OutputJSON {
			return cli.WriteJSON(o.Streams.Out, v)
		}
		return cli.WriteYAML(o.Streams.Out, v)
	}
	for i, r := range reports {
		if i > 0 {
			fmt.Fprintln(o.Streams.Out)
		}
		if err := Render(o.Streams.Out, r, o.Output == cli.OutputWide, cli.TermOf(o.Streams.Out)); err != nil {
			return err
		}
	}
	return nil
}
