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
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/completion"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/destination"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapcapture"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapprofile"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// DefaultIdleTimeout is how long a live tap may stay silent before a hint
// is printed (once); the tap keeps waiting.
const DefaultIdleTimeout = 10 * time.Second

// Options are the flags both commands share.
type Options struct {
	Flags *genericclioptions.ConfigFlags

	To, ToNamespace                 string
	Scheme, Method, Authority, Path string
	Selector                        string
	MaxRPS                          float32
	File                            string
	Profiles                        []string
	Dest                            destination.Flags
	// IdleTimeout: silence after which a live tap prints a hint.
	IdleTimeout time.Duration
	// ExtractHeaders asks the proxies for headers (set by the command).
	ExtractHeaders bool
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
	f.StringArrayVar(&o.Profiles, "profile", nil, "match against this ServiceProfile file instead of asking the destination service (repeatable)")
	o.Dest.AddFlags(f, "how long to wait for each profile lookup")
	f.DurationVar(&o.IdleTimeout, "idle-timeout", DefaultIdleTimeout, "say so on stderr when a live tap has seen no request for this long (it keeps waiting)")
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
	if o.MaxRPS < 0 {
		return cli.Usagef("--max-rps must not be negative")
	}
	if err := o.Dest.Validate(); err != nil {
		return err
	}
	if o.IdleTimeout <= 0 {
		return cli.Usagef("--idle-timeout must be positive")
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

	errOut io.Writer
	idle   time.Duration
	stream *tapclient.Stream
	reader *tapcapture.Reader
	closer io.Closer
	dest   *destination.Client
	filter *filter
	count  int
	warned bool
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
		Resolver: tapprofile.Resolver{ClusterDomain: o.Dest.ClusterDomain, DefaultNamespace: defaultNS},
		Timeout:  o.Dest.Timeout,
		Warn:     func(msg string) { fmt.Fprintf(errOut, "warning: %s\n", cli.Escape(msg)) },
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

	if len(o.Profiles) > 0 {
		files, err := tapprofile.LoadFiles(o.Profiles, o.Dest.ClusterDomain, defaultNS)
		if err != nil {
			return nil, err
		}
		s.Classifier.Source = files
	} else {
		var c *rest.Config
		var cs kubernetes.Interface
		if o.Dest.Addr == "" {
			if c, err = restConfig(); err != nil {
				return nil, err
			}
			if cs, err = kubernetes.NewForConfig(c); err != nil {
				return nil, err
			}
		}
		dest, err := o.Dest.Connect(ctx, c, cs)
		if err != nil {
			return nil, fmt.Errorf("%v (or match against a file with --profile)", err)
		}
		s.dest = dest
		s.Classifier.Source = &tapprofile.Destination{Client: dest, ClusterDomain: o.Dest.ClusterDomain}
	}

	if !s.Live {
		var r io.Reader
		if o.File == "-" {
			r = stdin
		} else {
			f, err := os.Open(o.File)
			if err != nil {
				s.Close()
				return nil, fmt.Errorf("--file: %v", err)
			}
			r, s.closer = f, f
		}
		s.reader = tapcapture.NewReader(r)
		s.filter = newFilter(req)
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
	stream, err := tc.Watch(ctx, req)
	if err != nil {
		s.Close()
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, fmt.Errorf("tap %s: %s", req.Target, cli.OneLine(err.Error()))
	}
	stream.SetIdleTimeout(o.IdleTimeout)
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
		for {
			s.count++
			if s.count&1023 == 0 && ctx.Err() != nil {
				return nil, io.EOF
			}
			ev, err := s.reader.Next()
			if err != nil {
				if err == io.EOF && s.reader.Truncated {
					fmt.Fprintf(s.errOut, "warning: the capture ends inside the object starting at line %d (cut short?): ignored it\n", s.reader.TruncatedLine)
					s.reader.Truncated = false
				}
				if err != io.EOF {
					err = fmt.Errorf("--file %s", err)
				}
				return nil, err
			}
			if s.filter.pass(ev) {
				return ev, nil
			}
		}
	}
	for {
		ev, err := s.stream.Next()
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

// Stop ends a live tap early: Next then returns io.EOF. Safe to call from
// any goroutine; a no-op for captures.
func (s *Session) Stop() {
	if s.stream != nil {
		_ = s.stream.Close()
	}
}

// Close ends the tap, closes the file and the destination connection.
func (s *Session) Close() {
	if s.stream != nil {
		_ = s.stream.Close()
	}
	if s.closer != nil {
		_ = s.closer.Close()
	}
	if s.Classifier != nil && s.dest != nil {
		s.Classifier.Wait()
	}
	if s.dest != nil {
		_ = s.dest.Close()
	}
}

// RegisterCompletion completes tap targets and --to from the cluster.
func (o *Options) RegisterCompletion(cmd *cobra.Command) {
	cmd.ValidArgsFunction = completion.CompleteResources(o.Flags, completion.Workloads...)
	_ = cmd.RegisterFlagCompletionFunc("to", completion.CompleteResources(o.Flags, append([]string{"services"}, completion.Workloads...)...))
	_ = cmd.RegisterFlagCompletionFunc("to-namespace", completion.CompleteNamespaces(o.Flags))
}
