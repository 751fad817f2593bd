package tapclient

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// putFrame writes m with its 4-byte little-endian length, as the tap server
// does (the client never writes frames).
func putFrame(buf *bytes.Buffer, m []byte) error {
	_ = binary.Write(buf, binary.LittleEndian, uint32(len(m)))
	_, err := buf.Write(m)
	return err
}

func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

func TestReadFrame(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		max     int
		want    []byte
		wantErr error  // errors.Is target
		errText string // substring
	}{
		{name: "empty frame", in: []byte{0, 0, 0, 0}, max: 10, want: []byte{}},
		{name: "exact size", in: []byte{3, 0, 0, 0, 'a', 'b', 'c'}, max: 3, want: []byte("abc")},
		{name: "one over the cap", in: []byte{4, 0, 0, 0, 'a', 'b', 'c', 'd'}, max: 3, wantErr: ErrFrameTooLarge},
		{name: "little endian", in: append([]byte{0, 1, 0, 0}, bytes.Repeat([]byte{'x'}, 256)...), max: 1000, want: bytes.Repeat([]byte{'x'}, 256)},
		{name: "clean end", in: nil, max: 10, wantErr: io.EOF},
		{name: "truncated header", in: []byte{1, 0}, max: 10, wantErr: io.ErrUnexpectedEOF, errText: "2 of 4 bytes"},
		{name: "truncated payload", in: []byte{5, 0, 0, 0, 'a', 'b'}, max: 10, wantErr: io.ErrUnexpectedEOF, errText: "2 of 5 bytes"},
		{name: "header only", in: []byte{5, 0, 0, 0}, max: 10, wantErr: io.ErrUnexpectedEOF},
		{name: "oversized length", in: []byte{0xff, 0xff, 0xff, 0xff}, max: MaxFrameSize, wantErr: ErrFrameTooLarge, errText: "4294967295 bytes"},
		{name: "garbage text", in: []byte("HTTP/1.1 200 OK\r\n"), max: MaxFrameSize, wantErr: ErrFrameTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadFrame(bytes.NewReader(tt.in), tt.max)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if tt.errText != "" && !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %q, want it to mention %q", err, tt.errText)
				}
				if tt.wantErr == io.EOF && err != io.EOF {
					t.Fatalf("clean end must be io.EOF itself, got %#v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadFrameDoesNotAllocateOversized(t *testing.T) {
	allocs := testing.AllocsPerRun(10, func() {
		_, _ = ReadFrame(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0x7f}), MaxFrameSize)
	})
	before := totalAlloc()
	_, _ = ReadFrame(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0x7f}), MaxFrameSize)
	if grew := totalAlloc() - before; grew > 1<<20 {
		t.Fatalf("oversized frame allocated %d bytes", grew)
	}
	if allocs > 20 {
		t.Fatalf("oversized frame made %v allocations", allocs)
	}
}

func TestReadFrames(t *testing.T) {
	var buf bytes.Buffer
	msgs := [][]byte{{}, []byte("a"), bytes.Repeat([]byte("z"), 70000)}
	for _, m := range msgs {
		if err := putFrame(&buf, m); err != nil {
			t.Fatal(err)
		}
	}
	if got := buf.Bytes()[:4]; !bytes.Equal(got, []byte{0, 0, 0, 0}) {
		t.Fatalf("empty frame header = %x", got)
	}
	for i, m := range msgs {
		got, err := ReadFrame(&buf, MaxFrameSize)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !bytes.Equal(got, m) {
			t.Fatalf("frame %d differs", i)
		}
	}
	if _, err := ReadFrame(&buf, MaxFrameSize); err != io.EOF {
		t.Fatalf("after last frame: %v, want io.EOF", err)
	}
}

// oneByteReader returns one byte per Read, like a slow chunked stream.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestReadFrameShortReads(t *testing.T) {
	var buf bytes.Buffer
	_ = putFrame(&buf, []byte("hello tap"))
	got, err := ReadFrame(oneByteReader{&buf}, 100)
	if err != nil || string(got) != "hello tap" {
		t.Fatalf("got %q, %v", got, err)
	}
}
