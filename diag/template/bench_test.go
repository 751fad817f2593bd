package template

import (
	"math/rand/v2"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// trafficGen writes synthetic request paths into one reused buffer. The mix
// is high-cardinality: ids in REST paths, random literal words (which
// overflow MaxTemplates), static assets, some very long paths and a few odd
// methods.
type trafficGen struct {
	rng *rand.Rand
	buf []byte
}

func newTrafficGen(seed uint64) *trafficGen {
	return &trafficGen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), buf: make([]byte, 0, 4096)}
}

var benchMethods = []string{"GET", "GET", "GET", "POST", "PUT", "DELETE", "PATCH", strings.Repeat("M", MaxMethodLen+1)}

const hexDigits = "0123456789abcdef"

func (t *trafficGen) word(n int) {
	for range n {
		t.buf = append(t.buf, byte('a'+t.rng.IntN(26)))
	}
}

func (t *trafficGen) hex(n int) {
	for range n {
		t.buf = append(t.buf, hexDigits[t.rng.IntN(16)])
	}
}

// next returns a method and a path that is only valid until the next call.
func (t *trafficGen) next() (method, path string, status int) {
	t.buf = t.buf[:0]
	r := t.rng.IntN(100)
	switch {
	case r < 40:
		t.buf = append(t.buf, "/api/v1/users/"...)
		t.buf = strconv.AppendInt(t.buf, int64(t.rng.IntN(1_000_000)), 10)
		t.buf = append(t.buf, "/orders/"...)
		t.hex(8)
		t.buf = append(t.buf, '-')
		t.hex(4)
		t.buf = append(t.buf, "-4"...)
		t.hex(3)
		t.buf = append(t.buf, "-a"...)
		t.hex(3)
		t.buf = append(t.buf, '-')
		t.hex(12)
	case r < 60:
		t.buf = append(t.buf, "/search/"...)
		t.word(4 + t.rng.IntN(8))
		t.buf = append(t.buf, "?q=x"...)
	case r < 75:
		t.buf = append(t.buf, "/static/"...)
		t.hex(16)
		t.buf = append(t.buf, ".js"...)
	case r < 95:
		t.buf = append(t.buf, "/emojivoto.v1.EmojiService/"...)
		t.buf = append(t.buf, [...]string{"ListAll", "FindByShortcode", "Vote"}[t.rng.IntN(3)]...)
	case r < 99:
		t.buf = append(t.buf, '/')
		t.word(1 + t.rng.IntN(3))
		t.buf = append(t.buf, '/')
		t.buf = strconv.AppendInt(t.buf, int64(t.rng.IntN(100)), 10)
	default:
		for len(t.buf) < 1500 {
			t.buf = append(t.buf, '/')
			t.word(1 + t.rng.IntN(20))
		}
	}
	// The Grouper must not keep path: it is overwritten by the next call, so
	// a retained path would show up as corrupted examples.
	path = unsafe.String(unsafe.SliceData(t.buf), len(t.buf))
	return benchMethods[t.rng.IntN(len(benchMethods))], path, [...]int{200, 200, 200, 201, 404, 500, 0}[t.rng.IntN(7)]
}

// realisticPaths is a fixed pool for the benchmark, so that it measures the
// Grouper and not the generator.
func realisticPaths(n int) (methods, paths []string, statuses []int) {
	gen := newTrafficGen(42)
	for range n {
		m, p, s := gen.next()
		methods = append(methods, m)
		paths = append(paths, strings.Clone(p))
		statuses = append(statuses, s)
	}
	return methods, paths, statuses
}

func BenchmarkGrouperAdd(b *testing.B) {
	methods, paths, statuses := realisticPaths(1 << 14)
	g := NewGrouper(Options{})
	for i := range paths { // warm: groups exist, examples full
		g.Add(methods[i], paths[i], statuses[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		j := i & (len(paths) - 1)
		g.Add(methods[j], paths[j], statuses[j])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkTemplate(b *testing.B) {
	_, paths, _ := realisticPaths(1 << 12)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = Template(paths[i&(len(paths)-1)])
		i++
	}
}

// TestGrouperMemoryBound adds 10 million high-cardinality events (1 million
// with -short) and checks that the live heap stays bounded and that events
// do not allocate once the caps are reached.
func TestGrouperMemoryBound(t *testing.T) {
	const heapBound = 32 << 20
	events := 10_000_000
	if testing.Short() {
		events = 1_000_000
	}
	gen := newTrafficGen(7)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	baseHeap, baseMallocs := ms.HeapAlloc, ms.Mallocs

	g := NewGrouper(Options{})
	start := time.Now()
	var peak uint64
	const checkEvery = 1_000_000
	for i := 1; i <= events; i++ {
		g.Add(gen.next())
		if i%checkEvery == 0 || i == events {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > baseHeap {
				peak = max(peak, ms.HeapAlloc-baseHeap)
			}
		}
	}
	elapsed := time.Since(start)
	mallocs := ms.Mallocs - baseMallocs
	t.Logf("%d events in %v (%.0f events/s), live heap growth peak %.1f MiB, %d mallocs (%.4f per event)",
		events, elapsed.Round(time.Millisecond), float64(events)/elapsed.Seconds(),
		float64(peak)/(1<<20), mallocs, float64(mallocs)/float64(events))

	if peak > heapBound {
		t.Errorf("live heap grew by %d bytes, want < %d", peak, heapBound)
	}
	// Allocation only happens when a group, example or status code is new,
	// which the caps bound; the generator itself does not allocate.
	if perEvent := float64(mallocs) / float64(events); perEvent > 0.01 {
		t.Errorf("%.4f allocations per event, want about 0", perEvent)
	}

	groups := g.Groups()
	if len(groups) != DefaultMaxTemplates+1 || !groups[len(groups)-1].IsOther() {
		t.Fatalf("got %d groups, want %d plus the other bucket", len(groups), DefaultMaxTemplates)
	}
	total := 0
	for _, gr := range groups {
		total += gr.Count
		if len(gr.Examples) > DefaultMaxExamples || len(gr.StatusCodes) > DefaultMaxStatusCodes {
			t.Errorf("group %s %s exceeds its caps", gr.Method, gr.Template)
		}
		if gr.IsOther() {
			continue
		}
		re := regexp.MustCompile("^(?:" + PathRegex(gr.Template) + ")$")
		for _, ex := range gr.Examples {
			if !re.MatchString(ex) {
				t.Errorf("group %s %s holds example %q that its route does not match (was the caller's buffer kept?)",
					gr.Method, gr.Template, ex)
			}
		}
	}
	if total != events || g.Total() != events {
		t.Errorf("counts add up to %d (Total %d), want %d", total, g.Total(), events)
	}
}

// TestGrouperWorstCaseMemory fills every cap at once: the most groups, each
// with the longest template (short id segments grow 2.5x), the most
// examples of the longest length and the most status codes.
func TestGrouperWorstCaseMemory(t *testing.T) {
	const heapBound = 32 << 20
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc

	g := NewGrouper(Options{})
	method := strings.Repeat("M", MaxMethodLen)
	for i := range DefaultMaxTemplates + 10 {
		prefix := "/w" + strings.Repeat("x", i%26+1) + strconv.Itoa(i/26%10) // a literal per i
		for ex := range DefaultMaxExamples {
			var b strings.Builder
			b.WriteString(prefix)
			for b.Len() < MaxPathLen+100 {
				b.WriteString("/" + strconv.Itoa(ex))
			}
			for code := range DefaultMaxStatusCodes + 2 {
				g.Add(method[:i%MaxMethodLen+1], b.String(), 100+code)
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	grew := ms.HeapAlloc - min(base, ms.HeapAlloc)
	groups := g.Groups()
	t.Logf("worst case: %d groups, live heap growth %.1f MiB", len(groups), float64(grew)/(1<<20))
	if len(groups) != DefaultMaxTemplates+1 {
		t.Errorf("got %d groups, want %d plus other", len(groups), DefaultMaxTemplates)
	}
	if len(groups[0].Template) < 2*MaxPathLen || len(groups[0].Examples) != DefaultMaxExamples {
		t.Errorf("the test did not reach the caps: template %d bytes, %d examples", len(groups[0].Template), len(groups[0].Examples))
	}
	if grew > heapBound {
		t.Errorf("live heap grew by %d bytes, want < %d", grew, heapBound)
	}
	runtime.KeepAlive(g)
}
