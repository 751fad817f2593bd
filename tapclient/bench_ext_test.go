package tapclient_test

import (
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/internal/tapwire"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// BenchmarkDecodeEvent decodes realistic outbound events (hydrated labels on
// both sides, a route label) with one Decoder, as Stream does.
func BenchmarkDecodeEvent(b *testing.B) {
	evs := sampleEvents()[:3]
	frames := make([][]byte, 300)
	size := 0
	for i := range frames {
		ev := *evs[i%3]
		ev.Headers, ev.Trailers = nil, nil // headers are only there with -o json
		frames[i] = tapwire.EncodeEvent(&ev)
		size += len(frames[i])
	}
	b.SetBytes(int64(size / len(frames)))
	b.ReportAllocs()
	var dec tapclient.Decoder
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := dec.Decode(frames[i%len(frames)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDecodeEventUncached is the worst case: every event from a pod
// never seen before, so nothing is interned or cached.
func BenchmarkDecodeEventUncached(b *testing.B) {
	ev := *sampleEvents()[0]
	ev.Headers = nil
	frame := tapwire.EncodeEvent(&ev)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := decodeEvent(frame); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
