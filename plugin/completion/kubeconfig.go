package completion

import (
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// RegisterConfigFlags adds completion to the kubectl flags that f registered
// on cmd (usually the root's persistent flags): --namespace from the cluster,
// --context, --cluster and --user from the kubeconfig. Flags that cmd does
// not have are skipped.
func RegisterConfigFlags(cmd *cobra.Command, f *genericclioptions.ConfigFlags) {
	register := func(flag string, fn cobra.CompletionFunc) {
		if cmd.Flag(flag) == nil {
			return
		}
		_ = cmd.RegisterFlagCompletionFunc(flag, fn)
	}
	register("namespace", CompleteNamespaces(f))
	register("context", kubeconfigNames(f, func(c kubeconfigView) []string { return c.contexts }))
	register("cluster", kubeconfigNames(f, func(c kubeconfigView) []string { return c.clusters }))
	register("user", kubeconfigNames(f, func(c kubeconfigView) []string { return c.users }))
}

type kubeconfigView struct{ contexts, clusters, users []string }

// kubeconfigNames completes from the merged kubeconfig, without the network.
func kubeconfigNames(f genericclioptions.RESTClientGetter, pick func(kubeconfigView) []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		raw, err := f.ToRawKubeConfigLoader().RawConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var v kubeconfigView
		for n := range raw.Contexts {
			v.contexts = append(v.contexts, n)
		}
		for n := range raw.Clusters {
			v.clusters = append(v.clusters, n)
		}
		for n := range raw.AuthInfos {
			v.users = append(v.users, n)
		}
		var out []string
		for _, n := range pick(v) {
			if strings.HasPrefix(n, toComplete) {
				out = append(out, n)
			}
		}
		sort.Strings(out)
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
