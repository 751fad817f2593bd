// Package plugin wires the kubectl-profiles cobra commands together.
package plugin

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // cloud auth providers in kubeconfigs
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/check"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/completion"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/generate"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/get"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/migrate"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/routes"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tap"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/unmatched"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/version"
)

// DefaultRequestTimeout bounds each API server request unless
// --request-timeout says otherwise.
const DefaultRequestTimeout = "30s"

// Main runs the plugin with args and returns the process exit status.
func Main(args []string) int {
	return Run(args, genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
}

// Run is Main with explicit streams, for tests.
func Run(args []string, streams genericiooptions.IOStreams) int {
	quietClientLibraries()
	root := NewRootCmd(streams)
	root.SetArgs(args)
	err := root.Execute()
	err = usageErrorFromCobra(err)
	if err != nil {
		// One line, no usage dump, no stack.
		// Escaped: messages quote flag values and cluster data.
		fmt.Fprintf(streams.ErrOut, "error: %s\n", cli.Escape(strings.TrimSpace(cli.OneLine(err.Error()))))
	}
	return cli.CodeOf(err)
}

// NewRootCmd builds the command tree.
func NewRootCmd(streams genericiooptions.IOStreams) *cobra.Command {
	flags := genericclioptions.NewConfigFlags(true)
	// kubectl waits forever by default; a diagnosis tool must not hang on an
	// API server that accepts connections but never answers. Streams (tap,
	// port-forward) do not use this timeout.
	requestTimeout := DefaultRequestTimeout
	flags.Timeout = &requestTimeout
	root := &cobra.Command{
		Use:           "profiles",
		Short:         "Show what Linkerd really does with your ServiceProfiles",
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl profiles"},
	}
	// Help, usage and __complete output go to the command's streams.
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetIn(streams.In)
	flags.AddFlags(root.PersistentFlags())
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		return checkRequestTimeout(*flags.Timeout)
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cli.Usagef("%v (see '%s --help')", err, c.CommandPath())
	})
	completion.RegisterConfigFlags(root, flags)
	root.AddCommand(version.NewCmd(streams), completion.NewCmd(streams))
	root.AddCommand(get.NewCmd(flags, streams))
	root.AddCommand(check.NewCmd(flags, streams))
	root.AddCommand(tap.NewCmd(flags, streams))
	root.AddCommand(unmatched.NewCmd(flags, streams))
	root.AddCommand(routes.NewCmd(flags, streams))
	root.AddCommand(generate.NewCmd(flags, streams))
	root.AddCommand(migrate.NewCmd(flags, streams))
	_ = flags
	return root
}

// checkRequestTimeout rejects, before anything runs, a --request-timeout
// that kubectl's parser would refuse later (exit 1) or take as "no timeout"
// although it is negative. 0 keeps kubectl's meaning: no timeout.
func checkRequestTimeout(v string) error {
	d, err := clientcmd.ParseTimeout(v)
	if err != nil {
		return cli.Usagef("--request-timeout %q is not a duration: use e.g. 30s or 2m (0: no timeout)", v)
	}
	if d < 0 {
		return cli.Usagef("--request-timeout %q is negative: use e.g. 30s or 2m (0: no timeout)", v)
	}
	return nil
}

// usageErrorFromCobra gives cobra's own argument errors (it has no typed
// errors) the usage exit status.
func usageErrorFromCobra(err error) error {
	if err == nil {
		return nil
	}
	var ce *cli.Error
	if errors.As(err, &ce) {
		return err
	}
	msg := err.Error()
	for _, prefix := range []string{"unknown command ", "accepts ", "requires at least ", "requires at most ", "invalid argument "} {
		if strings.HasPrefix(msg, prefix) {
			return &cli.Error{Code: cli.ExitUsage, Err: err}
		}
	}
	return err
}

var quietOnce sync.Once

// quietClientLibraries stops client-go from logging to the process's stderr
// (klog "Unhandled Error" lines, API deprecation warnings): every failure
// reaches the user as one line from us instead.
func quietClientLibraries() {
	quietOnce.Do(func() {
		fs := flag.NewFlagSet("klog", flag.ContinueOnError)
		klog.InitFlags(fs)
		_ = fs.Set("logtostderr", "false")
		_ = fs.Set("alsologtostderr", "false")
		_ = fs.Set("stderrthreshold", "FATAL")
		klog.SetOutput(io.Discard)
		rest.SetDefaultWarningHandler(rest.NoWarnings{})
	})
}
