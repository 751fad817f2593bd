package translate

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	httppb "github.com/linkerd/linkerd2-proxy-api/go/http_types"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
)

// Every expectation here is taken from destination-api.md §3.1, §3.4, §3.5
// and §4; the section is named next to each table.

var webapp = Target{
	Service: profile.ServiceRef{Name: "webapp", Namespace: "ns"},
	Port:    80,
	FQDN:    "webapp.ns.svc.mycluster.local",
}

// jsonEqual compares two JSON documents modulo key order.
func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w interface{}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("bad JSON produced: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad JSON expected: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("JSON mismatch\n got: %s\nwant: %s", got, want)
	}
}

func protoEqual(t *testing.T, what string, got, want proto.Message) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Errorf("%s:\n got: %s\nwant: %s", what, protojson.Format(got), protojson.Format(want))
	}
}

func decode(t *testing.T, doc string) *profile.ServiceProfile {
	t.Helper()
	sp, err := profile.Decode([]byte(doc))
	if err != nil {
		t.Fatalf("decode fixture: %v", err)
	}
	return sp
}

// §3.1: the verified default-profile JSON.
const verifiedDefaultJSON = `{"fullyQualifiedName":"webapp.ns.svc.mycluster.local",
 "retryBudget":{"retryRatio":0.2,"minRetriesPerSecond":10,"ttl":"10s"},
 "parentRef":{"resource":{"group":"core","kind":"Service","name":"webapp","namespace":"ns","port":80}},
 "profileRef":{"resource":{"group":"linkerd.io"}}}`

func TestDefaultMatchesVerifiedJSON(t *testing.T) {
	got, err := protojson.Marshal(Default(webapp))
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, got, verifiedDefaultJSON)
}

func TestDefaultEqualsEmptyProfileTranslation(t *testing.T) {
	// §2/§3.1: a missing SP becomes an empty, non-nil SP that goes through the
	// ordinary translation, so Profile(empty) must give the same message.
	got, notes, err := Profile(&profile.ServiceProfile{}, webapp)
	if err != nil || len(notes) != 0 {
		t.Fatalf("err=%v notes=%v", err, notes)
	}
	protoEqual(t, "Profile(empty SP)", got, Default(webapp))
	// "no ServiceProfile" is detected by an empty profile_ref name (§3.1).
	if n := got.GetProfileRef().GetResource().GetName(); n != "" {
		t.Errorf("profile_ref name = %q", n)
	}
	if len(got.Routes) != 0 || len(got.DstOverrides) != 0 || got.Endpoint != nil {
		t.Errorf("default profile has routes/overrides/endpoint: %v", got)
	}
}

func TestDefaultOpaque(t *testing.T) {
	tg := webapp
	tg.Opaque = true
	got, _ := protojson.Marshal(Default(tg))
	want := strings.Replace(verifiedDefaultJSON, `{"fullyQualifiedName"`, `{"opaqueProtocol":true,"fullyQualifiedName"`, 1)
	jsonEqual(t, got, want)
}

func TestPortNotOnService(t *testing.T) {
	// §1.3 step 2: one empty DestinationProfile{}, all fields unset, no parent_ref.
	got := PortNotOnService()
	if got == nil {
		t.Fatal("nil profile")
	}
	b, _ := protojson.Marshal(got)
	jsonEqual(t, b, `{}`)
}

func TestProfileRefsAndFQDN(t *testing.T) {
	// §3.5: parent_ref = core/Service/name/ns/port; profile_ref =
	// linkerd.io/<kind>/<sp name>/<sp namespace> (client ns when that won).
	sp := decode(t, `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: webapp.ns.svc.mycluster.local
  namespace: client-ns
spec: {}
`)
	tg := webapp
	tg.Port = 8080
	tg.Opaque = true
	got, _, err := Profile(sp, tg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := protojson.Marshal(got)
	jsonEqual(t, b, `{"fullyQualifiedName":"webapp.ns.svc.mycluster.local",
 "opaqueProtocol":true,
 "retryBudget":{"retryRatio":0.2,"minRetriesPerSecond":10,"ttl":"10s"},
 "parentRef":{"resource":{"group":"core","kind":"Service","name":"webapp","namespace":"ns","port":8080}},
 "profileRef":{"resource":{"group":"linkerd.io","kind":"ServiceProfile","name":"webapp.ns.svc.mycluster.local","namespace":"client-ns"}}}`)

	// kind comes from TypeMeta and may be empty (§3.1).
	sp.Kind = ""
	got, _, _ = Profile(sp, tg)
	if k := got.GetProfileRef().GetResource().GetKind(); k != "" {
		t.Errorf("profile_ref kind = %q, want empty from empty TypeMeta", k)
	}
	if got.GetProfileRef().GetResource().GetPort() != 0 {
		t.Error("profile_ref must not carry a port")
	}
}

func reqMethod(m httppb.HttpMethod_Registered) *pb.RequestMatch {
	return &pb.RequestMatch{Match: &pb.RequestMatch_Method{Method: &httppb.HttpMethod{Type: &httppb.HttpMethod_Registered_{Registered: m}}}}
}
func reqPath(re string) *pb.RequestMatch {
	return &pb.RequestMatch{Match: &pb.RequestMatch_Path{Path: &pb.PathMatch{Regex: re}}}
}
func reqAll(ms ...*pb.RequestMatch) *pb.RequestMatch {
	return &pb.RequestMatch{Match: &pb.RequestMatch_All{All: &pb.RequestMatch_Seq{Matches: ms}}}
}
func reqAny(ms ...*pb.RequestMatch) *pb.RequestMatch {
	return &pb.RequestMatch{Match: &pb.RequestMatch_Any{Any: &pb.RequestMatch_Seq{Matches: ms}}}
}
func reqNot(m *pb.RequestMatch) *pb.RequestMatch {
	return &pb.RequestMatch{Match: &pb.RequestMatch_Not{Not: m}}
}

func TestRequestMatch(t *testing.T) {
	// §4 toRequestMatch: order all, any, method, not, pathRegex; one → as-is,
	// several → wrapped in all; `all: []` is set; regex passed verbatim.
	get := reqMethod(httppb.HttpMethod_GET)
	cases := []struct {
		name string
		in   *profile.RequestMatch
		want *pb.RequestMatch
	}{
		{"method only", &profile.RequestMatch{Method: "GET"}, get},
		{"path only, verbatim (no anchoring)", &profile.RequestMatch{PathRegex: "/books/[^/]*"}, reqPath("/books/[^/]*")},
		{"path with anchors and bad regex passed through", &profile.RequestMatch{PathRegex: "^/a(b$"}, reqPath("^/a(b$")},
		{"not only", &profile.RequestMatch{Not: &profile.RequestMatch{Method: "GET"}}, reqNot(get)},
		{"all only", &profile.RequestMatch{All: []*profile.RequestMatch{{Method: "GET"}, {PathRegex: "/x"}}}, reqAll(get, reqPath("/x"))},
		{"any only", &profile.RequestMatch{Any: []*profile.RequestMatch{{PathRegex: "/a"}, {PathRegex: "/b"}}}, reqAny(reqPath("/a"), reqPath("/b"))},
		{"empty all counts as set", &profile.RequestMatch{All: []*profile.RequestMatch{}}, reqAll()},
		{"empty any counts as set", &profile.RequestMatch{Any: []*profile.RequestMatch{}}, reqAny()},
		{
			"method and path wrapped in all, method first",
			&profile.RequestMatch{PathRegex: "/books", Method: "GET"},
			reqAll(get, reqPath("/books")),
		},
		{
			"all five in fixed order",
			&profile.RequestMatch{
				PathRegex: "/p",
				Not:       &profile.RequestMatch{PathRegex: "/n"},
				Method:    "post",
				Any:       []*profile.RequestMatch{{PathRegex: "/any"}},
				All:       []*profile.RequestMatch{{PathRegex: "/all"}},
			},
			reqAll(
				reqAll(reqPath("/all")),
				reqAny(reqPath("/any")),
				reqMethod(httppb.HttpMethod_POST),
				reqNot(reqPath("/n")),
				reqPath("/p"),
			),
		},
		{
			"empty all plus method: two matches wrapped",
			&profile.RequestMatch{All: []*profile.RequestMatch{}, Method: "DELETE"},
			reqAll(reqAll(), reqMethod(httppb.HttpMethod_DELETE)),
		},
		{
			"nested children keep their own wrapping",
			&profile.RequestMatch{Any: []*profile.RequestMatch{{Method: "GET", PathRegex: "/a"}, {Not: &profile.RequestMatch{Method: "HEAD"}}}},
			reqAny(reqAll(get, reqPath("/a")), reqNot(reqMethod(httppb.HttpMethod_HEAD))),
		},
	}
	for _, c := range cases {
		got, err := RequestMatch(c.in)
		if err != nil {
			t.Errorf("%s: unexpected error %v", c.name, err)
			continue
		}
		protoEqual(t, c.name, got, c.want)
	}
}

func TestRequestMatchErrors(t *testing.T) {
	// §4: missing match, match with nothing set, nil child in all/any, and
	// errors inside not are all translation errors.
	cases := []struct {
		name string
		in   *profile.RequestMatch
		is   error
	}{
		{"nil condition", nil, ErrMissingRequestMatch},
		{"nothing set", &profile.RequestMatch{}, ErrEmptyRequestMatch},
		{"nil child in all", &profile.RequestMatch{All: []*profile.RequestMatch{nil}}, nil},
		{"nil child in any", &profile.RequestMatch{Any: []*profile.RequestMatch{{Method: "GET"}, nil}}, nil},
		{"empty child in all", &profile.RequestMatch{All: []*profile.RequestMatch{{}}}, ErrEmptyRequestMatch},
		{"empty child in any", &profile.RequestMatch{Any: []*profile.RequestMatch{{}}}, ErrEmptyRequestMatch},
		{"empty not", &profile.RequestMatch{Method: "GET", Not: &profile.RequestMatch{}}, ErrEmptyRequestMatch},
		{"deep empty", &profile.RequestMatch{Not: &profile.RequestMatch{All: []*profile.RequestMatch{{Any: []*profile.RequestMatch{{}}}}}}, ErrEmptyRequestMatch},
	}
	for _, c := range cases {
		got, err := RequestMatch(c.in)
		if err == nil {
			t.Errorf("%s: no error, got %v", c.name, got)
			continue
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: error %v is not %v", c.name, err, c.is)
		}
	}
}

func TestParseMethod(t *testing.T) {
	// §4: upper-cased; nine registered methods; anything else unregistered:"<UPPER>".
	reg := map[string]httppb.HttpMethod_Registered{
		"GET": httppb.HttpMethod_GET, "POST": httppb.HttpMethod_POST, "PUT": httppb.HttpMethod_PUT,
		"DELETE": httppb.HttpMethod_DELETE, "PATCH": httppb.HttpMethod_PATCH, "OPTIONS": httppb.HttpMethod_OPTIONS,
		"CONNECT": httppb.HttpMethod_CONNECT, "HEAD": httppb.HttpMethod_HEAD, "TRACE": httppb.HttpMethod_TRACE,
	}
	for name, want := range reg {
		for _, in := range []string{name, strings.ToLower(name), strings.ToUpper(name[:1]) + strings.ToLower(name[1:])} {
			got := ParseMethod(in)
			wantPB := &httppb.HttpMethod{Type: &httppb.HttpMethod_Registered_{Registered: want}}
			protoEqual(t, "ParseMethod("+in+")", got, wantPB)
			if MethodName(got) != name {
				t.Errorf("MethodName(ParseMethod(%q)) = %q", in, MethodName(got))
			}
		}
	}
	for in, want := range map[string]string{"purge": "PURGE", "PROPFIND": "PROPFIND", "Get2": "GET2", "m-search": "M-SEARCH"} {
		got := ParseMethod(in)
		protoEqual(t, "ParseMethod("+in+")", got, &httppb.HttpMethod{Type: &httppb.HttpMethod_Unregistered{Unregistered: want}})
		if MethodName(got) != want {
			t.Errorf("MethodName = %q, want %q", MethodName(got), want)
		}
	}
	// protojson view of lowercase get, as the server would send it.
	b, _ := protojson.Marshal(ParseMethod("get"))
	jsonEqual(t, b, `{"registered":"GET"}`)
	b, _ = protojson.Marshal(ParseMethod("purge"))
	jsonEqual(t, b, `{"unregistered":"PURGE"}`)
}

func rspStatus(min, max uint32) *pb.ResponseMatch {
	return &pb.ResponseMatch{Match: &pb.ResponseMatch_Status{Status: &pb.HttpStatusRange{Min: min, Max: max}}}
}
func rspAll(ms ...*pb.ResponseMatch) *pb.ResponseMatch {
	return &pb.ResponseMatch{Match: &pb.ResponseMatch_All{All: &pb.ResponseMatch_Seq{Matches: ms}}}
}
func rspAny(ms ...*pb.ResponseMatch) *pb.ResponseMatch {
	return &pb.ResponseMatch{Match: &pb.ResponseMatch_Any{Any: &pb.ResponseMatch_Seq{Matches: ms}}}
}
func rspNot(m *pb.ResponseMatch) *pb.ResponseMatch {
	return &pb.ResponseMatch{Match: &pb.ResponseMatch_Not{Not: m}}
}

func TestResponseMatch(t *testing.T) {
	// §4 toResponseMatch: order all, any, status, not; status copied as-is,
	// one-sided ranges allowed on the Go side.
	cases := []struct {
		name string
		in   *profile.ResponseMatch
		want *pb.ResponseMatch
	}{
		{"status range", &profile.ResponseMatch{Status: &profile.Range{Min: 500, Max: 599}}, rspStatus(500, 599)},
		{"min only", &profile.ResponseMatch{Status: &profile.Range{Min: 500}}, rspStatus(500, 0)},
		{"max only", &profile.ResponseMatch{Status: &profile.Range{Max: 404}}, rspStatus(0, 404)},
		{"bounds 100 and 599 inclusive", &profile.ResponseMatch{Status: &profile.Range{Min: 100, Max: 599}}, rspStatus(100, 599)},
		{"min == max", &profile.ResponseMatch{Status: &profile.Range{Min: 503, Max: 503}}, rspStatus(503, 503)},
		{"status {} counts as set", &profile.ResponseMatch{Status: &profile.Range{}}, rspStatus(0, 0)},
		{"not", &profile.ResponseMatch{Not: &profile.ResponseMatch{Status: &profile.Range{Min: 200, Max: 299}}}, rspNot(rspStatus(200, 299))},
		{"empty all counts as set", &profile.ResponseMatch{All: []*profile.ResponseMatch{}}, rspAll()},
		{"empty any counts as set", &profile.ResponseMatch{Any: []*profile.ResponseMatch{}}, rspAny()},
		{
			"all four in fixed order",
			&profile.ResponseMatch{
				Not:    &profile.ResponseMatch{Status: &profile.Range{Min: 404, Max: 404}},
				Status: &profile.Range{Min: 400, Max: 499},
				Any:    []*profile.ResponseMatch{{Status: &profile.Range{Min: 500}}},
				All:    []*profile.ResponseMatch{{Status: &profile.Range{Max: 599}}},
			},
			rspAll(rspAll(rspStatus(0, 599)), rspAny(rspStatus(500, 0)), rspStatus(400, 499), rspNot(rspStatus(404, 404))),
		},
		{
			"status and not wrapped, status first",
			&profile.ResponseMatch{Not: &profile.ResponseMatch{Status: &profile.Range{Min: 501, Max: 501}}, Status: &profile.Range{Min: 500, Max: 599}},
			rspAll(rspStatus(500, 599), rspNot(rspStatus(501, 501))),
		},
	}
	for _, c := range cases {
		got, err := ResponseMatch(c.in)
		if err != nil {
			t.Errorf("%s: unexpected error %v", c.name, err)
			continue
		}
		protoEqual(t, c.name, got, c.want)
	}
	// §4 example: min:500 → {"min":500}
	got, _ := ResponseMatch(&profile.ResponseMatch{Status: &profile.Range{Min: 500}})
	b, _ := protojson.Marshal(got.GetStatus())
	jsonEqual(t, b, `{"min":500}`)
}

func TestResponseMatchErrors(t *testing.T) {
	cases := []struct {
		name string
		in   *profile.ResponseMatch
		is   error
	}{
		{"missing", nil, ErrMissingResponseMatch},
		{"nothing set", &profile.ResponseMatch{}, ErrEmptyResponseMatch},
		{"nil child in all", &profile.ResponseMatch{All: []*profile.ResponseMatch{nil}}, nil},
		{"nil child in any", &profile.ResponseMatch{Any: []*profile.ResponseMatch{{Status: &profile.Range{Min: 500}}, nil}}, nil},
		{"empty child in any", &profile.ResponseMatch{Any: []*profile.ResponseMatch{{}}}, ErrEmptyResponseMatch},
		{"empty not", &profile.ResponseMatch{Not: &profile.ResponseMatch{}}, ErrEmptyResponseMatch},
		{"min below 100", &profile.ResponseMatch{Status: &profile.Range{Min: 99}}, nil},
		{"min above 599", &profile.ResponseMatch{Status: &profile.Range{Min: 600}}, nil},
		{"max below 100", &profile.ResponseMatch{Status: &profile.Range{Max: 1}}, nil},
		{"max above 599", &profile.ResponseMatch{Status: &profile.Range{Min: 500, Max: 600}}, nil},
		{"max < min", &profile.ResponseMatch{Status: &profile.Range{Min: 500, Max: 400}}, nil},
		{"bad status nested in not", &profile.ResponseMatch{Not: &profile.ResponseMatch{Status: &profile.Range{Min: 700}}}, nil},
		{"bad status nested in all", &profile.ResponseMatch{All: []*profile.ResponseMatch{{Status: &profile.Range{Min: 300, Max: 200}}}}, nil},
	}
	for _, c := range cases {
		got, err := ResponseMatch(c.in)
		if err == nil {
			t.Errorf("%s: no error, got %v", c.name, got)
			continue
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: error %v is not %v", c.name, err, c.is)
		}
	}
}

func TestValidateStatusRange(t *testing.T) {
	// §4/§5.1: non-zero bound within 100..599; max >= min when both set.
	cases := []struct {
		min, max uint32
		ok       bool
	}{
		{0, 0, true}, {100, 0, true}, {0, 599, true}, {599, 0, true}, {0, 100, true},
		{100, 599, true}, {500, 500, true},
		{99, 0, false}, {600, 0, false}, {0, 99, false}, {0, 600, false},
		{1, 0, false}, {0, 1, false}, {501, 500, false}, {599, 100, false},
		{500, 1000, false},
	}
	for _, c := range cases {
		err := ValidateStatusRange(c.min, c.max)
		if (err == nil) != c.ok {
			t.Errorf("ValidateStatusRange(%d,%d) = %v, want ok=%v", c.min, c.max, err, c.ok)
		}
	}
}

// unservable runs Profile and returns the *UnservableError it must produce.
func unservable(t *testing.T, name string, sp *profile.ServiceProfile) *UnservableError {
	t.Helper()
	dp, _, err := Profile(sp, webapp)
	if err == nil {
		t.Errorf("%s: profile is servable, want unservable: %s", name, protojson.Format(dp))
		return nil
	}
	if dp != nil {
		t.Errorf("%s: a profile was returned along with the error", name)
	}
	var ue *UnservableError
	if !errors.As(err, &ue) {
		t.Errorf("%s: error %T is not *UnservableError: %v", name, err, err)
		return nil
	}
	return ue
}

func TestUnservableProfiles(t *testing.T) {
	// §4 "Error conditions that make the translator drop an update": the
	// whole profile is dropped, whichever route fails.
	ok := "  - name: ok\n    condition:\n      method: GET\n"
	cases := []struct {
		name      string
		doc       string
		routeIdx  int
		routeName string
		field     string // expected prefix of UnservableError.Field
	}{
		{"route without condition", "spec:\n  routes:\n" + ok + "  - name: bad\n    timeout: 1s\n", 1, "bad", "spec.routes[1].condition"},
		{"request match with nothing set", "spec:\n  routes:\n  - name: bad\n    condition: {}\n" + ok, 0, "bad", "spec.routes[0].condition"},
		{"null element in all", "spec:\n  routes:\n  - name: bad\n    condition:\n      all: [null]\n", 0, "bad", "spec.routes[0].condition"},
		{"null element in any", "spec:\n  routes:\n  - name: bad\n    condition:\n      any:\n      - method: GET\n      - null\n", 0, "bad", "spec.routes[0].condition"},
		{"response class without condition", "spec:\n  routes:\n  - name: bad\n    condition:\n      method: GET\n    responseClasses:\n    - isFailure: true\n", 0, "bad", "spec.routes[0].responseClasses[0].condition"},
		{"response match with nothing set", "spec:\n  routes:\n" + ok + ok + "  - name: bad\n    condition:\n      method: GET\n    responseClasses:\n    - condition:\n        status:\n          min: 500\n    - condition: {}\n", 2, "bad", "spec.routes[2].responseClasses[1].condition"},
		{"status min out of range", "spec:\n  routes:\n  - name: bad\n    condition:\n      method: GET\n    responseClasses:\n    - condition:\n        status:\n          min: 99\n", 0, "bad", "spec.routes[0].responseClasses[0].condition"},
		{"status max out of range", "spec:\n  routes:\n  - name: bad\n    condition:\n      method: GET\n    responseClasses:\n    - condition:\n        status:\n          max: 600\n", 0, "bad", "spec.routes[0].responseClasses[0].condition"},
		{"status max < min", "spec:\n  routes:\n  - name: bad\n    condition:\n      method: GET\n    responseClasses:\n    - condition:\n        status:\n          min: 500\n          max: 499\n", 0, "bad", "spec.routes[0].responseClasses[0].condition"},
		{"ttl does not parse", "spec:\n  routes:\n" + ok + "  retryBudget:\n    retryRatio: 0.2\n    minRetriesPerSecond: 10\n    ttl: ten seconds\n", -1, "", "spec.retryBudget.ttl"},
		{"ttl empty", "spec:\n  retryBudget:\n    retryRatio: 0.2\n    minRetriesPerSecond: 10\n    ttl: \"\"\n", -1, "", "spec.retryBudget.ttl"},
		{"ttl missing", "spec:\n  retryBudget:\n    retryRatio: 0.2\n    minRetriesPerSecond: 10\n", -1, "", "spec.retryBudget.ttl"},
		{"ttl without unit", "spec:\n  retryBudget:\n    retryRatio: 0.2\n    minRetriesPerSecond: 10\n    ttl: \"10\"\n", -1, "", "spec.retryBudget.ttl"},
	}
	for _, c := range cases {
		ue := unservable(t, c.name, decode(t, c.doc))
		if ue == nil {
			continue
		}
		if ue.RouteIndex != c.routeIdx || ue.RouteName != c.routeName || !strings.HasPrefix(ue.Field, c.field) {
			t.Errorf("%s: got index=%d name=%q field=%q; want %d %q %q*", c.name, ue.RouteIndex, ue.RouteName, ue.Field, c.routeIdx, c.routeName, c.field)
		}
		if ue.Error() == "" || !strings.Contains(ue.Error(), ue.Field) {
			t.Errorf("%s: Error() = %q should name the field", c.name, ue.Error())
		}
	}
}

func TestUnservableWrapsSentinels(t *testing.T) {
	ue := unservable(t, "no condition", &profile.ServiceProfile{Spec: profile.Spec{Routes: []*profile.RouteSpec{{Name: "r"}}}})
	if ue != nil && !errors.Is(ue, ErrMissingRequestMatch) {
		t.Errorf("route without condition: %v is not ErrMissingRequestMatch", ue)
	}
	ue = unservable(t, "empty cond", &profile.ServiceProfile{Spec: profile.Spec{Routes: []*profile.RouteSpec{{Name: "r", Condition: &profile.RequestMatch{}}}}})
	if ue != nil && !errors.Is(ue, ErrEmptyRequestMatch) {
		t.Errorf("empty condition: %v is not ErrEmptyRequestMatch", ue)
	}
	ue = unservable(t, "no response condition", &profile.ServiceProfile{Spec: profile.Spec{Routes: []*profile.RouteSpec{{
		Name: "r", Condition: &profile.RequestMatch{Method: "GET"}, ResponseClasses: []*profile.ResponseClass{{IsFailure: true}},
	}}}})
	if ue != nil && !errors.Is(ue, ErrMissingResponseMatch) {
		t.Errorf("response class without condition: %v is not ErrMissingResponseMatch", ue)
	}
}

func TestNotErrorsOnGoSide(t *testing.T) {
	// §4 "Not errors on the Go side": bad timeout, bad regex, weight 0,
	// negative ratio or timeout; and §5.1 webhook-only rules (route name,
	// negative ratio) are not translator errors either.
	docs := map[string]string{
		"bad timeout":        "spec:\n  routes:\n  - name: r\n    condition:\n      method: GET\n    timeout: abc\n",
		"bad regex":          "spec:\n  routes:\n  - name: r\n    condition:\n      pathRegex: \"(?<=x)[\"\n",
		"weight 0":           "spec:\n  dstOverrides:\n  - authority: a:80\n    weight: 0\n",
		"negative ratio":     "spec:\n  retryBudget:\n    retryRatio: -1\n    minRetriesPerSecond: 10\n    ttl: 10s\n",
		"negative timeout":   "spec:\n  routes:\n  - name: r\n    condition:\n      method: GET\n    timeout: -5s\n",
		"route without name": "spec:\n  routes:\n  - condition:\n      method: GET\n",
		"no routes at all":   "spec:\n  routes: []\n",
	}
	for name, doc := range docs {
		if _, _, err := Profile(decode(t, doc), webapp); err != nil {
			t.Errorf("%s: translator rejected it: %v", name, err)
		}
	}
}

func dur(s int64, n int32) *durationpb.Duration { return &durationpb.Duration{Seconds: s, Nanos: n} }

func TestRouteTimeout(t *testing.T) {
	// §4: ParseDuration; empty or bad → no timeout (bad one only logged, so a
	// Note); zero → nil; seconds + nanos encoding; negative passed on.
	cases := []struct {
		timeout string
		want    *durationpb.Duration
		note    bool
	}{
		{"", nil, false},
		{"1.5s", dur(1, 500000000), false},
		{"300ms", dur(0, 300000000), false},
		{"10s", dur(10, 0), false},
		{"1m30s", dur(90, 0), false},
		{"2h", dur(7200, 0), false},
		{"0s", nil, false},
		{"0", nil, false},
		{"-1.5s", dur(-1, -500000000), false},
		{"abc", nil, true},
		{"10", nil, true}, // no unit
		{"10 s", nil, true},
	}
	for _, c := range cases {
		sp := &profile.ServiceProfile{Spec: profile.Spec{Routes: []*profile.RouteSpec{
			{Name: "first", Condition: &profile.RequestMatch{Method: "GET"}},
			{Name: "timed", Condition: &profile.RequestMatch{PathRegex: "/t"}, Timeout: c.timeout},
		}}}
		dp, notes, err := Profile(sp, webapp)
		if err != nil {
			t.Errorf("timeout %q: unexpected error %v", c.timeout, err)
			continue
		}
		protoEqual(t, "timeout "+c.timeout, dp.Routes[1].GetTimeout(), c.want)
		if (c.want == nil) != (dp.Routes[1].Timeout == nil) {
			t.Errorf("timeout %q: got %v want %v", c.timeout, dp.Routes[1].Timeout, c.want)
		}
		if dp.Routes[0].Timeout != nil {
			t.Errorf("route without timeout got %v (there is no server-side default)", dp.Routes[0].Timeout)
		}
		if !c.note {
			if len(notes) != 0 {
				t.Errorf("timeout %q: unexpected notes %+v", c.timeout, notes)
			}
			continue
		}
		if len(notes) != 1 {
			t.Errorf("timeout %q: want one note, got %+v", c.timeout, notes)
			continue
		}
		n := notes[0]
		if n.RouteIndex != 1 || n.RouteName != "timed" || n.Field != "spec.routes[1].timeout" || !strings.Contains(n.Message, c.timeout) {
			t.Errorf("timeout %q: note = %+v", c.timeout, n)
		}
	}
	// JSON form of 1.5s as the server encodes it.
	b, _ := protojson.Marshal(dur(1, 500000000))
	if string(b) != `"1.500s"` {
		t.Errorf("1.5s protojson = %s", b)
	}
}

func TestRoutes(t *testing.T) {
	// §4 toRoute: order kept, metrics_labels route=name, is_retryable copied,
	// response classes in order with is_failure.
	sp := decode(t, `spec:
  routes:
  - name: GET /books/{id}
    condition:
      method: get
      pathRegex: /books/[^/]*
    responseClasses:
    - condition:
        status:
          min: 500
          max: 599
      isFailure: true
    - condition:
        status:
          min: 404
    isRetryable: true
    timeout: 1.5s
  - name: POST /books
    condition:
      method: POST
      pathRegex: /books
`)
	dp, notes, err := Profile(sp, webapp)
	if err != nil || len(notes) != 0 {
		t.Fatalf("err=%v notes=%v", err, notes)
	}
	want := []*pb.Route{
		{
			Condition: reqAll(reqMethod(httppb.HttpMethod_GET), reqPath("/books/[^/]*")),
			ResponseClasses: []*pb.ResponseClass{
				{Condition: rspStatus(500, 599), IsFailure: true},
				{Condition: rspStatus(404, 0)},
			},
			MetricsLabels: map[string]string{"route": "GET /books/{id}"},
			IsRetryable:   true,
			Timeout:       dur(1, 500000000),
		},
		{
			Condition:     reqAll(reqMethod(httppb.HttpMethod_POST), reqPath("/books")),
			MetricsLabels: map[string]string{"route": "POST /books"},
		},
	}
	if len(dp.Routes) != len(want) {
		t.Fatalf("routes = %d", len(dp.Routes))
	}
	for i := range want {
		protoEqual(t, "route", dp.Routes[i], want[i])
	}
}

func TestRetryBudget(t *testing.T) {
	// §4: default 0.2/10/10s; custom ratio and min copied; ttl parsed;
	// 0s → nil ttl; negative ratio passes.
	if got := DefaultRetryBudget(); !proto.Equal(got, &pb.RetryBudget{RetryRatio: 0.2, MinRetriesPerSecond: 10, Ttl: dur(10, 0)}) {
		t.Errorf("DefaultRetryBudget = %v", got)
	}
	cases := []struct {
		name string
		rb   *profile.RetryBudget
		want *pb.RetryBudget
	}{
		{"absent → default", nil, &pb.RetryBudget{RetryRatio: 0.2, MinRetriesPerSecond: 10, Ttl: dur(10, 0)}},
		{"custom", &profile.RetryBudget{RetryRatio: 0.5, MinRetriesPerSecond: 3, TTL: "30s"}, &pb.RetryBudget{RetryRatio: 0.5, MinRetriesPerSecond: 3, Ttl: dur(30, 0)}},
		{"fractional ttl", &profile.RetryBudget{RetryRatio: 0.1, MinRetriesPerSecond: 1, TTL: "2.5s"}, &pb.RetryBudget{RetryRatio: 0.1, MinRetriesPerSecond: 1, Ttl: dur(2, 500000000)}},
		{"zeros copied, ttl 0s → nil", &profile.RetryBudget{TTL: "0s"}, &pb.RetryBudget{}},
		{"negative ratio passes", &profile.RetryBudget{RetryRatio: -0.5, MinRetriesPerSecond: 10, TTL: "10s"}, &pb.RetryBudget{RetryRatio: -0.5, MinRetriesPerSecond: 10, Ttl: dur(10, 0)}},
		{"out-of-proxy-range values pass", &profile.RetryBudget{RetryRatio: 5000, MinRetriesPerSecond: 1 << 31, TTL: "5m"}, &pb.RetryBudget{RetryRatio: 5000, MinRetriesPerSecond: 1 << 31, Ttl: dur(300, 0)}},
	}
	for _, c := range cases {
		dp, _, err := Profile(&profile.ServiceProfile{Spec: profile.Spec{RetryBudget: c.rb}}, webapp)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		protoEqual(t, c.name, dp.RetryBudget, c.want)
	}
	// The default budget must be a fresh value each time: mutating one
	// profile's budget must not leak into the next.
	a := DefaultRetryBudget()
	a.RetryRatio = 9
	if DefaultRetryBudget().RetryRatio != 0.2 {
		t.Error("DefaultRetryBudget shares state")
	}
}

func TestRetryBudgetJSON(t *testing.T) {
	dp, _, err := Profile(decode(t, "spec:\n  retryBudget:\n    retryRatio: 0.3\n    minRetriesPerSecond: 5\n    ttl: 0s\n"), webapp)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := protojson.Marshal(dp.RetryBudget)
	jsonEqual(t, b, `{"retryRatio":0.3,"minRetriesPerSecond":5}`)
}

func TestDstOverrides(t *testing.T) {
	// §3.4/§4 toDstOverrides: weight = MilliValue*10; authority without a
	// port gets :<requested port>; no validation (weight 0 passes); order kept.
	sp := decode(t, `spec:
  dstOverrides:
  - authority: webapp-v1.ns.svc.cluster.local:8080
    weight: 1
  - authority: webapp-v2.ns.svc.cluster.local
    weight: 500m
  - authority: webapp-v3
    weight: "100"
  - authority: webapp-v4:80
    weight: 0
  - authority: 10.0.0.1
    weight: 250m
  - authority: "[fd00::1]:9090"
    weight: 2
`)
	tg := webapp
	tg.Port = 7000
	dp, _, err := Profile(sp, tg)
	if err != nil {
		t.Fatal(err)
	}
	want := []*pb.WeightedDst{
		{Authority: "webapp-v1.ns.svc.cluster.local:8080", Weight: 10000},
		{Authority: "webapp-v2.ns.svc.cluster.local:7000", Weight: 5000},
		{Authority: "webapp-v3:7000", Weight: 1000000},
		{Authority: "webapp-v4:80", Weight: 0},
		{Authority: "10.0.0.1:7000", Weight: 2500},
		{Authority: "[fd00::1]:9090", Weight: 20000},
	}
	if len(dp.DstOverrides) != len(want) {
		t.Fatalf("dst_overrides = %v", dp.DstOverrides)
	}
	for i := range want {
		protoEqual(t, "dst override", dp.DstOverrides[i], want[i])
		if dp.DstOverrides[i].BackendRef != nil {
			t.Error("backend_ref is never set by the destination server (§3.4)")
		}
	}
}

func TestDstOverrideIPv6WithoutPort(t *testing.T) {
	// The server appends the port with host:port joining, so a bare IPv6
	// address becomes [addr]:port (a NameAddr the proxy can parse).
	sp := &profile.ServiceProfile{Spec: profile.Spec{DstOverrides: []*profile.WeightedDst{{Authority: "fd00::1"}}}}
	dp, _, err := Profile(sp, webapp)
	if err != nil {
		t.Fatal(err)
	}
	if got := dp.DstOverrides[0].Authority; got != "[fd00::1]:80" {
		t.Errorf("authority = %q, want [fd00::1]:80", got)
	}
}

func TestOpaqueFlagFromTarget(t *testing.T) {
	// §3.2: opaque_protocol follows the Service (Target.Opaque), never the
	// SP's own opaquePorts.
	sp := &profile.ServiceProfile{Spec: profile.Spec{OpaquePorts: map[uint32]struct{}{80: {}}}}
	for _, opaque := range []bool{false, true} {
		tg := webapp
		tg.Opaque = opaque
		dp, _, err := Profile(sp, tg)
		if err != nil {
			t.Fatal(err)
		}
		if dp.OpaqueProtocol != opaque {
			t.Errorf("Target.Opaque=%v gave opaque_protocol=%v", opaque, dp.OpaqueProtocol)
		}
		if dp.FullyQualifiedName != webapp.FQDN {
			t.Errorf("fqdn = %q", dp.FullyQualifiedName)
		}
	}
}

func TestFullProfileJSON(t *testing.T) {
	// One complete translation checked in protojson form.
	sp := decode(t, `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: webapp.ns.svc.mycluster.local
  namespace: ns
spec:
  routes:
  - name: GET /
    condition:
      method: GET
      pathRegex: /
    responseClasses:
    - condition:
        status:
          min: 500
      isFailure: true
    timeout: 250ms
  retryBudget:
    retryRatio: 0.5
    minRetriesPerSecond: 1
    ttl: 1m
  dstOverrides:
  - authority: webapp-canary
    weight: 1
`)
	dp, notes, err := Profile(sp, webapp)
	if err != nil || notes != nil {
		t.Fatalf("err=%v notes=%v", err, notes)
	}
	b, _ := protojson.Marshal(dp)
	jsonEqual(t, b, `{
 "fullyQualifiedName":"webapp.ns.svc.mycluster.local",
 "routes":[{
   "condition":{"all":{"matches":[{"method":{"registered":"GET"}},{"path":{"regex":"/"}}]}},
   "responseClasses":[{"condition":{"status":{"min":500}},"isFailure":true}],
   "metricsLabels":{"route":"GET /"},
   "timeout":"0.250s"}],
 "retryBudget":{"retryRatio":0.5,"minRetriesPerSecond":1,"ttl":"60s"},
 "dstOverrides":[{"authority":"webapp-canary:80","weight":10000}],
 "parentRef":{"resource":{"group":"core","kind":"Service","name":"webapp","namespace":"ns","port":80}},
 "profileRef":{"resource":{"group":"linkerd.io","kind":"ServiceProfile","name":"webapp.ns.svc.mycluster.local","namespace":"ns"}}}`)
}

func TestWebhookOnlyRejectionsStillServe(t *testing.T) {
	// §5.1 vs §4: the webhook's strict decode rejects an unknown field, but
	// the controller decodes leniently and serves the profile; the unknown
	// `isSuccess` does not become isFailure.
	doc := "spec:\n  routes:\n  - name: r\n    condition:\n      method: GET\n    responseClasses:\n    - condition:\n        status:\n          min: 200\n          max: 299\n      isSuccess: true\n"
	if _, err := profile.DecodeStrict([]byte(doc)); err == nil {
		t.Fatal("webhook-style decode accepted isSuccess")
	}
	dp, _, err := Profile(decode(t, doc), webapp)
	if err != nil {
		t.Fatalf("translator rejected it: %v", err)
	}
	rc := dp.Routes[0].ResponseClasses[0]
	protoEqual(t, "response class", rc, &pb.ResponseClass{Condition: rspStatus(200, 299)})
}
