package analyze

import (
	"errors"
	"strings"
	"testing"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	gproto "google.golang.org/protobuf/proto"

	"github.com/kubectl-profiles/kubectl-profiles/diag/drift"
	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"

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
	{code: CodeRouteOverlap, pos: sp("  routes:\n  - name: a\n    condition: {method: GET, pathRegex: '/books/.*'}\n  - name: b\n    condition: {pathRegex: '/books/[0-9]+'}\n"),
		neg: sp("  routes:\n  - name: a\n    condition: {method: GET, pathRegex: '/books/.*'}\n  - name: b\n    condition: {method: POST, pathRegex: '/books/[0-9]+'}\n"), says: "e.g. GET /books/0"},
	{code: CodeRouteShadowingUndecided, pos: sp("  routes:\n  - name: a\n    condition: {pathRegex: '/w/.*\\bx'}\n  - name: b\n    condition: {pathRegex: /w/x}\n"),
		neg: sp("  routes:\n  - name: a\n    condition: {pathRegex: '/w/.*\\bx'}\n  - name: b\n    condition: {pathRegex: /v/x}\n"), says: "could not decide whether route 1 is reachable"},
	{code: CodeRouteNameEmpty, pos: sp("  routes:\n  - name: ''\n    condition: {method: GET}\n"), neg: sp("  routes:\n  - name: r\n    condition: {method: GET}\n"), says: "empty name"},
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
	// A profile the destination cannot serve (it sends nothing): proxies get
	// no profile and use the HTTPRoutes (profile-unservable says so).
	{code: CodeHTTPRouteIgnored, pos: spNamed("webapp.books.svc.cluster.local", "books", okRoute), neg: spNamed("webapp.books.svc.cluster.local", "books", okRoute+"  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 10 seconds}\n"), cluster: true, says: "webapp-routes"},
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
			for _, is := range got {
				if !strings.Contains(is.Message, c.says) {
					t.Errorf("message %q does not contain %q", is.Message, c.says)
				}
				if is.Line == 0 {
					t.Errorf("no line for %s", is.Code)
				}
			}
			neg := checkString(t, c.neg, c.cluster)
			if len(issuesOf(neg, c.code)) != 0 {
				t.Errorf("negative case has %s: %s", c.code, renderResults([]Result{neg}))
			}
		})
	}
}

// TestRegistryGrid walks the registry itself: every code of every analyzer
// has a triggering and a near-miss case (a document for check, a lookup
// for get), every emitted finding has its code's registered level, and
// every registered code belongs to exactly one analyzer.
func TestRegistryGrid(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range codeCases {
		covered[c.code] = true
	}
	for _, c := range lookupCases {
		covered[c.code] = true
	}
	owner := map[string]string{}
	for _, a := range Analyzers() {
		for _, code := range a.Codes {
			owner[code] = a.Name
			if !covered[code] {
				t.Errorf("analyzer %s: code %s has no case in codeCases or lookupCases", a.Name, code)
			}
		}
	}
	for _, spec := range finding.Codes() {
		if owner[spec.Code] == "" && !otherCodes[spec.Code] {
			t.Errorf("code %s is registered but no analyzer emits it", spec.Code)
		}
	}
	check := func(t *testing.T, is []Issue) {
		for _, i := range is {
			spec, _ := finding.Lookup(i.Code)
			if i.Level != spec.Level {
				t.Errorf("%s emitted at %s, registered %s", i.Code, i.Level, spec.Level)
			}
		}
	}
	for _, c := range codeCases {
		check(t, checkString(t, c.pos, c.cluster).Issues)
	}
	for _, c := range lookupCases {
		t.Run("lookup/"+c.code, func(t *testing.T) {
			pos := Run(c.pos())
			check(t, pos)
			got := 0
			for _, is := range pos {
				if is.Code == c.code {
					got++
					if !strings.Contains(is.Message, c.says) {
						t.Errorf("message %q does not contain %q", is.Message, c.says)
					}
				}
			}
			if got == 0 {
				t.Errorf("positive case has no %s: %+v", c.code, pos)
			}
			for _, is := range Run(c.neg()) {
				if is.Code == c.code {
					t.Errorf("negative case has %s: %s", c.code, is.Message)
				}
			}
		})
	}
}

// otherCodes are registered by packages that report outside the analyzers
// (none today); listed so the grid can tell them from forgotten codes.
var otherCodes = map[string]bool{}

// lookupFacts builds the facts of one get lookup of port on svc, answered
// by a faithful destination unless answer changes it.
func lookupFacts(svc model.Service, port uint32, cands []model.ProfileObject, answer func(*Lookup)) func() *Facts {
	return func() *Facts {
		out := expect.Expect(expect.Lookup{Service: svc, Port: port, ClientNamespace: svc.Namespace, ClusterDomain: "cluster.local", Candidates: cands})
		l := &Lookup{Service: svc, Port: port, ClientNamespace: svc.Namespace, Outcome: out, Candidates: cands, Served: out.Expected}
		if out.Unserved != nil {
			l.Served, l.Silent = nil, true
		}
		if answer != nil {
			answer(l)
		}
		if l.Served != nil {
			l.Drift = drift.Compare(out.Expected, l.Served)
		}
		return LookupFacts(l, "cluster.local", nil)
	}
}

func candidate(ns, spec string) model.ProfileObject {
	sp, err := profile.Decode([]byte("spec:\n" + spec))
	if err != nil {
		panic(err)
	}
	return model.ProfileObject{Namespace: ns, Name: "api.books.svc.cluster.local", ResourceVersion: "1", Profile: sp}
}

var (
	apiSvc = model.Service{Name: "api", Namespace: "books", Ports: []model.ServicePort{{Port: 80}}}
	dbSvc  = model.Service{Name: "api", Namespace: "books", Ports: []model.ServicePort{{Port: 3306}}}
	okCand = candidate("books", okRoute)
)

var lookupCases = []struct {
	code     string
	pos, neg func() *Facts
	says     string
}{
	{code: CodeDefaultProfile, pos: lookupFacts(apiSvc, 80, nil, nil), neg: lookupFacts(apiSvc, 80, []model.ProfileObject{okCand}, nil), says: "create one"},
	{code: CodeDestinationSilent,
		pos:  lookupFacts(apiSvc, 80, []model.ProfileObject{okCand}, func(l *Lookup) { l.Served, l.Silent = nil, true }),
		neg:  lookupFacts(apiSvc, 80, []model.ProfileObject{candidate("books", "  routes:\n  - name: r\n    condition: {}\n")}, nil),
		says: "translates cleanly"},
	{code: CodeLookupFailed,
		pos:  lookupFacts(apiSvc, 80, []model.ProfileObject{okCand}, func(l *Lookup) { l.Served, l.Err = nil, errors.New("rpc error: code = Unavailable") }),
		neg:  lookupFacts(apiSvc, 80, []model.ProfileObject{okCand}, nil),
		says: "Unavailable"},
	{code: CodePortNotOnService, pos: lookupFacts(apiSvc, 81, nil, nil), neg: lookupFacts(apiSvc, 80, nil, nil), says: "not a port"},
	{code: CodePortNotOnService,
		pos:  lookupFacts(apiSvc, 80, []model.ProfileObject{okCand}, func(l *Lookup) { l.Served = translate.PortNotOnService() }),
		neg:  lookupFacts(apiSvc, 80, []model.ProfileObject{okCand}, nil),
		says: "stale"},
	{code: CodeOpaqueProtocolStale,
		pos:  lookupFacts(dbSvc, 3306, nil, func(l *Lookup) { l.Served = withOpaque(l.Served, false) }),
		neg:  lookupFacts(dbSvc, 3306, nil, nil),
		says: "known destination bug"},
	{code: CodeOpaqueProtocolStale,
		pos:  lookupFacts(annotated(dbSvc, "8080"), 3306, nil, func(l *Lookup) { l.Served = withOpaque(l.Served, true) }),
		neg:  lookupFacts(annotated(dbSvc, "8080"), 3306, nil, func(l *Lookup) { l.Served = withOpaque(l.Served, false) }),
		says: "default opaque ports"},
	{code: CodeDrift,
		pos:  lookupFacts(annotated(apiSvc, "8080"), 80, nil, func(l *Lookup) { l.Served = withOpaque(l.Served, true) }),
		neg:  lookupFacts(annotated(dbSvc, "8080"), 3306, nil, func(l *Lookup) { l.Served = withOpaque(l.Served, true) }),
		says: "field(s) served differ"},
	{code: CodeOpaquePortNoRoutes, pos: lookupFacts(dbSvc, 3306, nil, nil), neg: lookupFacts(apiSvc, 80, nil, nil), says: "3306"},
	{code: CodeDrift,
		pos:  lookupFacts(apiSvc, 80, []model.ProfileObject{okCand}, func(l *Lookup) { l.Served = translate.PortNotOnService() }),
		neg:  lookupFacts(apiSvc, 80, []model.ProfileObject{okCand}, nil),
		says: "field(s) served differ"},
	{code: CodeNameNearMiss,
		pos: lookupFacts(apiSvc, 80, nil, func(l *Lookup) {
			l.NearbyProfiles = []model.NamespacedName{{Namespace: "books", Name: "api.books.svc.cluster.locl"}}
		}),
		neg: lookupFacts(apiSvc, 80, nil, func(l *Lookup) {
			l.NearbyProfiles = []model.NamespacedName{{Namespace: "books", Name: "apx.books.svc.cluster.local"}}
			l.KnownServices = map[model.NamespacedName]bool{{Namespace: "books", Name: "apx"}: true}
		}),
		says: "rename it to api.books.svc.cluster.local"},
	{code: CodeNameDroppedByProxy,
		pos: lookupFacts(apiSvc, 80, []model.ProfileObject{okCand}, func(l *Lookup) {
			l.Served = gproto.Clone(l.Served).(*pb.DestinationProfile)
			l.Served.FullyQualifiedName = "api..books"
		}),
		neg:  lookupFacts(apiSvc, 80, []model.ProfileObject{okCand}, nil),
		says: "api..books"},
	{code: CodeUndecodable,
		pos: lookupFacts(apiSvc, 80, []model.ProfileObject{{Namespace: "books", Name: "api.books.svc.cluster.local", DecodeErr: errors.New("json: cannot unmarshal")}}, nil),
		neg: lookupFacts(apiSvc, 80, []model.ProfileObject{okCand}, nil), says: "cannot be decoded"},
	{code: CodeClientOverride,
		pos: lookupFacts(apiSvc, 80, []model.ProfileObject{okCand, candidate("shop", okRoute)}, nil),
		neg: lookupFacts(apiSvc, 80, []model.ProfileObject{okCand}, nil), says: "--from-namespace shop"},
}

func annotated(svc model.Service, opaque string) model.Service {
	svc.OpaquePorts = &opaque
	return svc
}

func withOpaque(dp *pb.DestinationProfile, opaque bool) *pb.DestinationProfile {
	out := gproto.Clone(dp).(*pb.DestinationProfile)
	out.OpaqueProtocol = opaque
	return out
}
