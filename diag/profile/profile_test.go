package profile

import (
	"strings"
	"testing"
)

// Expectations below come from destination-api.md §1.3, §2, §5.1 and §5.3,
// not from the implementation.

func TestFQDN(t *testing.T) {
	cases := []struct {
		svc, ns, domain, want string
	}{
		{"webapp", "ns", "mycluster.local", "webapp.ns.svc.mycluster.local"},
		{"webapp", "default", "", "webapp.default.svc.cluster.local"}, // §1.3: empty domain → cluster.local
		{"web", "emojivoto", "cluster.local", "web.emojivoto.svc.cluster.local"},
	}
	for _, c := range cases {
		if got := FQDN(c.svc, c.ns, c.domain); got != c.want {
			t.Errorf("FQDN(%q,%q,%q) = %q, want %q", c.svc, c.ns, c.domain, got, c.want)
		}
	}
}

func TestParseFQDN(t *testing.T) {
	cases := []struct {
		name, domain string
		want         ServiceRef
		ok           bool
	}{
		{"webapp.ns.svc.cluster.local", "", ServiceRef{"webapp", "ns"}, true},
		{"webapp.ns.svc.cluster.local", "cluster.local", ServiceRef{"webapp", "ns"}, true},
		{"webapp.ns.svc.mycluster.local", "mycluster.local", ServiceRef{"webapp", "ns"}, true},
		// wrong cluster domain
		{"webapp.ns.svc.cluster.local", "mycluster.local", ServiceRef{}, false},
		{"webapp.ns.svc.mycluster.local", "", ServiceRef{}, false},
		// a domain that merely ends with the configured one is not it
		{"webapp.ns.svc.xcluster.local", "cluster.local", ServiceRef{}, false},
		// trailing dot is rejected (§1.3)
		{"webapp.ns.svc.cluster.local.", "", ServiceRef{}, false},
		// short names
		{"webapp", "", ServiceRef{}, false},
		{"webapp.ns", "", ServiceRef{}, false},
		{"webapp.ns.svc", "", ServiceRef{}, false},
		{"ns.svc.cluster.local", "", ServiceRef{}, false},
		{"svc.cluster.local", "", ServiceRef{}, false},
		// exactly two labels before svc: a pod-DNS style name is not a profile name
		{"pod-0.webapp.ns.svc.cluster.local", "", ServiceRef{}, false},
		{"a.b.c.d.svc.cluster.local", "", ServiceRef{}, false},
		// empty labels
		{".ns.svc.cluster.local", "", ServiceRef{}, false},
		{"webapp..svc.cluster.local", "", ServiceRef{}, false},
		// case-sensitive comparison
		{"webapp.ns.SVC.cluster.local", "", ServiceRef{}, false},
		{"webapp.ns.svc.Cluster.Local", "", ServiceRef{}, false},
		// "svc" must be its own label
		{"webapp.nssvc.cluster.local", "", ServiceRef{}, false},
		{"", "", ServiceRef{}, false},
	}
	for _, c := range cases {
		got, ok := ParseFQDN(c.name, c.domain)
		if ok != c.ok || got != c.want {
			t.Errorf("ParseFQDN(%q,%q) = %+v,%v; want %+v,%v", c.name, c.domain, got, ok, c.want, c.ok)
		}
	}
}

func TestParseFQDNRoundTrip(t *testing.T) {
	for _, d := range []string{"cluster.local", "mycluster.local", "example.org.internal"} {
		name := FQDN("svc-a", "team-b", d)
		ref, ok := ParseFQDN(name, d)
		if !ok || ref != (ServiceRef{"svc-a", "team-b"}) {
			t.Errorf("round trip via %q: got %+v,%v", name, ref, ok)
		}
	}
}

const validSP = `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: webapp.ns.svc.cluster.local
  namespace: ns
spec:
  routes:
  - name: GET /books
    condition:
      method: GET
      pathRegex: /books
    responseClasses:
    - condition:
        status:
          min: 500
          max: 599
      isFailure: true
    isRetryable: true
    timeout: 300ms
  retryBudget:
    retryRatio: 0.3
    minRetriesPerSecond: 5
    ttl: 20s
  dstOverrides:
  - authority: webapp-v2.ns.svc.cluster.local:80
    weight: 500m
  - authority: webapp-v1
    weight: 1
`

func TestDecodeValid(t *testing.T) {
	for name, dec := range map[string]func([]byte) (*ServiceProfile, error){"Decode": Decode, "DecodeStrict": DecodeStrict} {
		sp, err := dec([]byte(validSP))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if sp.Kind != "ServiceProfile" || sp.APIVersion != "linkerd.io/v1alpha2" || sp.Name != "webapp.ns.svc.cluster.local" || sp.Namespace != "ns" {
			t.Errorf("%s: meta = %+v %+v", name, sp.TypeMeta, sp.ObjectMeta)
		}
		if len(sp.Spec.Routes) != 1 {
			t.Fatalf("%s: routes = %d", name, len(sp.Spec.Routes))
		}
		r := sp.Spec.Routes[0]
		if r.Name != "GET /books" || r.Condition == nil || r.Condition.Method != "GET" || r.Condition.PathRegex != "/books" ||
			!r.IsRetryable || r.Timeout != "300ms" || len(r.ResponseClasses) != 1 {
			t.Errorf("%s: route = %+v", name, r)
		}
		rc := r.ResponseClasses[0]
		if !rc.IsFailure || rc.Condition == nil || rc.Condition.Status == nil || *rc.Condition.Status != (Range{500, 599}) {
			t.Errorf("%s: response class = %+v", name, rc)
		}
		rb := sp.Spec.RetryBudget
		if rb == nil || rb.RetryRatio != 0.3 || rb.MinRetriesPerSecond != 5 || rb.TTL != "20s" {
			t.Errorf("%s: retry budget = %+v", name, rb)
		}
		if len(sp.Spec.DstOverrides) != 2 {
			t.Fatalf("%s: dstOverrides = %d", name, len(sp.Spec.DstOverrides))
		}
		// weight is an int-or-string quantity (§5.3)
		if got := sp.Spec.DstOverrides[0].Weight.MilliValue(); got != 500 {
			t.Errorf("%s: weight 500m MilliValue = %d", name, got)
		}
		if got := sp.Spec.DstOverrides[1].Weight.MilliValue(); got != 1000 {
			t.Errorf("%s: weight 1 MilliValue = %d", name, got)
		}
	}
}

func TestDecodeNestedConditions(t *testing.T) {
	sp, err := Decode([]byte(`spec:
  routes:
  - name: r
    condition:
      all:
      - method: post
      - any: []
      not:
        pathRegex: /x
    responseClasses:
    - condition:
        not:
          status: {}
`))
	if err != nil {
		t.Fatal(err)
	}
	c := sp.Spec.Routes[0].Condition
	if len(c.All) != 2 || c.All[0].Method != "post" {
		t.Errorf("all = %+v", c.All)
	}
	// `any: []` must stay a non-nil empty list: the controller treats it as set (§4).
	if c.All[1].Any == nil || len(c.All[1].Any) != 0 {
		t.Errorf("any: [] decoded as %#v, want non-nil empty", c.All[1].Any)
	}
	if c.Not == nil || c.Not.PathRegex != "/x" {
		t.Errorf("not = %+v", c.Not)
	}
	rm := sp.Spec.Routes[0].ResponseClasses[0].Condition
	if rm.Not == nil || rm.Not.Status == nil || *rm.Not.Status != (Range{}) {
		t.Errorf("response not/status {} = %+v", rm.Not)
	}
}

func TestDecodeUnknownField(t *testing.T) {
	// §5.1: the webhook decodes strictly (unknown fields rejected); the
	// controller's informer does not.
	doc := []byte(`spec:
  routes:
  - name: r
    condition:
      method: GET
    responseClasses:
    - condition:
        status:
          min: 500
      isSuccess: true
`)
	sp, err := Decode(doc)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if sp.Spec.Routes[0].ResponseClasses[0].IsFailure {
		t.Error("isSuccess must not turn into isFailure")
	}
	if _, err := DecodeStrict(doc); err == nil {
		t.Fatal("DecodeStrict accepted unknown field isSuccess")
	} else if !strings.Contains(err.Error(), "isSuccess") {
		t.Errorf("DecodeStrict error does not name the field: %v", err)
	}
}

func TestDecodeWrongType(t *testing.T) {
	// Wrong types fail both decoders (§5.1 for the webhook; the informer's
	// json decode fails the same way).
	docs := []string{
		"spec:\n  routes:\n  - name: r\n    isRetryable: \"yes\"\n",
		"spec:\n  retryBudget:\n    retryRatio: lots\n    minRetriesPerSecond: 1\n    ttl: 1s\n",
		"spec:\n  routes: {}\n",
	}
	for _, d := range docs {
		if _, err := Decode([]byte(d)); err == nil {
			t.Errorf("Decode accepted %q", d)
		}
		if _, err := DecodeStrict([]byte(d)); err == nil {
			t.Errorf("DecodeStrict accepted %q", d)
		}
	}
}

func TestDecodeSchemaMismatches(t *testing.T) {
	// §5.3: shapes the CRD schema allows but the controller's Go types cannot hold.
	cases := []struct {
		name    string
		doc     string
		wantErr bool
		mention string // what the error must say so the user knows what to fix
	}{
		{
			name:    "request not as array (CRD form)",
			doc:     "spec:\n  routes:\n  - name: r\n    condition:\n      not:\n      - method: GET\n",
			wantErr: true, mention: "not",
		},
		{
			name:    "request not as object (Go form)",
			doc:     "spec:\n  routes:\n  - name: r\n    condition:\n      not:\n        method: GET\n",
			wantErr: false,
		},
		{
			name:    "opaquePorts non-empty",
			doc:     "spec:\n  opaquePorts:\n  - \"3306\"\n",
			wantErr: true, mention: "opaquePorts",
		},
		{
			name:    "opaquePorts several",
			doc:     "spec:\n  opaquePorts: [\"80\", \"443\"]\n",
			wantErr: true, mention: "opaquePorts",
		},
		{
			// The reference only says "non-empty"; an empty array cannot go
			// into a Go map either (encoding/json rule, same in the informer).
			name:    "opaquePorts empty array",
			doc:     "spec:\n  opaquePorts: []\n",
			wantErr: true, mention: "opaquePorts",
		},
		{
			name:    "opaquePorts null",
			doc:     "spec:\n  opaquePorts: null\n",
			wantErr: false,
		},
	}
	for _, c := range cases {
		for dname, dec := range map[string]func([]byte) (*ServiceProfile, error){"Decode": Decode, "DecodeStrict": DecodeStrict} {
			_, err := dec([]byte(c.doc))
			if (err != nil) != c.wantErr {
				t.Errorf("%s/%s: err = %v, wantErr %v", c.name, dname, err, c.wantErr)
				continue
			}
			if err != nil && !strings.Contains(err.Error(), c.mention) {
				t.Errorf("%s/%s: error %q does not mention %q", c.name, dname, err, c.mention)
			}
		}
	}
}

func TestDecodeNotArrayMessage(t *testing.T) {
	// The reworded message must be about the request-level `not`, and must
	// not be given for other array-into-object errors.
	_, err := Decode([]byte("spec:\n  routes:\n  - name: r\n    condition:\n      not:\n      - method: GET\n"))
	if err == nil || !strings.Contains(err.Error(), "`not` is a list") {
		t.Errorf("request not array: %v", err)
	}
	_, err = Decode([]byte("spec:\n  routes:\n  - name: r\n    condition:\n      all:\n      - [ ]\n"))
	if err == nil {
		t.Fatal("array inside all accepted")
	}
	if strings.Contains(err.Error(), "`not` is a list") {
		t.Errorf("array inside `all` blamed on `not`: %v", err)
	}
}

func TestFromJSONObject(t *testing.T) {
	obj := map[string]interface{}{
		"apiVersion": "linkerd.io/v1alpha2",
		"kind":       "ServiceProfile",
		"metadata":   map[string]interface{}{"name": "webapp.ns.svc.cluster.local", "namespace": "client"},
		"spec": map[string]interface{}{
			"routes":             []interface{}{map[string]interface{}{"name": "r", "condition": map[string]interface{}{"method": "GET"}, "isSuccess": true}},
			"unknownFutureField": 1,
		},
	}
	sp, err := FromJSONObject(obj)
	if err != nil {
		t.Fatalf("lenient decode failed: %v", err)
	}
	if sp.Namespace != "client" || len(sp.Spec.Routes) != 1 || sp.Spec.Routes[0].Condition.Method != "GET" {
		t.Errorf("got %+v", sp)
	}
	obj["spec"].(map[string]interface{})["opaquePorts"] = []interface{}{"8080"}
	if _, err := FromJSONObject(obj); err == nil {
		t.Error("opaquePorts array accepted from an unstructured object")
	}
}

func TestDecodeIsCaseSensitive(t *testing.T) {
	sp, err := Decode([]byte("spec:\n  routes:\n  - name: r\n    condition: {pathRegex: /x}\n    IsRetryable: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if sp.Spec.Routes[0].IsRetryable {
		t.Fatal("IsRetryable was decoded as isRetryable; the controller's decoder is case-sensitive")
	}
}

// The API server accepts any UTF-8 in strings, and the controller decodes
// the JSON it gets with encoding/json: DEL, C1 and bidi characters decode.
// They used to fail here, through a YAML reader that refuses them.
func TestDecodeJSONWithControlCharacters(t *testing.T) {
	raw := []byte("{\"apiVersion\":\"linkerd.io/v1alpha2\",\"kind\":\"ServiceProfile\",\"metadata\":{\"name\":\"a.b.svc.cluster.local\"}," +
		"\"spec\":{\"routes\":[{\"name\":\"del\x7f c1\u009b bidi\u202e\",\"condition\":{\"method\":\"GET\"}}]}}")
	sp, err := Decode(raw)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if got := sp.Spec.Routes[0].Name; got != "del\x7f c1\u009b bidi\u202e" {
		t.Errorf("name = %q", got)
	}
}
