package expect

import (
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"testing"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
)

// Expectations come from destination-api.md §1.3 (port check, ExternalName),
// §2 (client namespace first, then service namespace, then default; invalid
// SP → nothing sent) and §3.1/§3.2 (default profile, opaque ports).

const fqdn = "webapp.ns.svc.mycluster.local"

func svc(ports ...ServicePort) Service {
	if len(ports) == 0 {
		ports = []ServicePort{{Name: "http", Port: 80}}
	}
	return Service{Name: "webapp", Namespace: "ns", Ports: ports}
}

func strp(s string) *string { return &s }

// cand is a decodable candidate with one route named after its namespace,
// so tests can tell which profile was translated.
func cand(ns string) Candidate {
	return Candidate{
		Namespace: ns, Name: fqdn, ResourceVersion: "1",
		Profile: &profile.ServiceProfile{
			ObjectMeta: objectMeta(fqdn, ns),
			Spec: profile.Spec{Routes: []*profile.RouteSpec{{
				Name: "route-from-" + ns, Condition: &profile.RequestMatch{Method: "GET"},
			}}},
		},
	}
}

func routeName(dp *pb.DestinationProfile) string {
	if dp == nil || len(dp.Routes) == 0 {
		return ""
	}
	return dp.Routes[0].MetricsLabels["route"]
}

func lookup(client string, cands ...Candidate) Lookup {
	return Lookup{Service: svc(), Port: 80, ClientNamespace: client, ClusterDomain: "mycluster.local", Candidates: cands}
}

func TestSelection(t *testing.T) {
	broken := cand("client")
	broken.Profile = nil
	broken.DecodeErr = errors.New("cannot unmarshal array into map[uint32]struct {}")
	brokenSvc := cand("ns")
	brokenSvc.Profile = nil
	brokenSvc.DecodeErr = errors.New("bad")
	otherName := cand("client")
	otherName.Name = "webapp.ns.svc.cluster.local" // wrong cluster domain: never looked up
	shortName := cand("ns")
	shortName.Name = "webapp"
	decodedNoProfile := Candidate{Namespace: "client", Name: fqdn} // neither profile nor error

	cases := []struct {
		name        string
		l           Lookup
		source      Source
		inEffectNS  string // "" when no candidate is in effect
		route       string
		ignoredNSes []string
	}{
		{"client namespace wins", lookup("client", cand("ns"), cand("client")), SourceClient, "client", "route-from-client", nil},
		{"client wins regardless of order", lookup("client", cand("client"), cand("ns")), SourceClient, "client", "route-from-client", nil},
		{"client only", lookup("client", cand("client")), SourceClient, "client", "route-from-client", nil},
		{"fall back to service namespace", lookup("client", cand("ns"), cand("elsewhere")), SourceService, "ns", "route-from-ns", nil},
		{"no token ns → service namespace", lookup("", cand("ns"), cand("client")), SourceService, "ns", "route-from-ns", nil},
		{"client ns == service ns", lookup("ns", cand("ns")), SourceService, "ns", "route-from-ns", nil},
		{"another namespace's SP is not used", lookup("client", cand("elsewhere")), SourceDefault, "", "", nil},
		{"no SP → default", lookup("client"), SourceDefault, "", "", nil},
		{"no SP, no token → default", lookup(""), SourceDefault, "", "", nil},
		{"no token ignores client-ns SPs", lookup("", cand("client")), SourceDefault, "", "", nil},
		{"wrong name never looked up", lookup("client", otherName, shortName), SourceDefault, "", "", nil},
		{"undecodable client SP ignored → service", lookup("client", broken, cand("ns")), SourceService, "ns", "route-from-ns", []string{"client"}},
		{"undecodable service SP ignored → default", lookup("", brokenSvc), SourceDefault, "", "", []string{"ns"}},
		{"candidate without profile ignored", lookup("client", decodedNoProfile), SourceDefault, "", "", []string{"client"}},
	}
	for _, c := range cases {
		out := Expect(c.l)
		if out.Source != c.source {
			t.Errorf("%s: source = %q, want %q", c.name, out.Source, c.source)
		}
		if out.FQDN != fqdn {
			t.Errorf("%s: fqdn = %q", c.name, out.FQDN)
		}
		if out.Unserved != nil || out.Rejected != nil {
			t.Errorf("%s: unexpected unserved=%v rejected=%v", c.name, out.Unserved, out.Rejected)
		}
		if out.Expected == nil {
			t.Errorf("%s: nothing expected", c.name)
			continue
		}
		gotNS := ""
		if out.InEffect != nil {
			gotNS = out.InEffect.Namespace
		}
		if gotNS != c.inEffectNS {
			t.Errorf("%s: in effect from %q, want %q", c.name, gotNS, c.inEffectNS)
		}
		if r := routeName(out.Expected); r != c.route {
			t.Errorf("%s: translated route %q, want %q", c.name, r, c.route)
		}
		// profile_ref names the SP in effect (§3.5), or is empty for the default (§3.1).
		ref := out.Expected.GetProfileRef().GetResource()
		if ref.GetNamespace() != c.inEffectNS || ref.GetGroup() != "linkerd.io" {
			t.Errorf("%s: profile_ref = %v", c.name, ref)
		}
		if c.inEffectNS == "" && ref.GetName() != "" {
			t.Errorf("%s: default profile_ref name = %q", c.name, ref.GetName())
		}
		if c.inEffectNS != "" && ref.GetName() != fqdn {
			t.Errorf("%s: profile_ref name = %q", c.name, ref.GetName())
		}
		// parent_ref is always the Service (§3.5).
		pr := out.Expected.GetParentRef().GetResource()
		if pr.GetKind() != "Service" || pr.GetName() != "webapp" || pr.GetNamespace() != "ns" || pr.GetPort() != 80 {
			t.Errorf("%s: parent_ref = %v", c.name, pr)
		}
		var ign []string
		for _, i := range out.Ignored {
			ign = append(ign, i.Namespace)
		}
		if !reflect.DeepEqual(ign, c.ignoredNSes) {
			t.Errorf("%s: ignored = %v, want %v", c.name, ign, c.ignoredNSes)
		}
	}
}

func TestDefaultProfileVerifiedJSON(t *testing.T) {
	// §3.1 verified JSON, reached through Expect with a Service without the
	// opaque-ports annotation on port 80 (not a default opaque port).
	out := Expect(lookup("client"))
	b, err := protojson.Marshal(out.Expected)
	if err != nil {
		t.Fatal(err)
	}
	var got, want interface{}
	_ = json.Unmarshal(b, &got)
	_ = json.Unmarshal([]byte(`{"fullyQualifiedName":"webapp.ns.svc.mycluster.local",
 "retryBudget":{"retryRatio":0.2,"minRetriesPerSecond":10,"ttl":"10s"},
 "parentRef":{"resource":{"group":"core","kind":"Service","name":"webapp","namespace":"ns","port":80}},
 "profileRef":{"resource":{"group":"linkerd.io"}}}`), &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("default profile JSON:\n got %s", b)
	}
}

func TestDefaultClusterDomain(t *testing.T) {
	l := lookup("")
	l.ClusterDomain = ""
	out := Expect(l)
	if out.FQDN != "webapp.ns.svc.cluster.local" || out.Expected.GetFullyQualifiedName() != out.FQDN {
		t.Errorf("fqdn = %q / %q", out.FQDN, out.Expected.GetFullyQualifiedName())
	}
	// A candidate named for mycluster.local is not this FQDN.
	l.Candidates = []Candidate{cand("ns")}
	if out := Expect(l); out.Source != SourceDefault {
		t.Errorf("SP named for another cluster domain was used: %q", out.Source)
	}
}

func TestPortNotOnService(t *testing.T) {
	// §1.3 step 2: one empty DestinationProfile{}, whatever SPs exist; the
	// comparison is with spec.ports[].port, not the targetPort.
	for _, port := range []uint32{8080, 81, 0} {
		l := lookup("client", cand("client"), cand("ns"))
		l.Port = port
		out := Expect(l)
		if out.Source != SourceNone || out.InEffect != nil || out.Unserved != nil || out.Rejected != nil {
			t.Errorf("port %d: outcome %+v", port, out)
		}
		if out.Expected == nil || !proto.Equal(out.Expected, &pb.DestinationProfile{}) {
			t.Errorf("port %d: expected %v, want empty profile", port, out.Expected)
		}
		if out.Opaque {
			t.Errorf("port %d: empty profile cannot be opaque", port)
		}
	}
	// Even a default opaque port that the Service does not define.
	l := lookup("")
	l.Port = 3306
	if out := Expect(l); !proto.Equal(out.Expected, &pb.DestinationProfile{}) {
		t.Errorf("3306 not on Service: %v", out.Expected)
	}
}

func TestMultiPortService(t *testing.T) {
	s := svc(ServicePort{Name: "http", Port: 80}, ServicePort{Name: "admin", Port: 9990})
	l := Lookup{Service: s, Port: 9990, ClusterDomain: "mycluster.local", Candidates: []Candidate{cand("ns")}}
	out := Expect(l)
	if out.Source != SourceService || out.Expected.GetParentRef().GetResource().GetPort() != 9990 {
		t.Errorf("second port: %+v", out)
	}
}

func TestExternalName(t *testing.T) {
	// §1.3 step 3: ExternalName → InvalidArgument, after the port check.
	l := lookup("client", cand("ns"))
	l.Service.ExternalName = true
	out := Expect(l)
	if out.Rejected == nil || out.Rejected.Code != codes.InvalidArgument {
		t.Fatalf("ExternalName with the port: rejected = %+v", out.Rejected)
	}
	if out.Expected != nil || out.Source != SourceRejected || out.InEffect != nil {
		t.Errorf("ExternalName: source %q, expected profile %v", out.Source, out.Expected)
	}
	l.Port = 8080
	out = Expect(l)
	if out.Rejected != nil || !proto.Equal(out.Expected, &pb.DestinationProfile{}) {
		t.Errorf("ExternalName without the port: %+v", out)
	}
}

func TestUnservableProfileInEffect(t *testing.T) {
	// §2 "Invalid SP": nothing is sent; the server does not fall back to the
	// service-namespace SP or to the default when the primary fails to translate.
	bad := cand("client")
	bad.Profile.Spec.Routes = append(bad.Profile.Spec.Routes, &profile.RouteSpec{Name: "no-condition"})
	out := Expect(lookup("client", bad, cand("ns")))
	if out.Source != SourceClient || out.InEffect == nil || out.InEffect.Namespace != "client" {
		t.Errorf("source %q in effect %+v", out.Source, out.InEffect)
	}
	if out.Expected != nil {
		t.Errorf("expected %v, want nothing sent", out.Expected)
	}
	if out.Unserved == nil || out.Unserved.RouteIndex != 1 || out.Unserved.RouteName != "no-condition" {
		t.Errorf("unserved = %+v", out.Unserved)
	}
	if !errors.Is(out.Unserved, translate.ErrMissingRequestMatch) {
		t.Errorf("unserved %v is not ErrMissingRequestMatch", out.Unserved)
	}

	badTTL := cand("ns")
	badTTL.Profile.Spec.RetryBudget = &profile.RetryBudget{RetryRatio: 0.2, MinRetriesPerSecond: 10}
	out = Expect(lookup("", badTTL))
	if out.Expected != nil || out.Unserved == nil || out.Unserved.Field != "spec.retryBudget.ttl" {
		t.Errorf("empty ttl: %+v", out)
	}
}

func TestNotesAndOpaqueReachExpected(t *testing.T) {
	c := cand("ns")
	c.Profile.Spec.Routes[0].Timeout = "abc"
	l := lookup("", c)
	l.Service.OpaquePorts = strp("80")
	out := Expect(l)
	if out.Expected == nil || out.Expected.Routes[0].Timeout != nil {
		t.Fatalf("bad timeout must be served without timeout: %v", out.Expected)
	}
	if len(out.Notes) != 1 || out.Notes[0].RouteName != "route-from-ns" {
		t.Errorf("notes = %+v", out.Notes)
	}
	if !out.Opaque || !out.Expected.OpaqueProtocol || out.OpaqueWhy == "" {
		t.Errorf("opaque=%v proto=%v why=%q", out.Opaque, out.Expected.OpaqueProtocol, out.OpaqueWhy)
	}
	// Default profile also carries the Service's opaque flag (§3.1, §3.2).
	l.Candidates = nil
	if out := Expect(l); !out.Expected.OpaqueProtocol || out.Source != SourceDefault {
		t.Errorf("default profile on opaque port: %+v", out)
	}
}

func TestOpaqueViaExpect(t *testing.T) {
	mysql := svc(ServicePort{Name: "mysql", Port: 3306}, ServicePort{Name: "http", Port: 80})
	cases := []struct {
		name       string
		annotation *string
		defaults   string
		port       uint32
		want       bool
	}{
		{"absent → chart defaults include 3306", nil, "", 3306, true},
		{"absent → 80 not a default", nil, "", 80, false},
		{"empty annotation → no opaque ports", strp(""), "", 3306, false},
		{"annotation overrides defaults", strp("80"), "", 3306, false},
		{"annotation by number", strp("80"), "", 80, true},
		{"annotation by name", strp("mysql"), "", 3306, true},
		{"custom control-plane defaults", nil, "80", 80, true},
		{"custom defaults replace chart ones", nil, "80", 3306, false},
	}
	for _, c := range cases {
		s := mysql
		s.OpaquePorts = c.annotation
		out := Expect(Lookup{Service: s, Port: c.port, DefaultOpaquePorts: c.defaults})
		if out.Opaque != c.want || out.Expected.GetOpaqueProtocol() != c.want {
			t.Errorf("%s: opaque=%v proto=%v, want %v", c.name, out.Opaque, out.Expected.GetOpaqueProtocol(), c.want)
		}
		if c.want && out.OpaqueWhy == "" {
			t.Errorf("%s: no reason given", c.name)
		}
	}
}

func TestIsOpaqueDefaults(t *testing.T) {
	// §3.2: chart default 25,587,3306,4444,5432,6379,9300,11211.
	s := Service{Name: "x", Namespace: "y"}
	for _, p := range []uint32{25, 587, 3306, 4444, 5432, 6379, 9300, 11211} {
		if ok, why := IsOpaque(s, p, DefaultOpaquePorts); !ok || why == "" {
			t.Errorf("default port %d not opaque", p)
		}
	}
	for _, p := range []uint32{80, 443, 8080, 3307, 26, 11212} {
		if ok, _ := IsOpaque(s, p, DefaultOpaquePorts); ok {
			t.Errorf("port %d opaque by default", p)
		}
	}
	if DefaultOpaquePorts != "25,587,3306,4444,5432,6379,9300,11211" {
		t.Errorf("DefaultOpaquePorts = %q", DefaultOpaquePorts)
	}
	if OpaquePortsAnnotation != "config.linkerd.io/opaque-ports" {
		t.Errorf("annotation = %q", OpaquePortsAnnotation)
	}
}

func keys(m map[uint32]bool) []int {
	var out []int
	for k, v := range m {
		if v {
			out = append(out, int(k))
		}
	}
	sort.Ints(out)
	return out
}

func TestOpaquePortsParse(t *testing.T) {
	// §3.2: port numbers, ranges, or service port names (names resolve to the
	// service port, not the targetPort).
	ports := []ServicePort{{Name: "http", Port: 80}, {Name: "grpc", Port: 9090}, {Name: "", Port: 7000}, {Name: "http-alt", Port: 8081}}
	cases := []struct {
		value    string
		want     []int
		problems int
	}{
		{"", nil, 0},
		{"4242", []int{4242}, 0},
		{"80,443", []int{80, 443}, 0},
		{" 80 , 443 ", []int{80, 443}, 0},
		{"8000-8003", []int{8000, 8001, 8002, 8003}, 0},
		{"5-5", []int{5}, 0},
		{"http", []int{80}, 0},
		{"http,grpc,25", []int{25, 80, 9090}, 0},
		{"http,", []int{80}, 0},
		{"http-alt", []int{8081}, 0}, // a hyphenated name is a name, not a range
		{"http-alt,8000-8001", []int{8000, 8001, 8081}, 0},
		{"nosuchname", nil, 1},
		{"nosuchname,443", []int{443}, 1},
		{"10-5", nil, 1},
		{"1-2-3", nil, 1},
		{"70000", nil, 1},
		{"a-b", nil, 1},
		// Upstream's parsing quirks (pkg/util/parsing.go, portrange.go;
		// watcher/opaque_ports_watcher.go), found by the test destination.
		{"80,,", []int{80, 7000}, 0}, // one trailing comma goes; "" names the unnamed port
		{",443", []int{443, 7000}, 0},
		{"0-2", []int{0, 1, 2}, 0},
		{"+443", []int{443}, 0},
		{"80 - 81", nil, 1}, // no spaces inside a range
	}
	for _, c := range cases {
		set, problems := OpaquePorts(c.value, ports)
		if got := keys(set); !reflect.DeepEqual(got, c.want) {
			t.Errorf("OpaquePorts(%q) = %v, want %v", c.value, got, c.want)
		}
		if len(problems) != c.problems {
			t.Errorf("OpaquePorts(%q) problems = %q, want %d", c.value, problems, c.problems)
		}
	}
}

func TestIsOpaqueAnnotation(t *testing.T) {
	s := Service{Name: "x", Namespace: "y", Ports: []ServicePort{{Name: "tcp-db", Port: 5000}}}
	cases := []struct {
		annotation string
		port       uint32
		want       bool
	}{
		{"5000", 5000, true},
		{"tcp-db", 5000, true},
		{"4000-6000", 5000, true},
		{"4000-4999", 5000, false},
		{"", 5000, false},
		{"", 3306, false}, // present but empty: no opaque ports, defaults don't apply
		{"5000", 3306, false},
	}
	for _, c := range cases {
		s.OpaquePorts = strp(c.annotation)
		if got, _ := IsOpaque(s, c.port, DefaultOpaquePorts); got != c.want {
			t.Errorf("annotation %q port %d: opaque=%v want %v", c.annotation, c.port, got, c.want)
		}
	}
}

func TestHasPort(t *testing.T) {
	s := svc(ServicePort{Name: "a", Port: 80}, ServicePort{Name: "b", Port: 443})
	for p, want := range map[uint32]bool{80: true, 443: true, 8080: false, 0: false} {
		if s.HasPort(p) != want {
			t.Errorf("HasPort(%d) != %v", p, want)
		}
	}
	if (Service{}).HasPort(80) {
		t.Error("Service without ports has port 80")
	}
}

func TestOverrides(t *testing.T) {
	broken := cand("broken")
	broken.Profile = nil
	broken.DecodeErr = errors.New("x")
	wrongName := cand("wrong")
	wrongName.Name = "other.ns.svc.mycluster.local"
	cands := []Candidate{cand("ns"), cand("team-a"), broken, wrongName, cand("team-b")}
	got := Overrides(svc(), "mycluster.local", cands)
	if want := []string{"team-a", "team-b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Overrides = %v, want %v", got, want)
	}
	if got := Overrides(svc(), "cluster.local", cands); len(got) != 0 {
		t.Errorf("Overrides with another cluster domain = %v", got)
	}
	if got := Overrides(svc(), "mycluster.local", []Candidate{cand("ns")}); len(got) != 0 {
		t.Errorf("service-namespace SP counted as override: %v", got)
	}
}

func objectMeta(name, ns string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns}
}
