package version

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

// NewCmd returns the `version` command.
func NewCmd(streams genericiooptions.IOStreams) *cobra.Command {
	var output string
	var short bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the plugin version, build and Linkerd proxy API version",
		Long: `Print the plugin version, the commit and date it was built from, the Go
toolchain, and the linkerd2-proxy-api version it speaks to the Linkerd control
plane. It does not contact the cluster.`,
		Example: `  kubectl profiles version
  kubectl profiles version --short
  kubectl profiles version -o json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("version takes no arguments, got %q", args)
			}
			return nil
		},
		// No kube client, no kubeconfig: this must work anywhere, instantly.
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := Get()
			switch {
			case short && output == "":
				_, err := streams.Out.Write([]byte(info.Version + "\n"))
				return err
			case short:
				return cli.Usagef("--short cannot be combined with -o %s", output)
			}
			switch output {
			case "":
				return WriteText(streams.Out, info)
			case "json":
				return WriteJSON(streams.Out, info)
			default:
				return cli.Usagef("unknown output format %q for version: use -o json, or no -o for text", output)
			}
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Output format: json (default: text)")
	cmd.Flags().BoolVar(&short, "short", false, "Print only the version")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}
