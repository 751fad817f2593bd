package analyze

import (
	"fmt"
	"strconv"
	"strings"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/proxy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
)

// Issue is a finding located in a ServiceProfile object.
type Issue struct {
	finding.Finding
	// Field is the path of the offending field, e.g. spec.routes[2].timeout
	// ("" for the whole object).
	Field string
	// Line is the 1-based line of Field in the file, 0 when unknown.
	Line int
}

// Origin says where a checked object comes from.
type Origin struct {
	File      string // "" for objects read from the cluster, "-" for stdin
	Line      int
	Namespace string // "" when the file does not say and no default was given
	Name      string
}

// Result is what Check found in one object.
type Result struct {
	Origin
	// Profile is false for documents that could not be read at all
	// (yaml-invalid): they are not counted as checked profiles.
	Profile bool
	Issues  []Issue
}

// The cluster facts the analyzers read are the model's.
type (
	NamespacedName = model.NamespacedName
	HTTPRoute      = model.HTTPRoute
	Cluster        = model.Cluster
)

// Options tune Check.
type Options struct {
	ClusterDomain string // "" means cluster.local
	// DefaultNamespace is used for objects without metadata.namespace (as
	// kubectl apply would); "" leaves their namespace unknown.
	DefaultNamespace string
	// Cluster enables the analyzers that need cluster facts.
	Cluster *Cluster
}

// IsServiceProfile tells whether doc is a linkerd.io ServiceProfile (any
// version). Other objects are not checked.
func IsServiceProfile(doc *source.Document) bool {
	if doc.Err != nil {
		return false
	}
	group, _, _ := strings.Cut(doc.APIVersion(), "/")
	return doc.Kind() == profile.Kind && group == profile.Group
}

// checker accumulates the issues of one object.
type checker struct {
	doc    *source.Document
	opts   Options
	routes []interface{} // spec.routes as JSON, for route names
	issues []Issue
	codes  map[string]bool
}

func (c *checker) add(code string, level finding.Level, path source.Path, format string, args ...interface{}) {
	ri, name := c.routeOf(path)
	c.addAt(finding.Finding{Code: code, Level: level, Message: fmt.Sprintf(format, args...), RouteIndex: ri, Route: name}, path)
}

func (c *checker) addAt(f finding.Finding, path source.Path) {
	path = existing(c.doc.Object, path)
	iss := Issue{Finding: f, Field: path.String()}
	if c.doc.File != "" {
		iss.Line = c.doc.LineOf(path)
	}
	c.issues = append(c.issues, iss)
	c.codes[f.Code] = true
}

// routeOf reads the route index and name from a path under spec.routes.
func (c *checker) routeOf(path source.Path) (int, string) {
	if len(path) < 3 || path[0] != "spec" || path[1] != "routes" {
		return -1, ""
	}
	i, ok := path[2].(int)
	if !ok {
		return -1, ""
	}
	return i, c.routeName(i)
}

func (c *checker) routeName(i int) string {
	if i < 0 || i >= len(c.routes) {
		return ""
	}
	m, _ := c.routes[i].(map[string]interface{})
	name, _ := m["name"].(string)
	return name
}

// existing trims path to the part that exists in obj: translated and
// proxy paths can name parts the spec does not have (e.g. the `all` that
// wraps a condition with several fields).
func existing(obj map[string]interface{}, path source.Path) source.Path {
	var v interface{} = obj
	for i, e := range path {
		switch k := e.(type) {
		case string:
			m, ok := v.(map[string]interface{})
			if !ok {
				return path[:i]
			}
			if v, ok = m[k]; !ok {
				return path[:i]
			}
		case int:
			l, ok := v.([]interface{})
			if !ok || k < 0 || k >= len(l) {
				return path[:i]
			}
			v = l[k]
		}
	}
	return path
}

func routePath(i int, rest ...interface{}) source.Path {
	return source.Path{"spec", "routes", i}.Append(rest...)
}

// Check runs every analyzer that applies to doc. A document that is not
// valid YAML gives one yaml-invalid issue.
func Check(doc *source.Document, opts Options) Result {
	if opts.ClusterDomain == "" {
		opts.ClusterDomain = profile.DefaultClusterDomain
	}
	c := &checker{doc: doc, opts: opts, codes: map[string]bool{}}
	res := Result{Origin: Origin{File: doc.File, Line: doc.Line}}
	if doc.Err != nil {
		c.add(CodeYAMLInvalid, finding.Error, nil, "%v: fix the syntax (kubectl cannot apply this file)", doc.Err)
		res.Issues = c.issues
		return res
	}
	res.Profile = true
	res.Name, res.Namespace = doc.Name(), doc.Namespace()
	if res.Namespace == "" {
		res.Namespace = opts.DefaultNamespace
	}
	if spec, ok := doc.Object["spec"].(map[string]interface{}); ok {
		c.routes, _ = spec["routes"].([]interface{})
	}
	c.check(res.Namespace)
	sortIssues(c.issues)
	res.Issues = c.issues
	return res
}

func (c *checker) check(namespace string) {
	doc := c.doc
	c.apiVersion()
	for _, s := range walkSchema(doc.Object) {
		level := finding.Error
		if spec, ok := finding.Lookup(s.code); ok {
			level = spec.Level
		}
		c.add(s.code, level, s.path, "%s", s.msg)
	}
	ref, named := c.name(namespace)

	sp, err := profile.Decode(doc.Raw)
	if err != nil {
		if !c.codes[CodeUndecodable] {
			c.add(CodeUndecodable, finding.Error, source.Path{"spec"}, "the control plane cannot decode the object, so the destination never sees it (and its ServiceProfile watch can stall): %v", err)
		}
		return
	}
	if _, err := profile.DecodeStrict(doc.Raw); err != nil && !c.codes[CodeFieldUnknown] && !c.codes[CodeFieldPruned] {
		c.add(CodeFieldUnknown, finding.Error, nil, "the sp-validator webhook's strict decoding rejects the object: %v", err)
	}
	if rb := sp.Spec.RetryBudget; rb != nil && rb.RetryRatio < 0 {
		c.add(CodeRetryRatioNegative, finding.Error, source.Path{"spec", "retryBudget", "retryRatio"},
			"retryRatio %v is negative: the sp-validator webhook rejects the profile (and the proxy would drop the budget); use a ratio such as 0.2", rb.RetryRatio)
	}

	fqdn := doc.Name()
	if named {
		fqdn = profile.FQDN(ref.Name, ref.Namespace, c.opts.ClusterDomain)
	}
	dp, notes, err := translate.Profile(sp, translate.Target{Service: ref, FQDN: fqdn, Port: 80})
	for _, n := range notes {
		timeout := ""
		if r := sp.Spec.Routes[n.RouteIndex]; r != nil {
			timeout = r.Timeout
		}
		c.addAt(finding.Finding{Code: CodeTimeoutUnparsable, Level: finding.Warning, RouteIndex: n.RouteIndex, Route: n.RouteName,
			Message: fmt.Sprintf("timeout %q does not parse as a Go duration: the sp-validator webhook rejects the profile, and without the webhook the route is served with no timeout at all; use a Go duration such as 500ms, 10s or 1m30s", timeout)},
			parseFieldPath(n.Field))
	}
	if err != nil {
		if ue, ok := err.(*translate.UnservableError); ok {
			f := Unservable(ue, "the profile")
			c.addAt(f, parseFieldPath(ue.Field))
		}
	} else {
		c.proxyAndRoutes(sp, dp)
	}
	if named {
		c.cluster(sp, ref, namespace)
	}
}

// apiVersion reports versions of linkerd.io that do not serve ServiceProfiles.
func (c *checker) apiVersion() {
	_, version, _ := strings.Cut(c.doc.APIVersion(), "/")
	switch version {
	case "v1alpha2":
	case "v1alpha1":
		spec, _ := c.doc.Object["spec"].(map[string]interface{})
		if _, ok := spec["routes"]; !ok {
			c.add(CodeSchemaInvalid, finding.Error, source.Path{"spec"}, "linkerd.io/v1alpha1 requires spec.routes: the API server rejects the object; use apiVersion linkerd.io/v1alpha2")
		}
	default:
		c.add(CodeSchemaInvalid, finding.Error, source.Path{"apiVersion"}, "apiVersion %q is not served by the ServiceProfile CRD: use linkerd.io/v1alpha2", c.doc.APIVersion())
	}
}

// name checks metadata.name: valid for the API server, and the FQDN the
// destination looks up. It returns the Service the profile is for.
func (c *checker) name(namespace string) (profile.ServiceRef, bool) {
	name := c.doc.Name()
	path := source.Path{"metadata", "name"}
	if name == "" {
		meta, _ := c.doc.Object["metadata"].(map[string]interface{})
		if _, ok := meta["generateName"]; ok {
			c.add(CodeNameNotFQDN, finding.Error, source.Path{"metadata", "generateName"}, "generateName gives a random name, which the destination never looks up: set metadata.name to <svc>.<ns>.svc.%s", c.opts.ClusterDomain)
		} else {
			c.add(CodeSchemaInvalid, finding.Error, source.Path{"metadata"}, "metadata.name is missing: the API server rejects the object; name it <svc>.<ns>.svc.%s", c.opts.ClusterDomain)
		}
		return profile.ServiceRef{}, false
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		c.add(CodeNameInvalid, finding.Error, path, "metadata.name %q is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters, starting and ending with a letter or digit): the API server rejects the object; %s",
			name, nameFix(name, namespace, c.opts.ClusterDomain))
		return profile.ServiceRef{}, false
	}
	ref, ok := profile.ParseFQDN(name, c.opts.ClusterDomain)
	if !ok {
		c.add(CodeNameNotFQDN, finding.Error, path, "%s", notFQDN(name, namespace, c.opts.ClusterDomain))
		return ref, false
	}
	if namespace != "" && ref.Namespace != namespace {
		c.add(CodeClientOverride, finding.Info, source.Path{"metadata", "namespace"}, "%s", c.overrideMessage(ref, namespace))
	}
	return ref, true
}

// nameFix suggests a valid name: the same one lowercased without a
// trailing dot when that is a Service FQDN, else the expected form.
func nameFix(name, namespace, domain string) string {
	fixed := strings.TrimSuffix(strings.ToLower(name), ".")
	if _, ok := profile.ParseFQDN(fixed, domain); ok && len(validation.IsDNS1123Subdomain(fixed)) == 0 {
		return fmt.Sprintf("use %q (names are compared exactly)", fixed)
	}
	ns := namespace
	if ns == "" {
		ns = "<ns>"
	}
	return fmt.Sprintf("name it after the Service: <svc>.%s.svc.%s", ns, domain)
}

// notFQDN explains why a name is never looked up and what it should be.
func notFQDN(name, namespace, domain string) string {
	const never = "the destination only looks up <svc>.<ns>.svc.%s, so this profile is never used"
	base := fmt.Sprintf(never, domain)
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	switch {
	case strings.HasSuffix(name, "."):
		return fmt.Sprintf("the name %q ends with a dot: %s; drop the dot", name, base)
	case len(labels) >= 4 && labels[2] == "svc" && strings.Join(labels[3:], ".") != domain:
		return fmt.Sprintf("the name %q has cluster domain %q, not %q: %s; rename it, or pass --cluster-domain %s if the cluster uses that domain",
			name, strings.Join(labels[3:], "."), domain, base, strings.Join(labels[3:], "."))
	case len(labels) == 1 && namespace != "":
		return fmt.Sprintf("the name %q is a short name: %s; rename it to %s", name, base, profile.FQDN(labels[0], namespace, domain))
	case len(labels) == 2 || (len(labels) == 3 && labels[2] == "svc"):
		return fmt.Sprintf("the name %q lacks the cluster domain: %s; rename it to %s", name, base, profile.FQDN(labels[0], labels[1], domain))
	case len(labels) == 5+strings.Count(domain, ".") && labels[3] == "svc":
		return fmt.Sprintf("the name %q is a pod DNS name (<host>.<svc>.<ns>.svc...): profiles are only looked up by Service name; %s", name, base)
	}
	return fmt.Sprintf("the name %q is not a Service FQDN: %s", name, base)
}

func (c *checker) overrideMessage(ref profile.ServiceRef, namespace string) string {
	msg := fmt.Sprintf("this is a client-side override: it lives in namespace %s, not in the Service's namespace %s, so only clients (pods) in namespace %s get it when they call %s.%s, instead of the Service's own profile",
		namespace, ref.Namespace, namespace, ref.Name, ref.Namespace)
	if cl := c.opts.Cluster; cl != nil && cl.Profiles != nil {
		own := NamespacedName{Namespace: ref.Namespace, Name: c.doc.Name()}
		if cl.Profiles[own] {
			msg += fmt.Sprintf(" (%s/%s)", own.Namespace, own.Name)
		} else if cl.Listed[ref.Namespace] {
			msg += " (there is none: other clients get the default profile)"
		}
	}
	return msg
}

// proxyAndRoutes runs what needs the translated profile.
func (c *checker) proxyAndRoutes(sp *profile.ServiceProfile, dp *pb.DestinationProfile) {
	p, drops := proxy.Convert(dp)
	for _, l := range dropIssues(dp, p, drops) {
		if l.f.Code == CodeRetryBudgetDropped && c.codes[CodeRetryRatioNegative] {
			continue // same cause, already reported
		}
		if l.f.Code == CodeNameDroppedByProxy {
			continue // the served name is the looked-up FQDN, not metadata.name
		}
		c.addAt(l.f, l.path)
	}
	c.routeChecks(sp, dp, p, drops)
}

// parseFieldPath reads "spec.routes[2].condition" back into a Path.
func parseFieldPath(s string) source.Path {
	var out source.Path
	for _, part := range strings.Split(s, ".") {
		for part != "" {
			i := strings.IndexByte(part, '[')
			if i < 0 {
				out = append(out, part)
				break
			}
			if i > 0 {
				out = append(out, part[:i])
			}
			j := strings.IndexByte(part, ']')
			if j < i {
				break
			}
			if n, err := strconv.Atoi(part[i+1 : j]); err == nil {
				out = append(out, n)
			}
			part = part[j+1:]
		}
	}
	return out
}

// sortIssues orders issues like finding.Sort (worst first, then route,
// then code), then by line and message so output is stable.
func sortIssues(is []Issue) {
	less := func(a, b Issue) bool {
		if a.Level != b.Level {
			return a.Level > b.Level
		}
		if a.RouteIndex != b.RouteIndex {
			return a.RouteIndex < b.RouteIndex
		}
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Message < b.Message
	}
	for i := 1; i < len(is); i++ {
		for j := i; j > 0 && less(is[j], is[j-1]); j-- {
			is[j], is[j-1] = is[j-1], is[j]
		}
	}
}
