package completion

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/metadata"
)

// Timeout bounds one completion request to the cluster. A TAB press must not
// hang when the cluster is slow or unreachable.
var Timeout = 2 * time.Second

// maxNames caps what one list returns; a shell cannot show more usefully.
const maxNames = 500

// Kind lists accepted by CompleteResources, as plural resource names.
var (
	// Services are what `get`/`check` take.
	Services = []string{"services"}
	// Workloads are the targets Linkerd tap accepts (besides namespaces).
	Workloads = []string{"deployments", "statefulsets", "daemonsets", "replicasets",
		"replicationcontrollers", "jobs", "cronjobs", "pods"}
)

// kind is a resource the completer knows how to list without discovery.
type kind struct {
	gvr        schema.GroupVersionResource
	singular   string   // what the candidates use: "deployment/web"
	aliases    []string // what users type, besides plural and singular
	namespaced bool
}

// known is fixed so completion needs one request, not a discovery round trip.
var known = []kind{
	{schema.GroupVersionResource{Version: "v1", Resource: "services"}, "service", []string{"svc"}, true},
	{schema.GroupVersionResource{Version: "v1", Resource: "pods"}, "pod", []string{"po"}, true},
	{schema.GroupVersionResource{Version: "v1", Resource: "replicationcontrollers"}, "replicationcontroller", []string{"rc"}, true},
	{schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, "namespace", []string{"ns"}, false},
	{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, "deployment", []string{"deploy"}, true},
	{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}, "statefulset", []string{"sts"}, true},
	{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}, "daemonset", []string{"ds"}, true},
	{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}, "replicaset", []string{"rs"}, true},
	{schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}, "job", nil, true},
	{schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "cronjobs"}, "cronjob", []string{"cj"}, true},
	{schema.GroupVersionResource{Group: "linkerd.io", Version: "v1alpha2", Resource: "serviceprofiles"}, "serviceprofile", []string{"sp"}, true},
}

// lookup finds a known kind by plural, singular or alias (case-insensitive).
func lookup(name string) (kind, bool) {
	name = strings.ToLower(name)
	for _, k := range known {
		if name == k.gvr.Resource || name == k.singular {
			return k, true
		}
		for _, a := range k.aliases {
			if name == a {
				return k, true
			}
		}
	}
	return kind{}, false
}

// CompleteResources returns a cobra completion function offering names of
// the given kinds (plural, singular or short names; unknown ones are ignored)
// from the namespace selected by f (-n, or the kubeconfig context).
//
//   - one kind:        "<TAB>" and "s<TAB>" offer "svc/webapp" (the
//     commands take KIND/NAME; a bare name would be read as a type).
//   - several kinds:   "<TAB>" offers "deployment/", "pod/", ...; then
//     "deploy/w<TAB>" offers "deploy/webapp", keeping the prefix as typed.
//   - "deploy <TAB>":  after a kind word, bare names of that kind.
//
// Any failure (no kubeconfig, unreachable cluster, RBAC, timeout) silently
// offers nothing: completion must never print errors into the shell.
func CompleteResources(f genericclioptions.RESTClientGetter, kinds ...string) cobra.CompletionFunc {
	var allowed []kind
	for _, name := range kinds {
		if k, ok := lookup(name); ok {
			allowed = append(allowed, k)
		}
	}
	isAllowed := func(k kind) bool {
		for _, a := range allowed {
			if a.gvr == k.gvr {
				return true
			}
		}
		return false
	}
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		const noFiles = cobra.ShellCompDirectiveNoFileComp
		if len(allowed) == 0 {
			return nil, noFiles
		}
		// "kind/name" form.
		if typed, namePrefix, ok := strings.Cut(toComplete, "/"); ok {
			k, found := lookup(typed)
			if !found || !isAllowed(k) {
				return nil, noFiles
			}
			var out []cobra.Completion
			for _, n := range listNames(ctxOf(cmd), f, k, namePrefix) {
				out = append(out, typed+"/"+n)
			}
			return out, noFiles
		}
		// "kind name" form: the previous word named an allowed kind.
		if len(args) > 0 {
			if k, found := lookup(args[len(args)-1]); found && isAllowed(k) {
				return listNames(ctxOf(cmd), f, k, toComplete), noFiles
			}
		}
		if len(allowed) == 1 {
			k := allowed[0]
			prefix := k.singular
			if len(k.aliases) > 0 {
				prefix = k.aliases[0] // "svc", as the commands' help writes it
			}
			var out []cobra.Completion
			// Shells keep only candidates that start with the typed
			// text, so "web" completes nothing: type svc/ (or <TAB>).
			for _, n := range listNames(ctxOf(cmd), f, k, "") {
				if c := prefix + "/" + n; strings.HasPrefix(c, toComplete) {
					out = append(out, c)
				}
			}
			return out, noFiles
		}
		var out []cobra.Completion
		for _, k := range allowed {
			if strings.HasPrefix(k.singular+"/", toComplete) {
				out = append(out, k.singular+"/")
			}
		}
		return out, noFiles | cobra.ShellCompDirectiveNoSpace
	}
}

// CompleteNamespaces offers namespace names, for --namespace.
func CompleteNamespaces(f genericclioptions.RESTClientGetter) cobra.CompletionFunc {
	ns, _ := lookup("namespaces")
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return listNames(ctxOf(cmd), f, ns, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

func ctxOf(cmd *cobra.Command) context.Context {
	if cmd != nil && cmd.Context() != nil {
		return cmd.Context()
	}
	return context.Background()
}

// listNames lists the names of kind k that start with prefix, sorted; nil on
// any error. It uses the metadata API: names only, no object bodies.
func listNames(ctx context.Context, f genericclioptions.RESTClientGetter, k kind, prefix string) []string {
	if f == nil {
		return nil
	}
	cfg, err := f.ToRESTConfig()
	if err != nil {
		return nil
	}
	cfg = metadata.ConfigFor(cfg)
	cfg.Timeout = Timeout
	client, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	var list *metav1.PartialObjectMetadataList
	if k.namespaced {
		ns, _, err := f.ToRawKubeConfigLoader().Namespace()
		if err != nil {
			return nil
		}
		list, err = client.Resource(k.gvr).Namespace(ns).List(ctx, metav1.ListOptions{Limit: maxNames})
		if err != nil {
			return nil
		}
	} else {
		list, err = client.Resource(k.gvr).List(ctx, metav1.ListOptions{Limit: maxNames})
		if err != nil {
			return nil
		}
	}
	var names []string
	for _, item := range list.Items {
		if strings.HasPrefix(item.Name, prefix) {
			names = append(names, item.Name)
		}
	}
	sort.Strings(names)
	return names
}
