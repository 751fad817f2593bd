package tapclient

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

// BenchmarkDecodeEvent reads and decodes framed, realistic outbound events
// (hydrated labels on both sides, a route label), as Stream does.
func BenchmarkDecodeEvent(b *testing.B) {
	var stream bytes.Buffer
	evs := sampleEvents()[:3]
	for i := 0; i < 300; i++ {
		ev := *evs[i%3]
		ev.Headers, ev.Trailers = nil, nil // headers are only there with -o json
		_ = WriteFrame(&stream, EncodeEvent(&ev))
	}
	data := stream.Bytes()
	b.SetBytes(int64(len(data) / 300))
	b.ReportAllocs()
	var dec Decoder
	var buf []byte
	r := bytes.NewReader(data)
	br := bufio.NewReader(r)
	n := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		frame, err := readFrame(br, MaxFrameSize, buf)
		if err == io.EOF {
			r.Reset(data)
			br.Reset(r)
			frame, err = readFrame(br, MaxFrameSize, buf)
		}
		if err != nil {
			b.Fatal(err)
		}
		buf = frame[:0]
		if _, err := dec.Decode(frame); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDecodeEventUncached is the worst case: every event from a pod
// never seen before, so nothing is interned or cached.
func BenchmarkDecodeEventUncached(b *testing.B) {
	ev := *sampleEvents()[0]
	ev.Headers = nil
	frame := EncodeEvent(&ev)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := DecodeEvent(frame); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
