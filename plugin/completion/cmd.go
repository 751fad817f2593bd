package completion

import (
	"io"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

// HelperName is the executable kubectl runs to complete `kubectl profiles`.
const HelperName = "kubectl_complete-profiles"

// HelperScript is the content of HelperName: it hands the words to cobra's
// hidden __complete command, whose output format kubectl understands.
const HelperScript = "#!/bin/sh\nkubectl profiles __complete \"$@\"\n"

// binaryName is what the generated shell scripts complete: the plugin binary
// itself, as run directly (`kubectl-profiles get ...`). Completing
// `kubectl profiles ...` goes through kubectl and HelperScript instead.
const binaryName = "kubectl-profiles"

var shells = []string{"bash", "zsh", "fish", "powershell", "helper"}

// NewCmd returns the `completion` command. Added to the root, it replaces
// cobra's default one (cobra only adds its own when none exists).
func NewCmd(streams genericiooptions.IOStreams) *cobra.Command {
	var noDesc bool
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell|helper",
		Short: "Print a shell completion script",
		Long: `Print a shell completion script.

There are two ways to complete this plugin:

  kubectl profiles <TAB>   kubectl (1.26 or newer) completes plugin arguments by
                           running "kubectl_complete-profiles" from your PATH.
                           The krew archive ships it next to the binary; or write
                           it with "kubectl profiles completion helper". kubectl's
                           own completion must be set up ("kubectl completion -h").

  kubectl-profiles <TAB>   the bash, zsh, fish and powershell scripts complete the
                           plugin binary when you run it directly.

Completion of names (services, deployments, namespaces...) asks the cluster of
your current context, with a short timeout; if it cannot be reached, nothing is
offered.`,
		Example: `  # kubectl profiles <TAB> (kubectl 1.26+): put the helper on your PATH, e.g. next to krew's links
  kubectl profiles completion helper > "${KREW_ROOT:-$HOME/.krew}/bin/kubectl_complete-profiles"
  chmod +x "${KREW_ROOT:-$HOME/.krew}/bin/kubectl_complete-profiles"

  # kubectl-profiles <TAB> in the current bash session
  source <(kubectl profiles completion bash)

  # zsh, for every new shell
  kubectl profiles completion zsh > "${fpath[1]}/_kubectl-profiles"

  # fish
  kubectl profiles completion fish > ~/.config/fish/completions/kubectl-profiles.fish

  # PowerShell
  kubectl profiles completion powershell | Out-String | Invoke-Expression`,
		ValidArgs:             shells,
		DisableFlagsInUseLine: true,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("completion needs exactly one shell: bash, zsh, fish, powershell or helper")
			}
			if err := cobra.OnlyValidArgs(c, args); err != nil {
				return cli.Usagef("%v", err)
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			return Write(streams.Out, c.Root(), args[0], !noDesc)
		},
	}
	cmd.Flags().BoolVar(&noDesc, "no-descriptions", false, "Leave descriptions out of the completions")
	return cmd
}

// Write prints the completion script for shell, generated from root.
func Write(w io.Writer, root *cobra.Command, shell string, descriptions bool) error {
	if shell == "helper" {
		_, err := io.WriteString(w, HelperScript)
		return err
	}
	// cobra names the completed program after root.Use ("profiles"); the
	// scripts must complete the binary's real name. Restore it afterwards.
	saved := root.Use
	root.Use = binaryName
	defer func() { root.Use = saved }()
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(w, descriptions)
	case "zsh":
		if descriptions {
			return root.GenZshCompletion(w)
		}
		return root.GenZshCompletionNoDesc(w)
	case "fish":
		return root.GenFishCompletion(w, descriptions)
	case "powershell":
		if descriptions {
			return root.GenPowerShellCompletionWithDesc(w)
		}
		return root.GenPowerShellCompletion(w)
	}
	return cli.Usagef("unknown shell %q: use bash, zsh, fish, powershell or helper", shell)
}
