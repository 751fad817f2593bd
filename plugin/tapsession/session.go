// Package tapsession holds what `kubectl profiles tap` and `kubectl profiles
// unmatched` share: the tap flags, and a Session that yields tap events
// (from the cluster's tap API or from a capture file) together with the
// Classifier that computes each request's rt_route (from the destination
// service or from ServiceProfile files).
package tapsession

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/completion"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/destination"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/policy"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapcapture"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapprofile"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// DefaultIdleTimeout is how long a live tap may stay silent before a hint
// is printed (once); the tap keeps waiting.
const DefaultIdleTimeout = 10 * time.Second

// lookahead is how many events of a capture are read ahead of the one
// returned, so that the profile lookups they need run at the same time
// (bounded by --concurrency) instead of one after the other.
const lookahead = 256

// Options are the flags both commands share.
type Options struct {
	Flags *genericclioptions.ConfigFlags

	To, ToNamespace                 string
	Scheme, Method, Authority, Path string
	Selector                        string
	MaxRPS                          float32
	File                            string
	Profiles                        []string
	// Routes are HTTPRoute/GRPCRoute files standing for the policy
	// controller (--route).
	Routes []string
	Dest   destination.Flags
	Policy policy.Flags
	// IdleTimeout: silence after which a live tap prints a hint.
	IdleTimeout time.Duration
	// Concurrency bounds the profile lookups in flight.
	Concurrency int
	// ExtractHeaders asks the proxies for headers (set by the command).
	ExtractHeaders bool
	// ShowCredentials keeps credential header values (Redact) in outputs.
	ShowCredentials bool

	fs *pflag.FlagSet // to tell flags given from defaults
}

// Changed tells whether flag name was given on the command line.
func (o *Options) Changed(name string) bool {
	return o.fs != nil && o.fs.Changed(name)
}

// liveOnly are the flags that only act on a live tap: with --file they
// would be silently ignored. (--to, --to-namespace and the request filters
// do filter a capture.)
var liveOnly = []string{"selector", "max-rps", "idle-timeout"}

// destinationOnly are the flags that only act on the destination service:
// with --profile they would be silently ignored.
var destinationOnly = []string{"destination-addr", "linkerd-namespace", "timeout", "concurrency"}

// RefuseWithFile is a usage error when any of names was given with --file:
// each would be silently ignored.
func (o *Options) RefuseWithFile(names ...string) error {
	if o.File == "" {
		return nil
	}
	for _, name := range names {
		if o.Changed(name) {
			return cli.Usagef("--%s has no effect with --file (it applies to a live tap; a capture was already taken): drop it", name)
		}
	}
	return nil
}

// AddFlags registers the shared flags.
func (o *Options) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&o.To, "to", "", "only requests to this destination (svc/NAME, deploy/NAME, ...), as linkerd viz tap --to")
	f.StringVar(&o.ToNamespace, "to-namespace", "", "namespace of --to (default: the target's namespace)")
	f.StringVar(&o.Scheme, "scheme", "", "only requests with this scheme")
	f.StringVar(&o.Method, "method", "", "only requests with this HTTP method")
	f.StringVar(&o.Authority, "authority", "", "only requests with this exact authority")
	f.StringVar(&o.Path, "path", "", "only requests whose path starts with this")
	f.StringVarP(&o.Selector, "selector", "l", "", "label selector on the target's pods")
	f.Float32Var(&o.MaxRPS, "max-rps", tapclient.DefaultMaxRPS, "maximum requests per second to tap (split across the target's pods)")
	f.StringVar(&o.File, "file", "", "read a saved capture (linkerd viz tap -o json, or kubectl profiles tap -o json) instead of tapping; - for stdin")
	f.StringArrayVar(&o.Profiles, "profile", nil, "match against this ServiceProfile file instead of asking the destination service (repeatable; without --route, client policy is not consulted)")
	f.StringArrayVar(&o.Routes, "route", nil, "match against this HTTPRoute/GRPCRoute file instead of asking the policy controller (repeatable, multi-document; without --profile, no ServiceProfiles)")
	o.Dest.AddFlags(f, "how long to wait for each profile or policy lookup")
	o.Policy.AddFlags(f)
	f.DurationVar(&o.IdleTimeout, "idle-timeout", DefaultIdleTimeout, "say so on stderr when a live tap has seen no request for this long (it keeps waiting)")
	f.BoolVar(&o.ShowCredentials, "show-credentials", false, "print the values of credential headers (authorization, cookie, set-cookie, ...) instead of "+RedactedValue)
	f.IntVar(&o.Concurrency, "concurrency", tapprofile.DefaultConcurrency, "how many profile lookups run at once over the single gRPC connection")
	o.fs = f
}

// Validate checks the flags and arguments before anything touches the
// network. Without --file a target is required.
func (o *Options) Validate(args []string) error {
	if o.File == "" && len(args) == 0 {
		return cli.Usagef("name what to tap, e.g. deploy/webapp (or read a capture with --file)")
	}
	if len(args) > 2 {
		return cli.Usagef("expected TYPE/NAME or TYPE NAME, got %q", strings.Join(args, " "))
	}
	if err := tapclient.CheckMaxRPS(o.MaxRPS); err != nil {
		return cli.Usagef("%v", err)
	}
	if err := o.Dest.Validate(); err != nil {
		return err
	}
	if err := o.Policy.Validate(); err != nil {
		return err
	}
	if o.IdleTimeout <= 0 {
		return cli.Usagef("--idle-timeout must be positive")
	}
	if o.Concurrency < 1 {
		return cli.Usagef("--concurrency must be at least 1")
	}
	if o.File != "" && len(args) > 0 {
		return cli.Usagef("--file replays a saved capture: drop the target %q (the capture was already taken from one; -n still names the namespace of events without namespace labels)", strings.Join(args, " "))
	}
	if err := o.RefuseWithFile(liveOnly...); err != nil {
		return err
	}
	if len(o.Profiles) > 0 || len(o.Routes) > 0 {
		for _, name := range append(destinationOnly, "policy-addr") {
			if o.Changed(name) {
				return cli.Usagef("--%s has no effect with --profile or --route (the files stand for the control plane, which is not asked): drop it", name)
			}
		}
	}
	stdins := 0
	for _, uses := range []bool{o.File == "-", slices.Contains(o.Profiles, "-"), slices.Contains(o.Routes, "-")} {
		if uses {
			stdins++
		}
	}
	if stdins > 1 {
		return cli.Usagef("only one of --file, --profile and --route can read stdin (-): save the others to files")
	}
	if o.ToNamespace != "" && o.To == "" {
		return cli.Usagef("--to-namespace needs --to")
	}
	if len(args) > 0 {
		if _, err := tapclient.ParseTarget("x", args...); err != nil {
			return cli.Usagef("%v", err)
		}
	}
	if o.To != "" {
		if _, err := tapclient.ParseDestination("x", o.To); err != nil {
			return cli.Usagef("--to: %v", err)
		}
	}
	return nil
}

// Session is one run's source of events plus its route classifier.
type Session struct {
	// Request is the tap; in file mode its filters are applied locally.
	Request tapclient.Request
	// Namespace is the tap's namespace (-n or the kubeconfig's).
	Namespace  string
	Classifier *tapprofile.Classifier
	// Live is false when reading a capture file.
	Live bool
	// Prefetch selects the request events of a capture whose lookups are
	// started ahead of Next (nil: all): those the command will classify.
	Prefetch func(*tapclient.Event) bool

	errOut io.Writer
	idle   time.Duration
	stream *tapclient.Stream
	reader *tapcapture.Reader
	closer io.Closer
	dest   *destination.Client
	policy *policy.Client
	filter *filter
	count  int
	warned bool
	sent   time.Time // when the live tap request was sent
	// Events is the number of events a live tap delivered.
	Events int

	// Read-ahead of a capture: queue[:started] have their lookup started
	// (or need none); readErr is the reader's end, returned once queue is
	// drained.
	queue   []*tapclient.Event
	started int
	readErr error
	// ahead is the context of lookups started ahead; Close cancels it, so
	// lookups for events never classified (past --requests) end at once.
	ahead       context.Context
	cancelAhead context.CancelFunc
}

// Open resolves the target, prepares the profile source and starts the tap
// (or opens the capture). Warnings go to errOut.
func (o *Options) Open(ctx context.Context, args []string, errOut io.Writer, stdin io.Reader) (*Session, error) {
	s := &Session{errOut: errOut, Live: o.File == ""}
	s.Namespace = o.namespace()
	req, err := o.request(args, s.Namespace)
	if err != nil {
		return nil, err
	}
	s.Request = req

	defaultNS := s.Namespace
	if req.Target.Type == tapclient.TypeNamespace && req.Target.Name != "" {
		defaultNS = req.Target.Name
	}
	s.Classifier = &tapprofile.Classifier{
		Resolver:    tapprofile.Resolver{ClusterDomain: o.Dest.ClusterDomain, DefaultNamespace: defaultNS},
		Timeout:     o.Dest.Timeout,
		Concurrency: o.Concurrency,
		Warn:        func(msg string) { fmt.Fprintf(errOut, "warning: %s\n", cli.Escape(msg)) },
	}

	var cfg *rest.Config
	restConfig := func() (*rest.Config, error) {
		if cfg != nil {
			return cfg, nil
		}
		c, err := o.Flags.ToRESTConfig()
		if err != nil {
			return nil, fmt.Errorf("cannot load a kubeconfig: %v (set --kubeconfig or KUBECONFIG, or work offline with --file and --profile)", err)
		}
		cfg = c
		return c, nil
	}

	if len(o.Profiles) > 0 || len(o.Routes) > 0 {
		// Files stand for the control plane: what they do not give is
		// absent (no --route: policy not consulted; no --profile: no
		// ServiceProfiles).
		if len(o.Profiles) > 0 {
			files, err := tapprofile.LoadFiles(ctx, o.Profiles, stdin, o.Dest.ClusterDomain, defaultNS)
			if err != nil {
				return nil, err
			}
			s.Classifier.Source = files
		}
		if len(o.Routes) > 0 {
			routes, err := tapprofile.LoadRouteFiles(ctx, o.Routes, stdin, o.Dest.ClusterDomain, defaultNS)
			if err != nil {
				return nil, err
			}
			s.Classifier.Policies = routes
		}
	} else {
		c, err := restConfig()
		if err != nil {
			return nil, err
		}
		cs, err := kubernetes.NewForConfig(c)
		if err != nil {
			return nil, err
		}
		dest, err := o.Dest.Connect(ctx, c, cs)
		if err != nil {
			if ctx.Err() != nil {
				// Ctrl-C or --duration during the port-forward: the caller
				// ends quietly, as for a tap stopped before it started.
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%v (or match against a file with --profile)", err)
		}
		s.dest = dest
		s.Classifier.Source = &tapprofile.Destination{Client: dest, ClusterDomain: o.Dest.ClusterDomain, Timeout: o.Dest.Timeout}
		pc, err := o.Policy.Connect(ctx, c, cs, &o.Dest)
		switch {
		case err != nil && ctx.Err() != nil:
			s.Close()
			return nil, ctx.Err()
		case err != nil:
			// ServiceProfile routes still decide for the targets that have
			// them; the others are said to be unclassified.
			fmt.Fprintf(errOut, "warning: %s: requests to targets without ServiceProfile routes are not classified (give --policy-addr, or --route files)\n", cli.Escape(cli.OneLine(err.Error())))
			s.Classifier.Policies = unreachable{err}
		default:
			s.policy = pc
			s.Classifier.Policies = &tapprofile.Policies{Client: pc, Kube: cs, ClusterDomain: o.Dest.ClusterDomain, Timeout: o.Dest.Timeout}
		}
	}

	if !s.Live {
		var r io.Reader
		if o.File == "-" {
			r = source.Interruptible(ctx, stdin, "-")
		} else {
			f, err := source.Open(ctx, o.File)
			if err != nil {
				s.Close()
				return nil, fmt.Errorf("--file: %v", err)
			}
			r, s.closer = f, f
		}
		s.reader = tapcapture.NewReader(r)
		s.filter = newFilter(req)
		s.ahead, s.cancelAhead = context.WithCancel(ctx)
		return s, nil
	}

	c, err := restConfig()
	if err != nil {
		s.Close()
		return nil, err
	}
	tc, err := tapclient.New(c)
	if err != nil {
		s.Close()
		return nil, err
	}
	// The idle clock starts when the tap request is sent, not when the
	// server's response headers arrive (Watch waits for them).
	s.sent = time.Now()
	if tc.HeaderWait <= 0 || tc.HeaderWait > o.IdleTimeout {
		// Watch waits this long for the response headers (a quiet tap
		// server sends none): no longer than the idle timeout, so that the
		// hint comes on time; later errors come from Next.
		tc.HeaderWait = o.IdleTimeout
	}
	stream, err := tc.Watch(ctx, req)
	if err != nil {
		s.Close()
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, fmt.Errorf("tap %s: %s", req.Target, cli.OneLine(err.Error()))
	}
	s.idle = o.IdleTimeout
	s.stream = stream
	return s, nil
}

// namespace is -n, else the kubeconfig context's, else "default". It
// reads kubeconfig files only, so it works offline.
func (o *Options) namespace() string {
	if o.Flags != nil && o.Flags.Namespace != nil && *o.Flags.Namespace != "" {
		return *o.Flags.Namespace
	}
	if o.Flags != nil {
		if ns, _, err := o.Flags.ToRawKubeConfigLoader().Namespace(); err == nil && ns != "" {
			return ns
		}
	}
	return "default"
}

func (o *Options) request(args []string, ns string) (tapclient.Request, error) {
	req := tapclient.Request{Scheme: o.Scheme, Method: o.Method, Authority: o.Authority, Path: o.Path,
		LabelSelector: o.Selector, MaxRPS: o.MaxRPS, ExtractHeaders: o.ExtractHeaders}
	if len(args) > 0 {
		t, err := tapclient.ParseTarget(ns, args...)
		if err != nil {
			return req, cli.Usagef("%v", err)
		}
		req.Target = t
	}
	if o.To != "" {
		toNS := o.ToNamespace
		if toNS == "" {
			toNS = ns
		}
		to, err := tapclient.ParseDestination(toNS, o.To)
		if err != nil {
			return req, cli.Usagef("--to: %v", err)
		}
		req.To = &to
	}
	return req, nil
}

// Next returns the next event; io.EOF at the end of the capture, when the
// tap ends, or when ctx ends (duration reached, Ctrl-C).
func (s *Session) Next(ctx context.Context) (*tapclient.Event, error) {
	if !s.Live {
		return s.nextFromFile(ctx)
	}
	for {
		idle := s.idle
		if s.Events == 0 && !s.warned {
			if idle -= time.Since(s.sent); idle < time.Millisecond {
				idle = time.Millisecond
			}
		}
		s.stream.SetIdleTimeout(idle)
		ev, err := s.stream.Next()
		if err == nil {
			s.Events++
		}
		if err == tapclient.ErrIdle {
			if !s.warned {
				s.warned = true
				fmt.Fprintf(s.errOut, "%s (still waiting; Ctrl-C to stop)\n", cli.Escape(s.Request.IdleMessage(s.idle)))
			}
			continue
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("tap %s: %s", s.Request.Target, cli.OneLine(err.Error()))
		}
		return ev, err
	}
}

// nextFromFile returns the capture's events in order, reading up to
// lookahead events ahead and starting the profile lookups they need, as
// many at once as the Classifier allows.
func (s *Session) nextFromFile(ctx context.Context) (*tapclient.Event, error) {
	if ctx.Err() != nil {
		return nil, io.EOF
	}
	s.fill(ctx)
	if len(s.queue) == 0 {
		err := s.readErr
		if err == io.EOF && s.reader.Truncated {
			fmt.Fprintf(s.errOut, "warning: the capture ends inside the object starting at line %d (cut short?): ignored it\n", s.reader.TruncatedLine)
			s.reader.Truncated = false
		}
		if errors.Is(err, context.Canceled) {
			err = io.EOF // Ctrl-C while waiting for the capture: the end of it
		}
		if err != io.EOF {
			err = fmt.Errorf("--file %s", err)
		}
		return nil, err
	}
	ev := s.queue[0]
	s.queue[0] = nil
	s.queue = s.queue[1:]
	if s.started > 0 {
		s.started--
	}
	return ev, nil
}

// fill starts the lookups that waited for a free slot, then reads events
// until lookahead are queued, the capture ends, or a lookup finds no slot.
func (s *Session) fill(ctx context.Context) {
	for ; s.started < len(s.queue); s.started++ {
		if !s.prefetch(s.queue[s.started]) {
			return
		}
	}
	for s.readErr == nil && len(s.queue) < lookahead {
		if s.count++; s.count&1023 == 0 && ctx.Err() != nil {
			return
		}
		ev, err := s.reader.Next()
		if err != nil {
			s.readErr = err
			return
		}
		if !s.filter.pass(ev) {
			continue
		}
		s.queue = append(s.queue, ev)
		if !s.prefetch(ev) {
			return
		}
		s.started++
	}
}

// prefetch starts ev's lookup; false when it needs one and no slot is free.
func (s *Session) prefetch(ev *tapclient.Event) bool {
	if ev.Kind != tapclient.KindRequest || s.Prefetch != nil && !s.Prefetch(ev) {
		return true
	}
	return s.Classifier.Prefetch(s.ahead, ev)
}

// NothingSeen is the error a live run ends with when the tap delivered no
// event at all (exit status cli.ExitNothingSeen); nil otherwise. d is the
// run's --duration (0: the time since the tap request was sent is said).
func (s *Session) NothingSeen(d time.Duration) error {
	if !s.Live || s.Events > 0 {
		return nil
	}
	if d <= 0 {
		d = time.Since(s.sent).Round(time.Second)
		if d == 0 {
			d = time.Since(s.sent).Round(time.Millisecond)
		}
	}
	return &cli.Error{Code: cli.ExitNothingSeen, Err: fmt.Errorf("no requests seen in %s (is the workload receiving or sending traffic? check --to and the filters)", d)}
}

// Stop ends a live tap early: Next then returns io.EOF. Safe to call from
// any goroutine; a no-op for captures.
func (s *Session) Stop() {
	if s.stream != nil {
		_ = s.stream.Close()
	}
}

// Close ends the tap, closes the file and the destination connection.
func (s *Session) Close() {
	if s.cancelAhead != nil {
		s.cancelAhead()
	}
	if s.stream != nil {
		_ = s.stream.Close()
	}
	if s.closer != nil {
		_ = s.closer.Close()
	}
	if s.Classifier != nil && (s.dest != nil || s.policy != nil) {
		s.Classifier.Wait()
	}
	if s.dest != nil {
		_ = s.dest.Close()
	}
	if s.policy != nil {
		_ = s.policy.Close()
	}
}

// unreachable is the policy source of a run that could not reach the
// policy controller: every lookup fails with the connection's error.
type unreachable struct{ err error }

func (u unreachable) Policy(context.Context, tapprofile.Key) (*dpolicy.Policy, string, error) {
	return nil, "", u.err
}

// RegisterCompletion completes tap targets and --to from the cluster.
func (o *Options) RegisterCompletion(cmd *cobra.Command) {
	cmd.ValidArgsFunction = completion.CompleteResources(o.Flags, completion.Workloads...)
	_ = cmd.RegisterFlagCompletionFunc("to", completion.CompleteResources(o.Flags, append([]string{"services"}, completion.Workloads...)...))
	_ = cmd.RegisterFlagCompletionFunc("to-namespace", completion.CompleteNamespaces(o.Flags))
}

// Stopped is how a command ends when Open failed: quietly when the run's
// context ended first (Ctrl-C, or --duration while the port-forward or the
// tap was still starting; then one line says nothing was tapped), with err
// otherwise.
func Stopped(err error, errOut io.Writer) error {
	switch {
	case errors.Is(err, context.Canceled):
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintln(errOut, "--duration ended before the tap started: nothing was tapped")
		return nil
	}
	return err
}
