package metrics

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/internal/metricstest"
)

// agree checks the scanner against expfmt on one text: when the scanner
// reads it, expfmt must read it too and give the same snapshot. It reports
// whether the scanner read it.
func agree(t *testing.T, text string) bool {
	t.Helper()
	if !strings.HasSuffix(text, "\n") {
		text += "\n" // parseSelected ends every kept line
	}
	fast, ok := scanAll([]byte(text))
	if !ok {
		return false
	}
	slow, err := parseExpfmt(strings.NewReader(text), 0)
	if err != nil {
		t.Fatalf("the scanner read a text expfmt rejects (%v):\n%q", err, text)
	}
	if fast.StartTime != slow.StartTime && !(math.IsNaN(fast.StartTime) && math.IsNaN(slow.StartTime)) {
		t.Fatalf("start time %v, expfmt %v:\n%q", fast.StartTime, slow.StartTime, text)
	}
	if len(fast.Series) != len(slow.Series) {
		t.Fatalf("%d series, expfmt %d:\n%q\nscanner %v\nexpfmt %v", len(fast.Series), len(slow.Series), text, dump(fast), dump(slow))
	}
	for k, s := range slow.Series {
		f := fast.Series[k]
		if f == nil || f.Name != s.Name || !sameLabels(f.Labels, s.Labels) || !sameFloat(f.Value, s.Value) || !sameBuckets(f.Buckets, s.Buckets) {
			t.Fatalf("series %q: scanner %+v, expfmt %+v:\n%q", k, f, s, text)
		}
	}
	return true
}

func sameLabels(a, b Labels) bool { return slices.Equal(a, b) }

func sameBuckets(a, b []Bucket) bool {
	return slices.EqualFunc(a, b, func(x, y Bucket) bool {
		return x.LE == y.LE && sameFloat(x.Count, y.Count) && sameFloat(x.Bound, y.Bound)
	})
}

// sameFloat compares bits (0 and -0 differ), NaNs being equal.
func sameFloat(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || math.IsNaN(a) && math.IsNaN(b)
}

func dump(s *Snapshot) []string {
	var out []string
	for k, v := range s.Series {
		out = append(out, strings.ReplaceAll(strings.ReplaceAll(k, "\x00", ","), "\x01", "=")+" "+formatLE(v.Value)+fmt.Sprint(v.Buckets))
	}
	return out
}

// The proxy's own layouts take the fast path and agree with expfmt: the
// hand-written fixtures and the test proxies' exposition (what the
// benchmarks and the end-to-end tests serve), so the benchmarks measure the
// scanner, not the fallback.
func TestScannerReadsProxyExpositions(t *testing.T) {
	texts := map[string][]byte{}
	for _, name := range []string{"testdata/proxy-before.prom", "testdata/proxy-after.prom"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		texts[name] = b
	}
	p := metricstest.NewProxy(1000)
	p.RecordSP(metricstest.SPRequest{Direction: "outbound", Dst: "webapp.books.svc.cluster.local:7000", Route: "GET /books/{id}", Status: 503, Failure: true, LatencyMs: 250, Retries: 1}, 3)
	p.RecordSP(metricstest.SPRequest{Direction: "inbound", Dst: "webapp.books.svc.cluster.local:7000", Route: "GET /x", Status: 200, LatencyMs: 4}, 5)
	p.RecordPolicy(metricstest.PolicyRequest{ParentNamespace: "books", ParentName: "webapp", ParentPort: "7000", RouteGroup: "gateway.networking.k8s.io",
		RouteKind: "HTTPRoute", RouteNamespace: "books", RouteName: "r", Status: "200", LatencySeconds: 0.03, BackendNamespace: "books",
		BackendName: "webapp", BackendPort: "7000", Retries: 1}, 7)
	p.RecordEndpoint("outbound", "webapp.books.svc.cluster.local:7000", "books", "webapp", 2)
	texts["metricstest"] = []byte(p.Exposition())
	for name, b := range texts {
		// What parseSelected keeps: the relevant families' samples
		// and their TYPE/HELP lines.
		var kept bytes.Buffer
		for _, line := range bytes.Split(b, []byte("\n")) {
			if n := metricName(line); n != nil && relevant(string(n)) && (line[0] == '#' || used(string(n))) {
				kept.Write(line)
				kept.WriteByte('\n')
			}
		}
		if !agree(t, kept.String()) {
			t.Fatalf("%s: the scanner gave up on a proxy's exposition", name)
		}
	}
}

// Each case is one construct; the grid says whether the scanner reads it
// (it must then agree with expfmt) or leaves it to expfmt.
func TestScannerGrid(t *testing.T) {
	const h = "# TYPE d histogram\n"
	for _, c := range []struct {
		text  string
		reads bool
	}{
		{"a 1\n", true},
		{"a{x=\"1\"} 2\n", true},
		{"a{x=\"1\",} 2\n", true},
		{"a{} 2\n", true},
		{"a{x=\"1\",y=\"\\\\ \\\" \\n\"} 2 1700000000000\n", true},
		{"a{y=\"2\",x=\"1\"} 2\na{x=\"1\",y=\"2\"} 3\n", true}, // same series: the later wins
		{"a NaN\na +Inf\nb -Inf\n", true},
		{"process_start_time_seconds 17\nprocess_start_time_seconds 0\n", true},
		{"# HELP a the a\n# TYPE a counter\na 1\n", true},
		{h + "d_bucket{le=\"1.0\",x=\"a\"} 1\nd_bucket{x=\"a\",le=\"+Inf\"} 2\nd_sum{x=\"a\"} 3.5\nd_count{x=\"a\"} 2\n", true},
		{h + "d_bucket{le=\"1\"} 1\n", true}, // no +Inf and no _count: nothing synthetic
		{"d_bucket{le=\"1.0\"} 1\n", true},   // untyped: le kept as written
		// Runs: a bucket line read by comparison with the one before.
		{h + "d_bucket{x=\"a\",le=\"1\"} 1\nd_bucket{x=\"a\",le=\"2\"} 2\nd_bucket{x=\"a\",le=\"+Inf\"} 3\n", true},
		{h + "d_bucket{le=\"1\",x=\"a\\n\"} 1\nd_bucket{le=\"2\",x=\"a\\n\"} 1\n", true},
		{h + "d_bucket{le=\"1\",x=\"a\"} 1\nd_bucket{le=\"1\",x=\"a\"} 2\n", true},
		{h + "d_bucket{le=\"1\",x=\"a\"} 1\nd_bucket{le=\"2\",x=\"a\"} 1.5\n", false},
		{h + "d_bucket{le=\"1\",x=\"a\"} -0\nd_bucket{le=\"+Inf\",x=\"a\"} -0\nd_count{x=\"a\"} -0\n", true},
		{h + "d_bucket{le=\"1\",x=\"a\"} 1\nd_bucket{le=\"2\\\"\",x=\"a\"} 1\n", false},
		{h + "d_bucket{le=\"1\",x=\"a\"} 1\nd_bucket{le=\"1\",x=\"a\",le=\"2\"} 2\n", false},
		{h + "d_bucket{le=\"1\",x=\"a\"} 1\nd_bucket{le=\"2\",x=\"a\"}  1\n", false},
		{"a{x=\"1\"}2\n", false}, // expfmt reads it; the scanner leaves it
		{"a\t1\n", false},
		{" a 1\n", false},
		{"a{x=\"1\" } 2\n", false},
		{"a{x=\"1\"y=\"2\"} 2\n", false},
		{"a{x=\"\\t\"} 2\n", false},
		{"a{x=\"1\",x=\"2\"} 2\n", false},
		{"a{__name__=\"b\"} 2\n", false},
		{"a{\"x\"=\"1\"} 2\n", false},
		{"{\"a\"} 2\n", false},
		{"a{x=\"\xff\"} 2\n", false},
		{"a 0x1p3\n", false},
		{"a 1_0\n", false},
		{"a 1 2 \n", false},
		{"a 1 x\n", false},
		{"a \n", false},
		{"a 1\n# TYPE a counter\n", false},
		{"# TYPE a counter\n# TYPE a gauge\n", false},
		{"# HELP a x\n# HELP a y\n", false},
		{"# HELP a x\\n\n", false},
		{"# TYPE a summary\n", false},
		{"# TYPE a COUNTER\n", false},
		{"# TYPE a counter \n", false},
		{"#  TYPE a counter\n", false},
		{"\n", false},
		{h + "d 1\n", false},
		{h + "d_bucket 1\n", false},
		{h + "d_count{le=\"1\"} 1\n", false},
		{h + "d_bucket{le=\"x\"} 1\n", false},
		{h + "d_bucket{le=\"1\"} 1.5\n", false},
		{h + "d_bucket{le=\"1\"} -1\n", false},
		{h + "d_count 2\n", false},              // a _count and no +Inf bucket: expfmt synthesises one
		{h + "d_bucket{le=\"NaN\"} 1\n", false}, // expfmt drops a NaN bound's sample
		{h + "d_bucket{le=\"1\",x=\"a\"} 1\nd_bucket{le=\"nan\",x=\"a\"} 1\nd_bucket{le=\"+Inf\",x=\"a\"} 1\n", false},
		{"# TYPE process_start_time_seconds histogram\nprocess_start_time_seconds_bucket{le=\"+Inf\"} 1\n", false},
		{"# TYPE process_start_time_seconds histogram\nprocess_start_time_seconds_sum 3\n", false},
		{"d_bucket 1\n" + h, true}, // d_bucket stays its own family
	} {
		if got := agree(t, c.text); got != c.reads {
			t.Errorf("%q: scanner reads it = %v, want %v", c.text, got, c.reads)
		}
	}
}

// FuzzScannerAgreesWithExpfmt: for any text, the scanner either gives up
// or gives exactly expfmt's snapshot; it never reads what expfmt rejects.
func FuzzScannerAgreesWithExpfmt(f *testing.F) {
	for _, name := range []string{"testdata/proxy-before.prom", "testdata/proxy-after.prom"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("# TYPE d histogram\nd_bucket{le=\"1.0\",x=\"a\"} 1\nd_bucket{x=\"a\",le=\"+Inf\"} 2\nd_count{x=\"a\"} 2\nd_sum{x=\"a\"} 1\n")
	f.Add("a{x=\"1\",y=\"\\\\ \\\" \\n\"} 2 1700000000000\nprocess_start_time_seconds 17\n# HELP a x\n")
	f.Fuzz(func(t *testing.T, text string) {
		agree(t, text)
	})
}

// TestScannerAgreesOnGeneratedDocuments: byte-level fuzzing rarely builds
// a document whose families interact (a TYPE after a sample, a histogram
// named like another family's sample, a _count without +Inf). These are
// documents of lines drawn from such fragments, each checked with agree.
func TestScannerAgreesOnGeneratedDocuments(t *testing.T) {
	names := []string{"d", "d_bucket", "d_count", "d_sum", "d_bucket_bucket", "process_start_time_seconds", "process_start_time_seconds_bucket", "route_x_total"}
	types := []string{"histogram", "counter", "gauge", "untyped", "summary"}
	labels := []string{"", `le="1"`, `le="+Inf"`, `le="1.0"`, `x="a"`, `x="b"`, `le="1",x="a"`, `x="a",le="+Inf"`, `x="a",le="1"`, `le="+Inf",x="a"`, `x="a",x="b"`, `y="\n"`, `le="NaN"`, `le="NaN",x="a"`}
	values := []string{"1", "2", "0", "1.5", "NaN", "-1", "+Inf", "3 17"}
	rng := uint64(1)
	next := func(n int) int {
		rng ^= rng << 13
		rng ^= rng >> 7
		rng ^= rng << 17
		return int(rng % uint64(n))
	}
	read := 0
	for doc := 0; doc < 20000; doc++ {
		var b strings.Builder
		for l := 0; l < 1+next(6); l++ {
			name := names[next(len(names))]
			switch next(5) {
			case 0:
				b.WriteString("# TYPE " + name + " " + types[next(len(types))] + "\n")
			case 1:
				b.WriteString("# HELP " + name + " h\n")
			default:
				b.WriteString(name)
				if ls := labels[next(len(labels))]; ls != "" {
					b.WriteString("{" + ls + "}")
				}
				b.WriteString(" " + values[next(len(values))] + "\n")
			}
		}
		if agree(t, b.String()) {
			read++
		}
	}
	// The generator must exercise both paths.
	if read < 2000 || read > 18000 {
		t.Fatalf("the scanner read %d of 20000 documents", read)
	}
	t.Logf("the scanner read %d of 20000 documents", read)
}
