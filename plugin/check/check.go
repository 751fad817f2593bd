// Package check implements `kubectl profiles check`: analyzers that find
// ServiceProfiles the control plane rejects, ignores in part, or that the
// proxy drops or never uses, in the cluster or in files.
package check

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-profiles/kubectl-profiles/diag/analyze"
	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

const example = `  # Every ServiceProfile in the current namespace, checked against the cluster
  kubectl profiles check

  # Every ServiceProfile in the cluster; fail (exit 3) on warnings too
  kubectl profiles check -A --fail-on warning

  # Files before applying them (no cluster needed); directories recurse, - is stdin
  kubectl profiles check -f profiles/ -f extra.yaml
  helm template my-chart | kubectl profiles check -f -

  # Files, plus the checks that need the cluster (Services, opaque ports, HTTPRoutes)
  kubectl profiles check -f profiles/ --cluster -n books

  # Machine-readable findings, and the list of every code
  kubectl profiles check -A -o json
  kubectl profiles check --list-codes`

// Output formats of check.
const (
	outputText     = "text"
	outputMarkdown = "markdown"
)

// Options are the flags of check.
type Options struct {
	Flags   *genericclioptions.ConfigFlags
	Streams genericiooptions.IOStreams

	AllNamespaces bool
	Files         []string
	Output        string
	FailOn        string
	ListCodes     bool
	UseCluster    bool
	ClusterDomain string
	Timeout       time.Duration

	failOn finding.Level
	args   []string
	// unread is what the cluster did not let the run read (one line
	// each): the summary must not read as an all-clear.
	unread []string
}

// NewCmd builds the check command.
func NewCmd(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{Flags: flags, Streams: streams}
	cmd := &cobra.Command{
		Use:   "check [-n NAMESPACE | -A] [-f FILE|DIR|-]...",
		Short: "Find ServiceProfiles that are rejected, ignored, dropped by the proxy or never used",
		Long: `Runs analyzers over ServiceProfiles, in the cluster (every profile in -n NAMESPACE, or everywhere with -A)
or in files (-f, repeatable; directories recurse; - reads stdin; multi-document YAML and List objects).
Each finding has a stable code (see --list-codes), a level and the place it is about.

Levels: error (the profile or a route does not work), warning (it works, but not as the author likely
meant), info. File mode runs the analyzers that need no cluster; add --cluster to also check the
Services, opaque ports, HTTPRoutes and other ServiceProfiles of the cluster.

Exit status: 0 no finding reached --fail-on, 3 some did, 1 could not run, 2 bad usage.`,
		Example: example,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("check takes no arguments (got %q): pass files with -f and namespaces with -n or -A", args[0])
			}
			return nil
		},
		RunE: cli.RunE(&o.args, o.Validate, o.Run),
	}
	f := cmd.Flags()
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "check ServiceProfiles in every namespace")
	f.StringArrayVarP(&o.Files, "filename", "f", nil, "check ServiceProfiles in this file, directory (recursive) or - for stdin; repeatable")
	f.StringVarP(&o.Output, "output", "o", "", "output format: text, json or yaml (--list-codes also takes markdown)")
	f.StringVar(&o.FailOn, "fail-on", "error", "exit with status 3 when a finding reaches this level: error, warning or info")
	f.BoolVar(&o.ListCodes, "list-codes", false, "print every finding code with its level and description, then exit")
	f.BoolVar(&o.UseCluster, "cluster", false, "with -f: also run the analyzers that read the cluster")
	f.StringVar(&o.ClusterDomain, "cluster-domain", profile.DefaultClusterDomain, "the cluster's DNS domain, as configured in Linkerd")
	f.DurationVar(&o.Timeout, "timeout", 30*time.Second, "how long reading the cluster may take in all")
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		formats := []string{"text", "json", "yaml"}
		if o.ListCodes {
			formats = append(formats, outputMarkdown) // only the code list has a markdown form
		}
		return formats, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{"error", "warning", "info"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
	return cmd
}

// Validate checks flags before anything is read.
func (o *Options) Validate() error {
	allowed := []string{outputText, cli.OutputJSON, cli.OutputYAML}
	if o.ListCodes {
		allowed = append(allowed, outputMarkdown)
	}
	var err error
	if o.Output, err = cli.CheckOutput(o.Output, allowed...); err != nil {
		return err
	}
	if o.failOn, err = finding.ParseLevel(o.FailOn); err != nil {
		return cli.Usagef("--fail-on: %v", err)
	}
	if o.ListCodes {
		if len(o.Files) > 0 || o.AllNamespaces || o.UseCluster {
			return cli.Usagef("--list-codes prints the codes and checks nothing: do not combine it with -f, -A or --cluster")
		}
		return nil
	}
	if len(o.Files) == 0 && o.UseCluster {
		return cli.Usagef("--cluster only applies with -f: without files, check reads the cluster anyway")
	}
	if len(o.Files) > 0 && o.AllNamespaces {
		return cli.Usagef("-A selects ServiceProfiles in the cluster: do not combine it with -f")
	}
	if o.Timeout <= 0 {
		return cli.Usagef("--timeout must be positive")
	}
	if strings.TrimSpace(o.ClusterDomain) == "" {
		return cli.Usagef("--cluster-domain must not be empty")
	}
	return nil
}

// Run checks and prints, and returns a cli.Findings error when a finding
// reaches --fail-on.
func (o *Options) Run(ctx context.Context) error {
	if o.ListCodes {
		return writeCodes(o.Streams.Out, o.Output)
	}
	var (
		results []analyze.Result
		err     error
		scope   string
	)
	if len(o.Files) > 0 {
		results, scope, err = o.checkFiles(ctx)
	} else {
		results, scope, err = o.checkCluster(ctx)
	}
	if err != nil {
		return err
	}
	return o.report(results, scope)
}

// checkFiles loads the files and checks every ServiceProfile in them.
func (o *Options) checkFiles(ctx context.Context) ([]analyze.Result, string, error) {
	loader := source.Loader{Stdin: o.Streams.In, Skipped: func(path, why string) {
		fmt.Fprintf(o.Streams.ErrOut, "warning: skipped %s: %s (only regular files are read from directories; name it with -f to read it)\n", cli.Escape(path), why)
	}}
	docs, err := loader.Load(ctx, o.Files)
	if errors.Is(err, context.Canceled) {
		return nil, "", &cli.Error{Code: cli.ExitInterrupted, Err: err} // Ctrl-C while waiting for stdin or a pipe
	}
	if err != nil {
		return nil, "", err
	}
	if len(docs) == 0 {
		// Not a clean result: an empty input is usually a generator that failed.
		return nil, "", fmt.Errorf("no objects in %s: nothing was checked (an empty file or directory, or a generator such as helm template that printed nothing)", cli.Escape(strings.Join(o.Files, ", ")))
	}
	opts := analyze.Options{ClusterDomain: o.ClusterDomain, DefaultNamespace: o.explicitNamespace()}
	var selected []*source.Document
	for i := range docs {
		// kind ServiceProfile without apiVersion is meant as one: the API
		// server rejects it, and the analyzers say so.
		noVersion := docs[i].Err == nil && docs[i].Kind() == profile.Kind && docs[i].APIVersion() == ""
		if docs[i].Err != nil || analyze.IsServiceProfile(&docs[i]) || noVersion {
			selected = append(selected, &docs[i])
		}
	}
	var g *gatherer
	if o.UseCluster {
		g, err = newGatherer(o)
		if err != nil {
			return nil, "", err
		}
		if opts.DefaultNamespace == "" {
			opts.DefaultNamespace = g.ns
		}
		ctx, cancel := context.WithTimeout(ctx, o.Timeout)
		defer cancel()
		facts, err := g.factsFor(ctx, profileRefs(selected, opts), false)
		if err != nil {
			return nil, "", err
		}
		opts.Cluster = facts
	}
	results := make([]analyze.Result, 0, len(selected))
	for _, d := range selected {
		results = append(results, analyze.Check(d, opts))
	}
	all := make([]*source.Document, len(docs))
	for i := range docs {
		all[i] = &docs[i]
	}
	pctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	results = append(results, o.checkPolicyFiles(pctx, all, g, opts.DefaultNamespace)...)
	return results, "the given files", nil
}

// explicitNamespace is -n when given: file mode does not read the
// kubeconfig's namespace unless --cluster is set.
func (o *Options) explicitNamespace() string {
	if o.Flags != nil && o.Flags.Namespace != nil {
		return *o.Flags.Namespace
	}
	return ""
}

// profileRefs lists, for each document, the namespace it lives in and the
// Service its name refers to, so cluster facts can be read for them.
func profileRefs(docs []*source.Document, opts analyze.Options) []ref {
	var out []ref
	for _, d := range docs {
		if d.Err != nil {
			continue
		}
		ns := d.Namespace()
		if ns == "" {
			ns = opts.DefaultNamespace
		}
		r := ref{namespace: ns}
		if svc, ok := profile.ParseFQDN(d.Name(), opts.ClusterDomain); ok {
			r.service, r.named = svc, true
		}
		out = append(out, r)
	}
	return out
}
