package source

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// repeat is an endless stream of data (like /dev/zero, or `yes`), which
// fails the test instead of hanging when a reader reads far past every
// bound.
type repeat struct {
	data []byte
	off  int
	read int64
	stop int64
}

var errReadTooFar = errors.New("the reader read far past every bound")

func (r *repeat) Read(p []byte) (int, error) {
	if r.stop > 0 && r.read > r.stop {
		return 0, errReadTooFar
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.data[r.off:])
		n += c
		r.off = (r.off + c) % len(r.data)
	}
	r.read += int64(n)
	return n, nil
}

// allocs returns the bytes allocated while f runs (TotalAlloc counts
// everything ever allocated, so it bounds the peak too).
func allocs(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Endless inputs end with one error naming the bound, having read little
// past it and allocated a bounded amount: one line without a newline (the
// old per-document check only ran at newlines, so /dev/zero grew to GBs),
// endless lines, endless small documents.
func TestEndlessInputIsBounded(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"zeros, no newline", "\x00"},
		{"one endless line", "a"},
		{"endless lines", "key: value\n"},
		{"endless documents", "a: 1\n---\n"},
		{"endless list", "- x\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &repeat{data: []byte(tc.data), stop: 4 * MaxInputBytes}
			var err error
			n := allocs(func() { _, err = Load("-", in) })
			var tl *TooLargeError
			if !errors.As(err, &tl) {
				t.Fatalf("err = %v, want a *TooLargeError", err)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "stdin: ") {
				t.Errorf("error is not one line naming stdin: %q", msg)
			}
			if in.read > MaxInputBytes+64<<10 {
				t.Errorf("read %d bytes, bound is %d", in.read, MaxInputBytes)
			}
			// The document and line bound (8 MiB, doubled by append) plus
			// parsing what fits in the element bound.
			if n > 1<<30 {
				t.Errorf("allocated %d MiB", n>>20)
			}
		})
	}
}

// A bound shared by every input of a run: two files of 20 MiB each exceed
// it together.
func TestBudgetIsSharedByInputs(t *testing.T) {
	b := NewBudget()
	half := strings.Repeat("# comment\n", 2<<20) // 20 MiB of comments: no elements
	if _, err := load("a.yaml", strings.NewReader(half), b); err != nil {
		t.Fatalf("first input: %v", err)
	}
	_, err := load("b.yaml", strings.NewReader(half), b)
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Name != "b.yaml" || tl.What != "bytes" {
		t.Fatalf("second input: err = %v, want too large (bytes) naming b.yaml", err)
	}
}

// Many tiny documents cost memory far beyond their bytes: the element
// bound stops them.
func TestElementBound(t *testing.T) {
	in := strings.Repeat("a: 1\n---\n", MaxElements/4)
	_, err := Load("x.yaml", strings.NewReader(in))
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.What != "elements" {
		t.Fatalf("err = %v, want too many elements", err)
	}
	// A 15000-route ServiceProfile fits.
	route := "  - name: GET /books/{id}\n    condition: {method: GET, pathRegex: '/books/[^/]+'}\n"
	big := "apiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: a}\nspec:\n  routes:\n" + strings.Repeat(route, 15000)
	docs, err := Load("big.yaml", strings.NewReader(big))
	if err != nil || len(docs) != 1 || docs[0].Err != nil {
		t.Fatalf("15000 routes: %v %+v", err, docs)
	}
}

// A document over MaxDocumentBytes, even as one line, is reported as a
// broken document and the documents after it are still read.
func TestOversizedDocumentThenMore(t *testing.T) {
	in := io.MultiReader(
		strings.NewReader("a: '"),
		io.LimitReader(&repeat{data: []byte("x")}, MaxDocumentBytes),
		strings.NewReader("'\n---\nkind: Service\nmetadata: {name: s}\n"),
	)
	docs, err := Load("f.yaml", in)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].Err == nil || !strings.Contains(docs[0].Err.Error(), "larger than 8 MiB") || docs[1].Kind() != "Service" || docs[1].Line != 3 {
		t.Fatalf("docs = %+v", docs)
	}
}

// A blocked stdin gives way to Ctrl-C (ctx): the read returns an error
// that wraps context.Canceled.
func TestInterruptibleStdin(t *testing.T) {
	pr, pw := io.Pipe() // never written: a terminal nobody types into
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Loader{Stdin: pr}.Load(ctx, []string{"-"})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted while waiting for stdin") {
		t.Fatalf("err = %v", err)
	}
	// Data that is there is read whole, in small and large reads.
	r := Interruptible(context.Background(), io.MultiReader(strings.NewReader("ab"), strings.NewReader("cd")), "-")
	got, err := io.ReadAll(r)
	if err != nil || string(got) != "abcd" {
		t.Fatalf("got %q, %v", got, err)
	}
	big := bytes.Repeat([]byte("0123456789"), 10000)
	got, err = io.ReadAll(Interruptible(context.Background(), bytes.NewReader(big), "-"))
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("big: %d bytes, %v", len(got), err)
	}
}

// FuzzLoadBounded: whatever the input, repeated forever, Load ends with a
// *TooLargeError after reading at most the run's bound, having allocated a
// bounded amount. The bound is small here so each case is quick.
func FuzzLoadBounded(f *testing.F) {
	for _, s := range []string{"a", "\x00", "- a\n", "a: 1\n---\n", "{a: [1, 2, {b: c}]}\n", "'", "\"\\", "&a [*a, *a]\n", "---\n", "#\n", "a: |\n  x\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		const limit = 256 << 10
		b := &Budget{bytes: limit, elements: MaxElements}
		in := &repeat{data: data, stop: 16 * limit}
		var err error
		n := allocs(func() { _, err = load("-", in, b) })
		var tl *TooLargeError
		if !errors.As(err, &tl) {
			t.Fatalf("err = %v, want *TooLargeError", err)
		}
		if in.read > limit+64<<10 {
			t.Fatalf("read %d bytes past a bound of %d", in.read, limit)
		}
		// Parsing costs a few KiB per element, and at most limit/1 elements
		// fit the bytes: a generous bound that still catches unbounded growth.
		if n > 512<<20 {
			t.Fatalf("allocated %d MiB for %d bytes of input", n>>20, limit)
		}
	})
}
