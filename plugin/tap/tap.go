// Package tap implements `kubectl profiles tap`: linkerd viz tap's output,
// with each request's ServiceProfile route (rt_route) computed locally from
// the profile the tapped proxy gets, and the proxy's own route label shown
// next to it when the two differ.
package tap

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapprofile"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapsession"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

const example = `  # Tap a deployment; every line ends with the route its proxy picks
  kubectl profiles tap deploy/webapp -n booksapp

  # Only its calls to the books service, with all labels, for 30 seconds
  kubectl profiles tap deploy/webapp --to svc/books --duration 30s -o wide

  # NDJSON for scripts (also a capture that --file can replay)
  kubectl profiles tap deploy/webapp -o json > capture.json

  # Offline: replay a capture against a ServiceProfile file, no cluster needed
  kubectl profiles tap --file capture.json --profile books-sp.yaml -n booksapp

  # Offline, policy mode: which HTTPRoute rule each call to authors hits, and which get a 404
  kubectl profiles tap --file capture.json --route authors-routes.yaml -n booksapp --to svc/authors -o wide`

// Options are the flags of tap.
type Options struct {
	tapsession.Options
	Streams  genericiooptions.IOStreams
	Output   string
	Duration time.Duration

	args []string
}

// NewCmd builds the tap command.
func NewCmd(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{Options: tapsession.Options{Flags: flags}, Streams: streams}
	cmd := &cobra.Command{
		Use:   "tap (TYPE/NAME | TYPE NAME) [flags]",
		Short: "Tap a workload like linkerd viz tap, with the ServiceProfile route of every request",
		Long: `Streams requests through the linkerd-viz tap API (through the Kubernetes API server, as linkerd viz tap
does) and prints them in linkerd viz tap's format. Each line ends with rt_route=<route>: the ServiceProfile route
the tapped proxy picks for the request, computed here from the profile that proxy gets from the destination
service (outbound: the destination Service's profile as seen from the tapped pod's namespace; inbound: the
profile of the Service the request was sent to, as seen from the tapped pod's own namespace).

rt_route is empty when the proxy applies no route (no ServiceProfile, no routes, or none matches) and "?" when
it cannot be computed. When the proxy itself reported a different route, proxy_rt_route=<reported> follows:
that is drift between the ServiceProfile and what the proxy uses.

Outbound requests to a target without ServiceProfile routes are routed by client policy (HTTPRoutes,
GRPCRoutes): the plugin asks the policy controller too, decides the mode as the proxy does, and -o wide adds
mode=serviceprofile|policy and, in policy mode, route=<kind>/<namespace>/<name>#rule<N> (the most specific rule,
as the proxy picks it), route=none proxy_response=404 when no rule matches (the proxy answers 404 itself), and
backend_failure=... for a rule with an invalid backend. JSON carries the same in rtRouteInfo.

Credential headers (authorization, cookie, set-cookie, ...) are printed as <redacted> unless --show-credentials.
A live tap that saw nothing exits 5.

--file replays a saved capture instead of tapping; --profile matches against ServiceProfile files instead of
asking the destination service, --route against HTTPRoute/GRPCRoute files instead of asking the policy
controller. With --file and the files, no cluster is needed.`,
		Example: example,
		RunE:    cli.RunE(&o.args, o.Validate, o.Run),
	}
	f := cmd.Flags()
	o.AddFlags(f)
	f.StringVarP(&o.Output, "output", "o", "", "output format: wide (all labels) or json (one object per line); default: linkerd's short lines")
	f.DurationVar(&o.Duration, "duration", 0, "stop after this long (default: until Ctrl-C; not with --file)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"wide", "json"}, cobra.ShellCompDirectiveNoFileComp))
	o.Options.RegisterCompletion(cmd)
	return cmd
}

// Validate checks flags before anything touches the network.
func (o *Options) Validate() error {
	if o.Output == "" {
		o.Output = "default"
	}
	var err error
	if o.Output, err = cli.CheckOutput(o.Output, "default", cli.OutputWide, cli.OutputJSON); err != nil {
		return err
	}
	if o.Duration < 0 {
		return cli.Usagef("--duration must not be negative")
	}
	if err := o.RefuseWithFile("duration"); err != nil {
		return err
	}
	// linkerd extracts headers only for -o json, which prints them.
	// Always: the inbound proxy picks the profile named by the
	// l5d-dst-canonical header, so rt_route needs it (headers are printed
	// only with -o json).
	o.ExtractHeaders = true
	return o.Options.Validate(o.args)
}

// Run taps and prints until the duration, the end of the capture or Ctrl-C.
func (o *Options) Run(ctx context.Context) error {
	if o.Duration > 0 && o.File == "" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	s, err := o.Open(ctx, o.args, o.Streams.ErrOut, o.Streams.In)
	if err != nil {
		return tapsession.Stopped(err, o.Streams.ErrOut) // quiet when stopped before the tap started
	}
	defer s.Close()

	w := bufio.NewWriterSize(o.Streams.Out, 64<<10)
	defer w.Flush()
	corr := tapclient.NewCorrelator(0)
	var tally tapprofile.Tally
	var line []byte
	for {
		ev, err := s.Next(ctx)
		if err == io.EOF {
			if err := o.conclude(w, &tally, s); err != nil {
				return err
			}
			return s.NothingSeen(o.Duration)
		}
		if err != nil {
			_ = w.Flush()
			return err
		}
		res := tapprofile.Result{Status: tapprofile.Unknown, Reason: "the tap did not see this request"}
		if req := corr.Observe(ev); req != nil {
			res = s.Classifier.Classify(ctx, req)
			if ev.Kind == tapclient.KindRequest {
				tally.Add(res)
			}
		}
		if !o.ShowCredentials {
			ev = tapsession.Redact(ev)
		}
		line = line[:0]
		if o.Output == cli.OutputJSON {
			if line, err = appendJSON(line, ev, res, o.Dest.ClusterDomain); err != nil {
				return err
			}
		} else {
			line = appendLine(line, ev, res, o.Output == cli.OutputWide)
		}
		if _, err := w.Write(line); err != nil {
			return err
		}
		if s.Live {
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
}

// conclude ends a run that saw its whole input: it says, on stderr and
// (except for NDJSON, whose objects carry each reason) at the end of
// stdout, how many requests could not be classified and why, so rt_route=?
// lines are never mistaken for a clean result.
func (o *Options) conclude(w *bufio.Writer, t *tapprofile.Tally, s *tapsession.Session) error {
	msg := t.Unclassified()
	if msg != "" && o.Output != cli.OutputJSON {
		if _, err := fmt.Fprintf(w, "# %s (rt_route=?)\n", cli.Escape(msg)); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	switch {
	case msg != "":
		fmt.Fprintf(o.Streams.ErrOut, "%s (rt_route=?)\n", cli.Escape(msg))
	case t.Requests == 0 && s.Live && s.Events > 0:
		fmt.Fprintln(o.Streams.ErrOut, "no request was tapped")
	case t.Requests == 0 && s.Live:
		// NothingSeen says so: no event came at all.
	case t.Requests == 0:
		fmt.Fprintf(o.Streams.ErrOut, "no requests in %s (after the filters)\n", cli.Escape(o.File))
	}
	return nil
}
