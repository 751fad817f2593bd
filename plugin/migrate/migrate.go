// Package migrate implements `kubectl profiles migrate`: a ServiceProfile
// (from the cluster or a file) as HTTPRoutes with Linkerd's route
// annotations, with what changes, a replay of recorded requests and the
// rollout steps.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-profiles/kubectl-profiles/diag/gen"
	dmigrate "github.com/kubectl-profiles/kubectl-profiles/diag/migrate"
	"github.com/kubectl-profiles/kubectl-profiles/diag/policymatch"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapcapture"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapprofile"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// Options are the command's flags and arguments.
type Options struct {
	Flags   *genericclioptions.ConfigFlags
	Streams genericiooptions.IOStreams

	File, Capture string
	Port          int32
	NoCatchAll    bool
	RuleTimeouts  bool
	Kind          string
	ClusterDomain string
	Timeout       time.Duration

	args    []string
	service string
}

// NewCmd returns the migrate command.
func NewCmd(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{Flags: flags, Streams: streams}
	cmd := &cobra.Command{
		Use:   "migrate (svc/NAME [-n NAMESPACE] | -f PROFILE.yaml) [--file CAPTURE] [--port PORT] [--no-catch-all]",
		Short: "Convert a ServiceProfile into HTTPRoutes and say what will behave differently",
		Long: `Convert a ServiceProfile into Gateway API HTTPRoutes with Linkerd's retry and timeout settings.

The routes go to stdout; the "what changes" report (one line per difference, with its consequence) and the rollout
steps go to stderr. With --file, recorded requests are replayed through the profile and through the new routes,
and every request whose route, retry or timeout changes, or that would get a 404, is listed.`,
		Example: `  kubectl profiles migrate svc/webapp -n booksapp > webapp-routes.yaml
  kubectl profiles migrate -f webapp-profile.yaml --file capture.json > webapp-routes.yaml`,
		RunE: cli.RunE(&o.args, o.Validate, o.Run),
	}
	f := cmd.Flags()
	f.StringVarP(&o.File, "filename", "f", "", "ServiceProfile file to migrate instead of reading the cluster (- for stdin)")
	f.StringVar(&o.Capture, "file", "", "capture of requests to replay (linkerd viz tap -o json, or kubectl profiles tap -o json)")
	f.Int32Var(&o.Port, "port", 0, "Service port the routes attach to (default: every port)")
	f.BoolVar(&o.NoCatchAll, "no-catch-all", false, "do not add a catch-all rule for the requests no route matches (they then get a 404)")
	f.StringVar(&o.Kind, "kind", dmigrate.KindHTTPRoute, "what to write: httproute, or grpcroute for a profile of gRPC methods (POST /<package>.<Service>/<Method>)")
	f.BoolVar(&o.RuleTimeouts, "rule-timeouts", false, "write timeouts as rules[].timeouts.request (Linkerd 2.20+) instead of the route annotation timeout.linkerd.io/request")
	f.StringVar(&o.ClusterDomain, "cluster-domain", profile.DefaultClusterDomain, "cluster domain")
	f.DurationVar(&o.Timeout, "timeout", 30*time.Second, "how long to wait for the API server")
	return cmd
}

// Validate checks flags and arguments.
func (o *Options) Validate() error {
	switch {
	case o.File != "" && len(o.args) > 0:
		return cli.Usagef("give either svc/NAME or -f, not both")
	case o.File == "" && len(o.args) != 1:
		return cli.Usagef("migrate takes one argument, svc/NAME, or -f PROFILE.yaml")
	}
	if len(o.args) == 1 {
		a := o.args[0]
		for _, p := range []string{"svc/", "service/", "services/"} {
			if strings.HasPrefix(a, p) {
				o.service = a[len(p):]
			}
		}
		if o.service == "" || strings.Contains(o.service, "/") {
			return cli.Usagef("the argument must be svc/NAME (got %q)", a)
		}
	}
	if o.File == "-" && o.Capture == "-" {
		return cli.Usagef("-f - and --file - cannot both read stdin")
	}
	if o.Port < 0 || o.Port > 65535 {
		return cli.Usagef("--port must be 1..65535")
	}
	if o.Kind != dmigrate.KindHTTPRoute && o.Kind != dmigrate.KindGRPCRoute {
		return cli.Usagef("--kind must be httproute or grpcroute (got %q)", o.Kind)
	}
	if o.RuleTimeouts && o.Kind == dmigrate.KindGRPCRoute {
		return cli.Usagef("--rule-timeouts applies to HTTPRoutes only (GRPCRoutes have no rule timeouts)")
	}
	if o.Timeout <= 0 {
		return cli.Usagef("--timeout must be positive")
	}
	if o.ClusterDomain == "" {
		return cli.Usagef("--cluster-domain must not be empty")
	}
	return nil
}

// Run migrates and prints.
func (o *Options) Run(ctx context.Context) error {
	in := dmigrate.Input{ClusterDomain: o.ClusterDomain, Port: o.Port, NoCatchAll: o.NoCatchAll, RuleTimeouts: o.RuleTimeouts, Kind: o.Kind}
	var err error
	if o.File != "" {
		in.Profile, err = o.readFile(ctx)
	} else {
		in.Profile, in.Service, in.Overrides, in.OverridesUnknown, err = o.readCluster(ctx)
	}
	if err != nil {
		return err
	}
	res, err := dmigrate.Convert(in)
	if err != nil {
		return &cli.Error{Code: cli.ExitError, Err: err}
	}
	var diffs []dmigrate.Diff
	replayed := 0
	if o.Capture != "" {
		diffs, replayed, err = o.replay(ctx, res)
		if err != nil {
			return err
		}
	}
	return Print(o.Streams.Out, o.Streams.ErrOut, in, res, o.Capture, replayed, diffs)
}

// Print writes the routes to out and the report to report.
func Print(out, report io.Writer, in dmigrate.Input, res *dmigrate.Result, capture string, replayed int, diffs []dmigrate.Diff) error {
	t := res.Target
	kind := "HTTPRoutes"
	objs := []any{}
	for _, r := range res.HTTPRoutes {
		objs = append(objs, r)
	}
	for _, r := range res.GRPCRoutes {
		kind = "GRPCRoutes"
		objs = append(objs, r)
	}
	fmt.Fprintf(out, "# %s for %s, migrated from ServiceProfile %s by kubectl profiles migrate.\n", kind, cli.Escape(t.Service+"."+t.Namespace), cli.Escape(in.Profile.Namespace+"/"+in.Profile.Name))
	fmt.Fprintf(out, "# Apply the documents in this order: where two rules tie, the controller prefers the route created first, then by name.\n")
	for i, r := range objs {
		if i > 0 {
			fmt.Fprintln(out, "---")
		}
		obj, err := gen.Object(r)
		if err != nil {
			return err
		}
		if err := cli.WriteYAML(out, obj); err != nil {
			return err
		}
	}
	fmt.Fprintf(report, "WHAT CHANGES (%d)\n", len(res.Changes))
	for _, c := range res.Changes {
		fmt.Fprintf(report, "- %s\n", cli.Escape(c))
	}
	if capture != "" {
		notFound := 0
		for _, d := range diffs {
			if d.New.NotFound() {
				notFound++
			}
		}
		fmt.Fprintf(report, "\nREPLAY of %s: %d request(s) to %s, %d handled differently, %d would get a 404\n", cli.Escape(capture), replayed, cli.Escape(t.Service+"."+t.Namespace), len(diffs), notFound)
		for _, d := range diffs {
			fmt.Fprintf(report, "- %s\n", cli.Escape(d.Line()))
		}
	}
	fmt.Fprintf(report, "\nROLLOUT\n")
	fmt.Fprintf(report, "1. kubectl apply -f <the routes above>; then `kubectl get %s.gateway.networking.k8s.io -n %s` must show them Accepted by linkerd.io/policy-controller (nothing changes yet: proxies keep using the ServiceProfile)\n", strings.ToLower(kind), cli.Escape(t.Namespace))
	fmt.Fprintf(report, "2. kubectl delete serviceprofile %s -n %s (check first with `kubectl profiles get svc/%s -n %s` for client-namespace overrides)\n", cli.Escape(in.Profile.Name), cli.Escape(in.Profile.Namespace), cli.Escape(t.Service), cli.Escape(t.Namespace))
	fmt.Fprintf(report, "3. restart the clients of %s (kubectl rollout restart deploy -n <client namespace>): running proxies switch only after a restart or 5s without traffic to the Service\n", cli.Escape(t.Service))
	fmt.Fprintf(report, "4. watch outbound_http_route_request_statuses_total{route_name=...} on the clients, and 404s (no route) in their outbound_http_*\n")
	return nil
}

func (o *Options) readFile(ctx context.Context) (*profile.ServiceProfile, error) {
	var r io.Reader
	name := o.File
	if o.File == "-" {
		r, name = source.Interruptible(ctx, o.Streams.In, "<stdin>"), "-"
	} else {
		f, err := source.Open(ctx, o.File)
		if err != nil {
			return nil, &cli.Error{Code: cli.ExitError, Err: err}
		}
		defer f.Close()
		r = f
	}
	docs, err := source.Load(name, r)
	if err != nil {
		return nil, &cli.Error{Code: cli.ExitError, Err: fmt.Errorf("cannot read %s: %v", o.File, err)}
	}
	var found []*profile.ServiceProfile
	for _, d := range docs {
		if d.Err != nil {
			return nil, &cli.Error{Code: cli.ExitError, Err: fmt.Errorf("%s:%d: %v", o.File, d.Line, d.Err)}
		}
		if d.Kind() != profile.Kind {
			continue
		}
		sp, err := profile.Decode(d.Raw)
		if err != nil {
			return nil, &cli.Error{Code: cli.ExitError, Err: fmt.Errorf("%s:%d: %v", o.File, d.Line, err)}
		}
		if sp.Namespace == "" {
			if ref, ok := profile.ParseFQDN(sp.Name, o.ClusterDomain); ok {
				sp.Namespace = ref.Namespace
			}
		}
		found = append(found, sp)
	}
	switch len(found) {
	case 0:
		return nil, &cli.Error{Code: cli.ExitError, Err: fmt.Errorf("%s holds no ServiceProfile", o.File)}
	case 1:
		return found[0], nil
	}
	return nil, &cli.Error{Code: cli.ExitError, Err: fmt.Errorf("%s holds %d ServiceProfiles: migrate one at a time", o.File, len(found))}
}

// readCluster reads the ServiceProfile in the Service's namespace, the
// Service (nil when missing) and the namespaces of client-side overrides.
func (o *Options) readCluster(ctx context.Context) (sp *profile.ServiceProfile, svc *corev1.Service, overrides []string, unknown string, err error) {
	c, err := kube.NewClients(o.Flags)
	if err != nil {
		return nil, nil, nil, "", &cli.Error{Code: cli.ExitError, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	ns := c.Namespace
	svc, err = c.Kube.CoreV1().Services(ns).Get(ctx, o.service, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		svc = nil
	case err != nil:
		return nil, nil, nil, "", &cli.Error{Code: cli.ExitError, Err: kube.Explain(err, "read Service "+ns+"/"+o.service)}
	}
	fqdn := profile.FQDN(o.service, ns, o.ClusterDomain)
	objs, partial, err := kube.ListProfiles(ctx, c.Dynamic, fqdn, []string{ns})
	if err != nil {
		return nil, nil, nil, "", &cli.Error{Code: cli.ExitError, Err: kube.Explain(err, "read ServiceProfiles")}
	}
	if partial != nil {
		unknown = partial.Warning("client-side overrides in other namespaces are not known")
	}
	for _, p := range objs {
		if p.Namespace != ns {
			overrides = append(overrides, p.Namespace)
			continue
		}
		if p.DecodeErr != nil {
			return nil, nil, nil, "", &cli.Error{Code: cli.ExitError, Err: fmt.Errorf("ServiceProfile %s/%s cannot be decoded by the control plane (%v): proxies do not use it; nothing to migrate from", ns, fqdn, p.DecodeErr)}
		}
		sp = p.Profile
		if sp.Namespace == "" {
			sp.Namespace = ns
		}
	}
	if sp == nil {
		return nil, nil, nil, "", &cli.Error{Code: cli.ExitError, Err: fmt.Errorf("no ServiceProfile %s in namespace %s: nothing to migrate (use -f for a file)", fqdn, ns)}
	}
	sort.Strings(overrides)
	return sp, svc, overrides, unknown, nil
}

// replay reads the capture and compares every request to the Service.
func (o *Options) replay(ctx context.Context, res *dmigrate.Result) ([]dmigrate.Diff, int, error) {
	var r io.Reader
	if o.Capture == "-" {
		r = source.Interruptible(ctx, o.Streams.In, "<stdin>")
	} else {
		f, err := source.Open(ctx, o.Capture)
		if err != nil {
			return nil, 0, &cli.Error{Code: cli.ExitError, Err: err}
		}
		defer f.Close()
		r = f
	}
	return Replay(r, res, o.ClusterDomain)
}

// maxDiffs bounds the replay's list (the count stays exact).
const maxDiffs = 1000

// Replay compares every request of a capture sent to the migrated Service.
func Replay(r io.Reader, res *dmigrate.Result, clusterDomain string) ([]dmigrate.Diff, int, error) {
	t := res.Target
	rd := tapcapture.NewReader(r)
	resolver := tapprofile.Resolver{ClusterDomain: clusterDomain, DefaultNamespace: t.Namespace}
	var diffs []dmigrate.Diff
	n := 0
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, &cli.Error{Code: cli.ExitError, Err: fmt.Errorf("capture: %v", err)}
		}
		if ev.Kind != tapclient.KindRequest {
			continue
		}
		k, ok := resolver.Lookup(ev)
		if !ok || k.Service != t.Service || k.Namespace != t.Namespace {
			continue
		}
		n++
		var req policymatch.Request
		tapprofile.PolicyRequest(&req, ev)
		if d, changed := res.Compare(req); changed && len(diffs) < maxDiffs {
			diffs = append(diffs, d)
		}
	}
	return diffs, n, nil
}
