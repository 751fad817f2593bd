package tapclient_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/internal/tapwire"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

func FuzzReadFrame(f *testing.F) {
	var ok bytes.Buffer
	_ = tapwire.WriteFrame(&ok, tapwire.EncodeEvent(sampleEvents()[0]))
	f.Add(ok.Bytes())
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{3, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		const max = 1 << 16
		r := bytes.NewReader(in)
		consumed := 0
		for {
			frame, err := tapclient.ReadFrame(r, max)
			if err != nil {
				if err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, tapclient.ErrFrameTooLarge) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				if err == io.EOF && consumed != len(in) {
					t.Fatalf("io.EOF after %d of %d bytes", consumed, len(in))
				}
				return
			}
			if len(frame) > max {
				t.Fatalf("frame of %d bytes over the cap", len(frame))
			}
			consumed += 4 + len(frame)
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	for _, ev := range sampleEvents() {
		f.Add(tapwire.EncodeEvent(ev))
	}
	f.Add(tapwire.EncodeAPIError("no pods to tap"))
	f.Add([]byte{0x0a, 0x06, 0x0d, 1, 2, 3, 4, 0x10})
	f.Fuzz(func(t *testing.T, in []byte) {
		var d tapclient.Decoder
		ev, err := d.Decode(in)
		if err != nil {
			if ev != nil {
				t.Fatal("event and error both returned")
			}
			return
		}
		// Whatever decodes must survive a re-encode and decode.
		if _, err := decodeEvent(tapwire.EncodeEvent(ev)); err != nil {
			t.Fatalf("re-encoded event does not decode: %v", err)
		}
	})
}
