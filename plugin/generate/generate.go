// Package generate implements `kubectl profiles generate`: routes for a
// Service from an OpenAPI spec, a protobuf file, a template or a capture, as
// a ServiceProfile or Gateway API routes, ordered and verified before they
// are printed. It needs no cluster.
package generate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/gen"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
	"github.com/kubectl-profiles/kubectl-profiles/diag/template"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapcapture"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapprofile"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// Output kinds.
const (
	KindServiceProfile = "serviceprofile"
	KindHTTPRoute      = "httproute"
	KindGRPCRoute      = "grpcroute"
)

// Options are the command's flags and arguments.
type Options struct {
	Flags   *genericclioptions.ConfigFlags
	Streams genericiooptions.IOStreams

	OpenAPI, Proto, Capture string
	Template                bool
	RuleTimeouts            bool
	NoCatchAll              bool
	Kind                    string
	Port                    int32
	ClusterDomain           string

	args    []string
	service string
}

// NewCmd returns the generate command.
func NewCmd(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{Flags: flags, Streams: streams}
	cmd := &cobra.Command{
		Use:   "generate svc/NAME (--open-api FILE | --proto FILE | --from-capture FILE | --template) [-n NAMESPACE] [--kind serviceprofile|httproute|grpcroute]",
		Short: "Generate ordered, verified routes for a Service from an API spec, a protobuf file or a capture",
		Long: `Generate routes for a Service, as a ServiceProfile or as Gateway API HTTPRoutes/GRPCRoutes.

Routes are ordered so that none takes the requests of another (literal paths before parameters), every regex
compiles in the proxy, names follow "METHOD /path/{param}", and the result is checked before it is printed
(check's analyzers, and every path of the spec replayed through the proxy's matching rules). No cluster is needed.`,
		Example: `  kubectl profiles generate svc/webapp -n booksapp --open-api webapp.yaml
  kubectl profiles generate svc/webapp -n booksapp --open-api webapp.yaml --kind httproute
  kubectl profiles generate svc/emoji -n emojivoto --proto emoji.proto --kind grpcroute
  kubectl profiles generate svc/webapp -n booksapp --from-capture capture.json`,
		RunE: cli.RunE(&o.args, o.Validate, o.Run),
	}
	f := cmd.Flags()
	f.StringVar(&o.OpenAPI, "open-api", "", "OpenAPI 2 or 3 spec (JSON or YAML; - for stdin)")
	f.StringVar(&o.Proto, "proto", "", "protobuf file with gRPC services (- for stdin)")
	f.StringVar(&o.Capture, "from-capture", "", "capture of requests (linkerd viz tap -o json, or kubectl profiles tap -o json; - for stdin)")
	f.BoolVar(&o.Template, "template", false, "a starting point with example routes to edit")
	f.BoolVar(&o.RuleTimeouts, "rule-timeouts", false, "HTTPRoutes: write x-linkerd-timeout as rules[].timeouts.request (Linkerd 2.20+) instead of the route annotation timeout.linkerd.io/request")
	f.BoolVar(&o.NoCatchAll, "no-catch-all", false, "HTTPRoutes: leave out the last rule (PathPrefix /) that keeps requests outside the spec routed (without it the proxy answers them 404)")
	f.StringVar(&o.Kind, "kind", KindServiceProfile, "what to generate: serviceprofile, httproute or grpcroute")
	f.Int32Var(&o.Port, "port", 0, "Service port the Gateway routes attach to (default: every port)")
	f.StringVar(&o.ClusterDomain, "cluster-domain", profile.DefaultClusterDomain, "cluster domain of the ServiceProfile name")
	return cmd
}

// Validate checks flags and arguments.
func (o *Options) Validate() error {
	if len(o.args) != 1 {
		return cli.Usagef("generate takes one argument, svc/NAME (got %d)", len(o.args))
	}
	a := o.args[0]
	for _, p := range []string{"svc/", "service/", "services/"} {
		if strings.HasPrefix(a, p) {
			o.service = a[len(p):]
		}
	}
	if o.service == "" || strings.Contains(o.service, "/") {
		return cli.Usagef("the argument must be svc/NAME (got %q)", a)
	}
	n := 0
	for _, set := range []bool{o.OpenAPI != "", o.Proto != "", o.Capture != "", o.Template} {
		if set {
			n++
		}
	}
	if n != 1 {
		return cli.Usagef("give exactly one of --open-api, --proto, --from-capture and --template")
	}
	switch o.Kind {
	case KindServiceProfile, KindHTTPRoute:
	case KindGRPCRoute:
		if o.Proto == "" {
			return cli.Usagef("--kind grpcroute needs --proto (GRPCRoutes match gRPC services and methods)")
		}
	default:
		return cli.Usagef("--kind must be serviceprofile, httproute or grpcroute (got %q)", o.Kind)
	}
	if o.Port < 0 || o.Port > 65535 {
		return cli.Usagef("--port must be 1..65535")
	}
	if o.RuleTimeouts && o.Kind != KindHTTPRoute {
		return cli.Usagef("--rule-timeouts applies to --kind httproute only")
	}
	if o.Port != 0 && o.Kind == KindServiceProfile {
		return cli.Usagef("--port applies to Gateway routes only (a ServiceProfile covers every port)")
	}
	if o.ClusterDomain == "" {
		return cli.Usagef("--cluster-domain must not be empty")
	}
	return nil
}

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

// Run reads the source, generates, verifies and prints.
func (o *Options) Run(ctx context.Context) error {
	t := gen.Target{Service: o.service, Namespace: o.namespace(), ClusterDomain: o.ClusterDomain, Port: o.Port}
	spec, from, err := o.read(ctx, t)
	if err != nil {
		return err
	}
	eps, notes := gen.Order(spec.Endpoints)
	notes = append(spec.Notes, notes...)
	for _, n := range notes {
		fmt.Fprintf(o.Streams.ErrOut, "note: %s\n", cli.Escape(n))
	}
	res, err := Generate(t, o.Kind, eps, o.RuleTimeouts, o.NoCatchAll)
	if err != nil {
		return &cli.Error{Code: cli.ExitError, Err: err}
	}
	if len(res.Problems) > 0 {
		for _, p := range res.Problems {
			fmt.Fprintf(o.Streams.ErrOut, "%s\n", cli.Escape(p))
		}
		return &cli.Error{Code: cli.ExitError, Err: fmt.Errorf("the generated routes failed verification (%d problem(s) above): nothing printed; report this with the input file", len(res.Problems))}
	}
	w := o.Streams.Out
	fmt.Fprintf(w, "# %d route(s) for %s from %s, from kubectl profiles generate.\n", len(eps), cli.Escape(t.Service+"."+t.Namespace), cli.Escape(from))
	fmt.Fprintf(w, "# %s\n", res.Summary)
	for i, obj := range res.Objects {
		if i > 0 {
			fmt.Fprintln(w, "---")
		}
		if err := cli.WriteYAML(w, obj); err != nil {
			return err
		}
	}
	return nil
}

// Result is what Generate made.
type Result struct {
	Objects []map[string]any
	// Summary says what was verified (one line).
	Summary string
	// Problems are verification failures; Objects must not be used then.
	Problems []string
}

// Generate builds the objects of kind for eps (in gen.Order's order) and
// verifies them: check's analyzers on the ServiceProfile (no error allowed;
// for Gateway routes, on the ServiceProfile with the same routes), every
// endpoint's sample request through the proxy's matching (ServiceProfile:
// first match; Gateway routes: the controller's model and the proxy's
// precedence), and every Gateway route served by the controller.
func Generate(t gen.Target, kind string, eps []gen.Endpoint, ruleTimeouts, noCatchAll bool) (Result, error) {
	var res Result
	sp := gen.Profile(t, eps)
	issues, err := gen.CheckProfile(sp, t.ClusterDomain, finding.Error)
	if err != nil {
		return res, err
	}
	for _, is := range issues {
		res.Problems = append(res.Problems, fmt.Sprintf("check: %s [%s] %s: %s", is.Level, is.Code, is.Route, is.Message))
	}
	switch kind {
	case KindServiceProfile:
		bad, err := gen.VerifyProfile(sp, t, eps)
		if err != nil {
			return res, err
		}
		res.Problems = append(res.Problems, bad...)
		obj, err := gen.Object(sp)
		if err != nil {
			return res, err
		}
		res.Objects = append(res.Objects, obj)
		res.Summary = "Verified: check finds no error; each path of the spec gets its own route (the proxy takes the first match)."
	case KindHTTPRoute:
		rs, placed, err := gen.HTTPRoutes(t, eps, ruleTimeouts, !noCatchAll)
		if err != nil {
			return res, err
		}
		bad := gen.VerifyRoutes(gen.Simulate(t, nil, rs, nil), eps, placed)
		res.Problems = append(res.Problems, bad...)
		for _, r := range rs {
			obj, err := gen.Object(r)
			if err != nil {
				return res, err
			}
			res.Objects = append(res.Objects, obj)
		}
		res.Summary = "Verified: every rule is served by Linkerd's policy controller and each path of the spec gets its own rule (the proxy's most-specific match). Apply the documents in this order (ties between rules go to the route created first, then by name)."
		if ruleTimeouts {
			res.Summary += " rules[].timeouts.request needs Linkerd 2.20 or later."
		}
		if noCatchAll {
			res.Summary += " No catch-all rule (--no-catch-all): the proxy answers requests to paths the spec does not list with 404 itself."
		} else {
			res.Summary += " The last rule (PathPrefix /) keeps requests to paths the spec does not list (health checks, ...) routed, as the default route did; --no-catch-all leaves it out."
		}
	case KindGRPCRoute:
		rs, placed, err := gen.GRPCRoutes(t, eps)
		if err != nil {
			return res, err
		}
		res.Problems = append(res.Problems, gen.VerifyRoutes(gen.Simulate(t, nil, nil, rs), eps, placed)...)
		for _, r := range rs {
			obj, err := gen.Object(r)
			if err != nil {
				return res, err
			}
			res.Objects = append(res.Objects, obj)
		}
		res.Summary = "Verified: every rule is served by Linkerd's policy controller and each method gets its own rule. A GRPCRoute hides every HTTPRoute on the same port."
	}
	return res, nil
}

// read returns the endpoints of the chosen source and a name for it.
func (o *Options) read(ctx context.Context, t gen.Target) (*gen.Spec, string, error) {
	load := func(path string) ([]byte, error) {
		var r io.Reader
		if path == "-" {
			r = source.Interruptible(ctx, o.Streams.In, "<stdin>")
		} else {
			f, err := source.Open(ctx, path)
			if err != nil {
				return nil, &cli.Error{Code: cli.ExitError, Err: err}
			}
			defer f.Close()
			r = f
		}
		data, err := io.ReadAll(io.LimitReader(r, source.MaxDocumentBytes+1))
		if err != nil {
			return nil, &cli.Error{Code: cli.ExitError, Err: fmt.Errorf("cannot read %s: %v", path, err)}
		}
		if len(data) > source.MaxDocumentBytes {
			return nil, &cli.Error{Code: cli.ExitError, Err: fmt.Errorf("%s is larger than %d MiB: split it", path, source.MaxDocumentBytes>>20)}
		}
		return data, nil
	}
	fail := func(path string, err error) error {
		return &cli.Error{Code: cli.ExitError, Err: fmt.Errorf("%s: %v", path, err)}
	}
	switch {
	case o.OpenAPI != "":
		data, err := load(o.OpenAPI)
		if err != nil {
			return nil, "", err
		}
		spec, err := gen.ParseOpenAPI(data)
		if err != nil {
			return nil, "", fail(o.OpenAPI, err)
		}
		return spec, o.OpenAPI, nil
	case o.Proto != "":
		data, err := load(o.Proto)
		if err != nil {
			return nil, "", err
		}
		spec, err := gen.ParseProto(data)
		if err != nil {
			return nil, "", fail(o.Proto, err)
		}
		return spec, o.Proto, nil
	case o.Template:
		return gen.TemplateSpec(), "the template (replace the example routes)", nil
	}
	var r io.Reader
	if o.Capture == "-" {
		r = source.Interruptible(ctx, o.Streams.In, "<stdin>")
	} else {
		f, err := source.Open(ctx, o.Capture)
		if err != nil {
			return nil, "", &cli.Error{Code: cli.ExitError, Err: err}
		}
		defer f.Close()
		r = f
	}
	spec, err := FromCapture(r, t)
	if err != nil {
		return nil, "", fail(o.Capture, err)
	}
	return spec, o.Capture, nil
}

// FromCapture groups the requests of a capture sent to the target Service
// into path templates, as `unmatched -o yaml` does (diag/template), and
// returns one endpoint per template.
func FromCapture(r io.Reader, t gen.Target) (*gen.Spec, error) {
	rd := tapcapture.NewReader(r)
	res := tapprofile.Resolver{ClusterDomain: t.ClusterDomain, DefaultNamespace: t.Namespace}
	g := template.NewGrouper(template.Options{})
	other := 0
	unroutable := map[string]int{} // requests left out, by reason
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if ev.Kind != tapclient.KindRequest {
			continue
		}
		k, ok := res.Lookup(ev)
		if !ok || k.Service != t.Service || k.Namespace != t.Namespace {
			other++
			continue
		}
		if why := template.Unroutable(ev.Method, ev.Path); why != "" {
			unroutable[why]++ // a route made from it would not match it
			continue
		}
		g.Add(ev.Method, ev.Path, 0)
	}
	spec := &gen.Spec{}
	if rd.Truncated {
		spec.Notes = append(spec.Notes, fmt.Sprintf("the capture ends inside an object (line %d): read up to it", rd.TruncatedLine))
	}
	if other > 0 {
		spec.Notes = append(spec.Notes, fmt.Sprintf("%d request(s) in the capture are not to %s.%s (or name no Service): skipped", other, t.Service, t.Namespace))
	}
	reasons := slices.Sorted(maps.Keys(unroutable))
	for _, why := range reasons {
		spec.Notes = append(spec.Notes, fmt.Sprintf("%d request(s) to %s.%s in the capture have %s: skipped, no route can match them", unroutable[why], t.Service, t.Namespace, why))
	}
	groups := g.Groups()
	cov := template.CoverageOf(groups)
	untemplated := cov.Other + cov.CatchAll
	for _, gr := range groups {
		if gr.IsOther() || gr.Template == template.RestPlaceholder || gr.Template == "/"+template.RestPlaceholder {
			continue
		}
		if strings.Contains(gr.Template, template.RestPlaceholder) {
			// A path over MaxPathLen: an endpoint parameter is one segment,
			// so its route would not match the requests of the group.
			untemplated += gr.Count
			continue
		}
		spec.Endpoints = append(spec.Endpoints, gen.Endpoint{Method: gr.Method, Path: gr.Template})
	}
	if untemplated > 0 {
		spec.Notes = append(spec.Notes, fmt.Sprintf("%d request(s) got no template (too many distinct templates, or paths over %d bytes): no route for them", untemplated, template.MaxPathLen))
	}
	if len(spec.Endpoints) == 0 {
		if len(reasons) > 0 {
			var b strings.Builder
			for _, why := range reasons {
				fmt.Fprintf(&b, "; %d with %s", unroutable[why], why)
			}
			return nil, fmt.Errorf("no request to %s.%s in the capture that a route can match (%d other request(s)%s): nothing to generate", t.Service, t.Namespace, other, b.String())
		}
		return nil, fmt.Errorf("no request to %s.%s in the capture (%d other request(s)): nothing to generate", t.Service, t.Namespace, other)
	}
	return spec, nil
}
