package analyze

import (
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// sp builds a ServiceProfile document named after Service api in books.
func sp(spec string) string { return spNamed("api.books.svc.cluster.local", "books", spec) }

func spNamed(name, ns, spec string) string {
	return "apiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata:\n  name: " + name + "\n  namespace: " + ns + "\nspec:\n" + spec
}

const okRoute = "  routes:\n  - name: GET /\n    condition: {method: GET, pathRegex: /}\n"

// testCluster: api (port 80, nothing special), webapp (an HTTPRoute is
// attached), db (3306 is a default opaque port), ext (ExternalName).
func testCluster() *Cluster {
	svc := func(name string, ports ...uint32) expect.Service {
		s := expect.Service{Name: name, Namespace: "books"}
		for _, p := range ports {
			s.Ports = append(s.Ports, expect.ServicePort{Port: p})
		}
		return s
	}
	ext := svc("ext", 80)
	ext.ExternalName = true
	return &Cluster{
		Services: map[NamespacedName]expect.Service{
			{Namespace: "books", Name: "api"}: svc("api", 80), {Namespace: "books", Name: "webapp"}: svc("webapp", 80),
			{Namespace: "books", Name: "db"}: svc("db", 80, 3306), {Namespace: "books", Name: "ext"}: ext,
		},
		Listed:     map[string]bool{"books": true},
		HTTPRoutes: map[NamespacedName][]HTTPRoute{{Namespace: "books", Name: "webapp"}: {{Group: "policy.linkerd.io", Namespace: "books", Name: "webapp-routes"}}},
		Profiles:   map[NamespacedName]bool{},
	}
}

// codeCases has, for every code check emits, a document that triggers it
// and a close one that does not.
var codeCases = []struct {
	code, pos, neg string
	cluster        bool
	says           string // the message must contain this
}{
	{code: CodeYAMLInvalid, pos: sp(okRoute) + "  x: [\n", neg: sp(okRoute), says: "not valid YAML"},
	{code: CodeSchemaInvalid, pos: sp("  routes:\n  - condition: {method: GET}\n"), neg: sp(okRoute), says: "has no name"},
	{code: CodeSchemaInvalid, pos: sp("  routes:\n  - name: r\n    condition: {method: GET}\n    isRetryable: 'true'\n"), neg: sp("  routes:\n  - name: r\n    condition: {method: GET}\n    isRetryable: true\n"), says: "must be a boolean"},
	{code: CodeFieldPruned, pos: sp(okRoute + "    responseClasses:\n    - condition: {status: {min: 200, max: 299}}\n      isSuccess: true\n"),
		neg: sp(okRoute + "    responseClasses:\n    - condition: {status: {min: 500, max: 599}}\n      isFailure: true\n"), says: "isFailure"},
	{code: CodeFieldUnknown, pos: sp("  routes:\n  - name: r\n    condition:\n      all: [{method: GET, regex: /x}]\n"),
		neg: sp("  routes:\n  - name: r\n    condition:\n      all: [{method: GET, pathRegex: /x}]\n"), says: "pathRegex"},
	{code: CodeUndecodable, pos: sp(okRoute + "  opaquePorts: ['8080']\n"), neg: sp(okRoute), says: "opaque-ports"},
	{code: CodeUndecodable, pos: sp("  routes:\n  - name: r\n    condition:\n      not: [{method: GET}]\n"), neg: sp("  routes:\n  - name: r\n    condition:\n      all: [{not: {method: GET}}]\n"), says: "wrap it"},
	{code: CodeNameInvalid, pos: spNamed("API.books.svc.cluster.local", "books", okRoute), neg: sp(okRoute), says: `"api.books.svc.cluster.local"`},
	{code: CodeNameNotFQDN, pos: spNamed("api.books.svc", "books", okRoute), neg: sp(okRoute), says: "api.books.svc.cluster.local"},
	{code: CodeClientOverride, pos: spNamed("api.books.svc.cluster.local", "shop", okRoute), neg: sp(okRoute), says: "clients (pods) in namespace shop"},
	{code: CodeUnservable, pos: sp("  routes:\n  - name: r\n    condition: {}\n"), neg: sp(okRoute), says: "must have a field set"},
	{code: CodeUnservable, pos: sp(okRoute + "  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: ''}\n"), neg: sp(okRoute + "  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 10s}\n"), says: "ttl"},
	{code: CodeUnservable, pos: sp(okRoute + "    responseClasses: [{condition: {status: {min: 500, max: 99}}}]\n"), neg: sp(okRoute + "    responseClasses: [{condition: {status: {min: 500, max: 599}}}]\n"), says: "out of bounds"},
	{code: CodeTimeoutUnparsable, pos: sp(okRoute + "    timeout: 1 s\n"), neg: sp(okRoute + "    timeout: 1s\n"), says: `"1 s"`},
	{code: CodeTimeoutNegative, pos: sp(okRoute + "    timeout: -5s\n"), neg: sp(okRoute + "    timeout: 5s\n"), says: "negative"},
	{code: CodeRetryRatioNegative, pos: sp(okRoute + "  retryBudget: {retryRatio: -1, minRetriesPerSecond: 10, ttl: 10s}\n"), neg: sp(okRoute + "  retryBudget: {retryRatio: 0, minRetriesPerSecond: 10, ttl: 10s}\n"), says: "webhook"},
	{code: CodeRegexDropped, pos: sp("  routes:\n  - name: r\n    condition: {pathRegex: '/a(?=b)'}\n"), neg: sp("  routes:\n  - name: r\n    condition: {pathRegex: '/ab'}\n"), says: "look-around"},
	{code: CodeMatchDropped, pos: sp("  routes:\n  - name: r\n    condition: {method: GET, pathRegex: '/(a)\\1'}\n"), neg: sp("  routes:\n  - name: r\n    condition: {method: GET, pathRegex: '/(a)a'}\n"), says: "more requests"},
	{code: CodeRouteDropped, pos: sp("  routes:\n  - name: r\n    condition: {method: 'GET /'}\n"), neg: sp("  routes:\n  - name: r\n    condition: {method: PURGE}\n"), says: "method"},
	{code: CodeStatusOneSided, pos: sp(okRoute + "    responseClasses: [{condition: {status: {max: 599}}, isFailure: true}]\n"), neg: sp(okRoute + "    responseClasses: [{condition: {status: {min: 599, max: 599}}, isFailure: true}]\n"), says: "both bounds"},
	{code: CodeClassDropped, pos: sp(okRoute + "    responseClasses: [{condition: {any: [{status: {}}]}, isFailure: true}]\n"), neg: sp(okRoute + "    responseClasses: [{condition: {any: [{status: {min: 500, max: 504}}]}, isFailure: true}]\n"), says: "response_classes[0]"},
	{code: CodeRetryBudgetDropped, pos: sp(okRoute + "    isRetryable: true\n  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 500ms}\n"), neg: sp(okRoute + "    isRetryable: true\n  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 1s}\n"), says: "1 retryable route"},
	{code: CodeDstOverrideDropped, pos: sp("  dstOverrides: [{authority: 'api-v2.books.svc.cluster.local:80', weight: 0}]\n"), neg: sp("  dstOverrides: [{authority: 'api-v2.books.svc.cluster.local:80', weight: 1m}]\n"), says: "weight 0"},
	{code: CodeRouteUnreachable, pos: sp("  routes:\n  - name: a\n    condition: {pathRegex: '/x/.*'}\n  - name: b\n    condition: {method: DELETE, pathRegex: /x/y}\n"),
		neg: sp("  routes:\n  - name: b\n    condition: {method: DELETE, pathRegex: /x/y}\n  - name: a\n    condition: {pathRegex: '/x/.*'}\n"), says: `route 0 "a"`},
	{code: CodeRouteNameDuplicate, pos: sp("  routes:\n  - name: a\n    condition: {method: GET}\n  - name: a\n    condition: {method: PUT}\n"), neg: sp("  routes:\n  - name: a\n    condition: {method: GET}\n  - name: b\n    condition: {method: PUT}\n"), says: "merge"},
	{code: CodeRetryNonIdempotent, pos: sp("  routes:\n  - name: a\n    condition: {method: PATCH}\n    isRetryable: true\n"), neg: sp("  routes:\n  - name: a\n    condition: {method: PUT}\n    isRetryable: true\n"), says: "PATCH"},
	{code: CodeRetryRatioAboveOne, pos: sp(okRoute + "  retryBudget: {retryRatio: 1.5, minRetriesPerSecond: 10, ttl: 10s}\n"), neg: sp(okRoute + "  retryBudget: {retryRatio: 1, minRetriesPerSecond: 10, ttl: 10s}\n"), says: "1.5"},
	{code: CodeRegexPartlyAnchored, pos: sp("  routes:\n  - name: r\n    condition: {pathRegex: '/a|/b'}\n"), neg: sp("  routes:\n  - name: r\n    condition: {pathRegex: '/(a|b)'}\n"), says: "(/a|/b)"},
	{code: CodeRegexDiffersFromGo, pos: sp("  routes:\n  - name: r\n    condition: {pathRegex: '/\\w+'}\n"), neg: sp("  routes:\n  - name: r\n    condition: {pathRegex: '/[a-z_0-9]+'}\n"), says: `\\w`},
	{code: CodeProfileWithoutRoutes, pos: sp("  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 10s}\n"), neg: sp(okRoute), says: "neither routes"},
	{code: CodeServiceNotFound, pos: spNamed("apj.books.svc.cluster.local", "books", okRoute), neg: sp(okRoute), cluster: true, says: "did you mean Service api"},
	{code: CodeServiceRejected, pos: spNamed("ext.books.svc.cluster.local", "books", okRoute), neg: sp(okRoute), cluster: true, says: "ExternalName"},
	{code: CodeOpaquePort, pos: spNamed("db.books.svc.cluster.local", "books", okRoute), neg: sp(okRoute), cluster: true, says: "3306"},
	{code: CodeHTTPRouteIgnored, pos: spNamed("webapp.books.svc.cluster.local", "books", okRoute), neg: spNamed("webapp.books.svc.cluster.local", "books", "  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 10s}\n"), cluster: true, says: "webapp-routes"},
}

func checkString(t *testing.T, doc string, cluster bool) Result {
	t.Helper()
	docs, err := source.Load("t.yaml", strings.NewReader(doc))
	if err != nil || len(docs) != 1 {
		t.Fatalf("load: %d docs, %v", len(docs), err)
	}
	opts := Options{}
	if cluster {
		opts.Cluster = testCluster()
	}
	return Check(&docs[0], opts)
}

func issuesOf(r Result, code string) []Issue {
	var out []Issue
	for _, is := range r.Issues {
		if is.Code == code {
			out = append(out, is)
		}
	}
	return out
}

func TestEveryCode(t *testing.T) {
	for _, c := range codeCases {
		t.Run(c.code, func(t *testing.T) {
			pos := checkString(t, c.pos, c.cluster)
			got := issuesOf(pos, c.code)
			if len(got) == 0 {
				t.Fatalf("positive case has no %s; got %s", c.code, renderResults([]Result{pos}))
			}
			spec, _ := finding.Lookup(c.code)
			for _, is := range got {
				if !strings.Contains(is.Message, c.says) {
					t.Errorf("message %q does not contain %q", is.Message, c.says)
				}
				if is.Line == 0 {
					t.Errorf("no line for %s", is.Code)
				}
				if is.Level > spec.Level {
					t.Errorf("level %s above the code's registered %s", is.Level, spec.Level)
				}
			}
			neg := checkString(t, c.neg, c.cluster)
			if len(issuesOf(neg, c.code)) != 0 {
				t.Errorf("negative case has %s: %s", c.code, renderResults([]Result{neg}))
			}
		})
	}
}

// getOnly are codes only `get` emits (they need a live destination lookup).
var getOnly = map[string]bool{
	CodeDefaultProfile: true, CodeDestinationSilent: true, CodePortNotOnService: true,
	CodeOpaqueProtocolStale: true, CodeDrift: true, CodeNameNearMiss: true, CodeNameDroppedByProxy: true,
}

func TestEveryCheckCodeHasACase(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range codeCases {
		covered[c.code] = true
	}
	for _, code := range allAnalyzeCodes {
		if _, ok := finding.Lookup(code); !ok {
			t.Errorf("code %s is not registered", code)
		}
		if !covered[code] && !getOnly[code] {
			t.Errorf("code %s has no positive/negative case in codeCases", code)
		}
	}
}

var allAnalyzeCodes = []string{
	CodeDefaultProfile, CodeProfileWithoutRoutes, CodeDestinationSilent, CodeUnservable, CodeUndecodable,
	CodePortNotOnService, CodeServiceRejected, CodeTimeoutUnparsable, CodeTimeoutNegative, CodeRegexDropped,
	CodeMatchDropped, CodeStatusOneSided, CodeClassDropped, CodeRetryBudgetDropped, CodeDstOverrideDropped,
	CodeNameNearMiss, CodeOpaquePort, CodeOpaqueProtocolStale, CodeHTTPRouteIgnored, CodeClientOverride, CodeDrift,
	CodeYAMLInvalid, CodeSchemaInvalid, CodeFieldPruned, CodeFieldUnknown, CodeNameInvalid, CodeNameNotFQDN,
	CodeServiceNotFound, CodeRetryRatioNegative, CodeRouteDropped, CodeNameDroppedByProxy, CodeRouteUnreachable,
	CodeRouteNameDuplicate, CodeRetryNonIdempotent, CodeRetryRatioAboveOne, CodeRegexPartlyAnchored, CodeRegexDiffersFromGo,
}
