package tapcapture

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// endless repeats data forever (after prefix), counting what was read;
// past stop (when set) it fails with errStop.
type endless struct {
	prefix string
	data   []byte
	off    int
	read   int64
	stop   int64
}

var errStop = errors.New("stop")

func (e *endless) Read(p []byte) (int, error) {
	if e.stop > 0 && e.read >= e.stop {
		return 0, errStop
	}
	n := 0
	if e.prefix != "" {
		n = copy(p, e.prefix)
		e.prefix = e.prefix[n:]
	}
	for n < len(p) {
		c := copy(p[n:], e.data[e.off:])
		n += c
		e.off = (e.off + c) % len(e.data)
	}
	e.read += int64(n)
	return n, nil
}

// An object that never ends fails once it exceeds MaxObjectSize, having read
// little more than that: the bound holds while reading.
func TestEndlessObjectIsBounded(t *testing.T) {
	for _, tc := range []struct{ name, prefix, data string }{
		{"endless string", `{"requestInitEvent": {"path": "`, "a"},
		{"endless nesting", `{"a":`, `[`},
		{"endless object", `{`, `"k": 1, `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &endless{prefix: tc.prefix, data: []byte(tc.data)}
			r := NewReader(in)
			_, err := r.Next()
			if err == nil || !strings.Contains(err.Error(), "object larger than 4194304 bytes") {
				t.Fatalf("err = %v", err)
			}
			if in.read > 2*MaxObjectSize || cap(r.buf) > 2*MaxObjectSize {
				t.Errorf("read %d bytes, buffer %d bytes, bound %d", in.read, cap(r.buf), MaxObjectSize)
			}
		})
	}
}

// FuzzReaderBounded: whatever the capture, repeated forever, the reader's
// memory stays bounded (its buffer and its label cache) while it returns
// events or an error.
func FuzzReaderBounded(f *testing.F) {
	for _, s := range []string{
		`{"proxyDirection":"INBOUND","requestInitEvent":{"id":{"base":1},"method":{"registered":"GET"},"path":"/x"}}` + "\n",
		`{"source":{"metadata":{"a":"b"}},"responseEndEvent":{}}`,
		"{", `{"a":"`, "[", " \n\t", `{"x":"\"}"}`, "}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		in := &endless{data: data, stop: 3 * MaxObjectSize}
		r := NewReader(in)
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				t.Fatalf("EOF from an endless input")
			}
			if err != nil {
				break
			}
		}
		if cap(r.buf) > 2*MaxObjectSize+64<<10 {
			t.Fatalf("buffer grew to %d bytes (bound %d)", cap(r.buf), MaxObjectSize)
		}
		if len(r.labels) > maxLabelSets {
			t.Fatalf("label cache holds %d sets (bound %d)", len(r.labels), maxLabelSets)
		}
	})
}
