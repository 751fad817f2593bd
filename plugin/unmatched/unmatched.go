// Package unmatched implements `kubectl profiles unmatched`: it samples
// tapped requests, keeps those that no ServiceProfile route matches, groups
// them by method and path template, and prints them as a table or as the
// ServiceProfile routes that would cover them.
package unmatched

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapsession"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

const example = `  # What requests to deploy/webapp match no route? (samples 30s of inbound traffic)
  kubectl profiles unmatched deploy/webapp -n booksapp

  # Its calls to the books service instead, until 500 requests were sampled
  kubectl profiles unmatched deploy/webapp --to svc/books --requests 500

  # The routes that would cover them, as a ServiceProfile to review and apply
  kubectl profiles unmatched deploy/webapp -o yaml > webapp-routes.yaml

  # Offline: a saved capture against a ServiceProfile file
  kubectl profiles unmatched --file capture.json --profile webapp-sp.yaml -n booksapp -o yaml`

// DefaultDuration is how long a live run samples when neither --duration
// nor --requests is given.
const DefaultDuration = 30 * time.Second

// graceLive is how long a live run keeps reading, after --requests was
// reached, for the responses of the requests it holds; graceEvents is the
// same for a capture, in events.
const (
	graceLive   = 2 * time.Second
	graceEvents = 10000
)

// Options are the flags of unmatched.
type Options struct {
	tapsession.Options
	Streams    genericiooptions.IOStreams
	Output     string
	Duration   time.Duration
	Requests   int
	Service    string
	NoProgress bool
	// Progress receives the progress line; NewCmd sets it to stderr when
	// that is a terminal.
	Progress io.Writer

	args []string
}

// NewCmd builds the unmatched command.
func NewCmd(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{Options: tapsession.Options{Flags: flags}, Streams: streams}
	cmd := &cobra.Command{
		Use:   "unmatched (TYPE/NAME | TYPE NAME) [flags]",
		Short: "Sample tapped requests that match no ServiceProfile route, grouped by path template",
		Long: `Taps a workload (or reads a capture with --file), computes the ServiceProfile route of every request the
way the proxy does (see 'kubectl profiles tap'), keeps the requests no route matches, and groups them by
method and path template (ids, UUIDs, hashes and dates become {id}).

Which requests: without --to, the requests the workload serves (inbound), per Service they were sent to;
with --to, its requests to that destination (outbound). --service restricts the result to one Service.
Requests to a Service without a ServiceProfile, or whose profile has no routes, count as unmatched.

-o yaml prints, per Service, a ServiceProfile whose routes cover the unmatched requests (most specific
first), ready to review and kubectl apply. With --profile, the file's routes come first and the new ones are
appended, so requests that already match keep their route; without it, only the new routes are printed:
merge them into an existing ServiceProfile rather than replacing it.

For a Service routed by client policy (HTTPRoutes, no ServiceProfile routes), the unmatched requests are those
no rule matches, which the proxy answers with its own 404; -o yaml then proposes an HTTPRoute (a GRPCRoute for
gRPC) on that Service port, verified against the run's requests so that no routed request changes rule.

A live run samples for --duration (default 30s) or until --requests requests were seen; Ctrl-C stops early
and prints what was collected.`,
		Example: example,
		RunE: cli.RunE(&o.args, func() error {
			if err := o.Validate(); err != nil {
				return err
			}
			if f, ok := o.Streams.ErrOut.(*os.File); ok && !o.NoProgress && o.Progress == nil && term.IsTerminal(int(f.Fd())) {
				o.Progress = f
			}
			return nil
		}, o.Run),
	}
	f := cmd.Flags()
	o.AddFlags(f)
	f.StringVarP(&o.Output, "output", "o", "", "output format: table or yaml (a ServiceProfile per Service)")
	f.DurationVar(&o.Duration, "duration", 0, "how long to sample (default 30s unless --requests is given; not with --file)")
	f.IntVar(&o.Requests, "requests", 0, "stop after this many requests were sampled (matched or not)")
	f.StringVar(&o.Service, "service", "", "only requests to this Service (NAME in the target's namespace, or NAME.NAMESPACE)")
	f.BoolVar(&o.NoProgress, "no-progress", false, "do not print the progress line on stderr")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "yaml"}, cobra.ShellCompDirectiveNoFileComp))
	o.Options.RegisterCompletion(cmd)
	return cmd
}

// Validate checks flags before anything touches the network.
func (o *Options) Validate() error {
	var err error
	if o.Output, err = cli.CheckOutput(o.Output, cli.OutputTable, cli.OutputYAML); err != nil {
		return err
	}
	if o.Duration < 0 {
		return cli.Usagef("--duration must not be negative")
	}
	if err := o.RefuseWithFile("duration"); err != nil {
		return err
	}
	if o.Requests < 0 {
		return cli.Usagef("--requests must not be negative")
	}
	if strings.ContainsAny(o.Service, "/ ") && !strings.HasPrefix(o.Service, "svc/") && !strings.HasPrefix(o.Service, "service/") {
		return cli.Usagef("--service takes a Service NAME or NAME.NAMESPACE, got %q", o.Service)
	}
	// Headers are never printed here; the l5d-dst-canonical header names
	// the Service of inbound requests exactly.
	o.ExtractHeaders = true
	return o.Options.Validate(o.args)
}

// Run samples and prints.
func (o *Options) Run(ctx context.Context) error {
	if o.File == "" {
		if d := o.sampleDuration(); d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
	}
	start := time.Now()
	s, err := o.Open(ctx, o.args, o.Streams.ErrOut, o.Streams.In)
	if err != nil {
		return tapsession.Stopped(err, o.Streams.ErrOut) // quiet when stopped before the tap started
	}
	defer s.Close()

	want, only := o.scope(s)
	c := newCollector(want, only)
	s.Prefetch = func(ev *tapclient.Event) bool { return ev.Direction == want }
	stopProgress := o.startProgress(&c.c, start)
	runErr := o.sample(ctx, s, c)
	stopProgress()
	c.flush()

	if runErr != nil && c.c.requests.Load() == 0 {
		return runErr // nothing was read: a summary would only contradict the error
	}
	elapsed := time.Since(start)
	o.summary(c, elapsed, s.Live)
	if err := o.print(s, c, elapsed); err != nil {
		return err
	}
	return runErr
}

// sampleDuration is how long a live run samples (0: until --requests).
func (o *Options) sampleDuration() time.Duration {
	if o.Duration == 0 && o.Requests == 0 {
		return DefaultDuration
	}
	return o.Duration
}

// scope decides which requests count: inbound ones unless --to is given,
// restricted to one Service by --service or --to svc/NAME.
func (o *Options) scope(s *tapsession.Session) (tapclient.Direction, *Service) {
	want := tapclient.DirectionInbound
	var only *Service
	if to := s.Request.To; to != nil {
		want = tapclient.DirectionOutbound
		if to.Type == tapclient.TypeService && to.Name != "" {
			only = &Service{Name: to.Name, Namespace: to.Namespace}
		}
	}
	if o.Service != "" {
		name := strings.TrimPrefix(strings.TrimPrefix(o.Service, "svc/"), "service/")
		ns := s.Namespace
		if s.Request.To != nil && s.Request.To.Namespace != "" {
			ns = s.Request.To.Namespace
		}
		if n, rest, ok := strings.Cut(name, "."); ok {
			name, ns = n, rest
		}
		only = &Service{Name: name, Namespace: ns}
	}
	return want, only
}

// sample reads events until the end, the limit or ctx.
func (o *Options) sample(ctx context.Context, s *tapsession.Session, c *collector) error {
	limitReached := false
	graceLeft := graceEvents
	var grace *time.Timer
	defer func() {
		if grace != nil {
			grace.Stop()
		}
	}()
	for {
		ev, err := s.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		c.c.events.Add(1)
		switch ev.Kind {
		case tapclient.KindRequest:
			if limitReached {
				continue
			}
			if ev.Direction != c.want {
				c.c.other.Add(1)
				continue
			}
			n := c.c.requests.Add(1)
			c.request(ev, s.Classifier.Classify(ctx, ev))
			if o.Requests > 0 && n >= int64(o.Requests) {
				limitReached = true
				if s.Live {
					grace = time.AfterFunc(graceLive, s.Stop)
				}
			}
		case tapclient.KindResponse, tapclient.KindEnd:
			c.response(ev)
		}
		if limitReached {
			if len(c.pending) == 0 {
				return nil
			}
			if graceLeft--; !s.Live && graceLeft <= 0 {
				return nil
			}
		}
	}
}

// summary prints one line on stderr: what was sampled and what it found.
func (o *Options) summary(c *collector, elapsed time.Duration, live bool) {
	var b strings.Builder
	if live {
		fmt.Fprintf(&b, "sampled %d requests in %s", c.c.requests.Load(), elapsed.Round(100*time.Millisecond))
	} else {
		fmt.Fprintf(&b, "read %d requests from %s", c.c.requests.Load(), o.File)
	}
	fmt.Fprintf(&b, ": %d matched a route, %d unmatched", c.c.matched.Load(), c.c.unmatched.Load())
	if n := c.tally.Unknown; n > 0 {
		fmt.Fprintf(&b, ", %d not classified (%s)", n, c.tally.Reasons())
	}
	if n := c.c.other.Load(); n > 0 {
		fmt.Fprintf(&b, ", %d ignored (other direction or Service)", n)
	}
	if n := c.c.dropped.Load(); n > 0 {
		fmt.Fprintf(&b, ", %d to Services beyond the first %d", n, maxServices)
	}
	fmt.Fprintln(o.Streams.ErrOut, cli.Escape(b.String()))
}

// startProgress prints "elapsed, events, unmatched" on o.Progress every
// half second until the returned stop is called, which clears the line.
func (o *Options) startProgress(c *counters, start time.Time) (stop func()) {
	if o.Progress == nil || o.NoProgress {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(o.Progress, "\r\033[K")
				return
			case <-t.C:
				fmt.Fprintf(o.Progress, "\r\033[Ksampling: %s elapsed, %d events, %d requests, %d unmatched (Ctrl-C to stop and print)",
					time.Since(start).Round(time.Second), c.events.Load(), c.requests.Load(), c.unmatched.Load())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
