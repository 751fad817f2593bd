package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
)

// Bounds on what one run reads. They are enforced while reading, so memory
// stays bounded whatever the input (an endless /dev/zero, a huge one-line
// file, millions of tiny documents). A ServiceProfile is a few KiB; the API
// server refuses any object above 3 MiB.
const (
	// MaxDocumentBytes bounds one YAML document (and one line: a line is
	// part of a document); larger ones are reported as errors instead of
	// being parsed.
	MaxDocumentBytes = 8 << 20
	// MaxInputBytes bounds everything one run reads from files, directories
	// and stdin together.
	MaxInputBytes = 32 << 20
	// MaxElements bounds the YAML elements (mappings, sequences, keys,
	// values) of all documents of a run together, and a document counts at
	// least docWeight. Parsed YAML takes a few hundred bytes per element
	// however short its text, so bytes alone do not bound memory. A
	// 15000-route ServiceProfile has about 150000.
	MaxElements = 250_000
	docWeight   = 4
)

// TooLargeError is returned when an input exceeds a bound.
type TooLargeError struct {
	Name  string // the input ("-" for stdin)
	What  string // "bytes", "elements"
	Limit int64
}

func (e *TooLargeError) Error() string {
	name := e.Name
	if name == "-" {
		name = "stdin"
	}
	if e.What == "elements" {
		return fmt.Sprintf("%s: more than %d YAML elements in the input (the limit keeps memory bounded): check fewer or smaller files at once", name, e.Limit)
	}
	return fmt.Sprintf("%s: input larger than %s (the limit keeps memory bounded): check fewer or smaller files at once", name, human(e.Limit))
}

func human(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Budget is what is left of a run's input bounds, shared by every input of
// the run. The zero value is unusable: use NewBudget.
type Budget struct {
	bytes    int64
	elements int64
}

// NewBudget returns the bounds of one run (MaxInputBytes, MaxElements).
func NewBudget() *Budget {
	return &Budget{bytes: MaxInputBytes, elements: MaxElements}
}

// Reader returns r limited by the budget's bytes: reads fail with a
// *TooLargeError naming name once the run has read more than
// MaxInputBytes in all.
func (b *Budget) Reader(r io.Reader, name string) io.Reader {
	return &budgetReader{r: r, b: b, name: name}
}

// take charges n elements, failing when the run exceeds MaxElements.
func (b *Budget) take(n int64, name string) error {
	b.elements -= n
	if b.elements < 0 {
		return &TooLargeError{Name: name, What: "elements", Limit: MaxElements}
	}
	return nil
}

type budgetReader struct {
	r    io.Reader
	b    *Budget
	name string
}

func (l *budgetReader) Read(p []byte) (int, error) {
	if l.b.bytes < 0 {
		return 0, &TooLargeError{Name: l.name, What: "bytes", Limit: MaxInputBytes}
	}
	// Read one byte past the bound, to tell "exactly at it" from "over".
	if int64(len(p)) > l.b.bytes+1 {
		p = p[:l.b.bytes+1]
	}
	n, err := l.r.Read(p)
	l.b.bytes -= int64(n)
	if l.b.bytes < 0 {
		return n, &TooLargeError{Name: l.name, What: "bytes", Limit: MaxInputBytes}
	}
	return n, err
}

// estimateElements is an upper bound of the YAML elements of a document,
// from its text (before the expensive parse): every element but the root
// is introduced by a ':', '-', ',', '[' or '{' (keys count twice: key and
// value).
func estimateElements(text []byte) int64 {
	n := int64(docWeight)
	for _, c := range text {
		switch c {
		case ':':
			n += 2
		case '-', ',', '[', '{':
			n++
		}
	}
	return n
}

func readErr(name string, err error) error {
	var tl *TooLargeError
	if errors.As(err, &tl) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if name == "-" {
		name = "stdin"
	}
	return fmt.Errorf("cannot read %s: %v", name, unwrapPathErr(err))
}

// Open opens path for reading. A regular file opens at once. Anything else
// (a named pipe, /dev/stdin, a device) may block until a writer appears or
// forever: then opening and every read end when ctx does, with an error
// that wraps ctx.Err().
func Open(ctx context.Context, path string) (io.ReadCloser, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", path, unwrapPathErr(err))
	}
	if st.IsDir() {
		return nil, fmt.Errorf("cannot read %s: is a directory", path)
	}
	if st.Mode().IsRegular() {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %v", path, unwrapPathErr(err))
		}
		return f, nil
	}
	// Opening a named pipe blocks until a writer opens it.
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.Open(path)
		ch <- opened{f, err}
	}()
	select {
	case o := <-ch:
		if o.err != nil {
			return nil, fmt.Errorf("cannot read %s: %v", path, unwrapPathErr(o.err))
		}
		return &interruptible{ctx: ctx, r: o.f, c: o.f, name: path}, nil
	case <-ctx.Done():
		go func() { // close the file if the open ever completes
			if o := <-ch; o.f != nil {
				_ = o.f.Close()
			}
		}()
		return nil, interrupted(path, ctx.Err())
	}
}

// Interruptible wraps r (stdin, a pipe) so that a Read blocked on it
// returns when ctx ends, with an error that wraps ctx.Err().
func Interruptible(ctx context.Context, r io.Reader, name string) io.Reader {
	if r == nil {
		return eofReader{}
	}
	return &interruptible{ctx: ctx, r: r, name: name}
}

func interrupted(name string, err error) error {
	if name == "-" {
		name = "stdin"
	}
	return fmt.Errorf("interrupted while waiting for %s: %w", name, err)
}

// interruptible reads r in a goroutine, one read at a time, so that Read
// can give up when ctx ends. After that it keeps failing; the pending read
// finishes (or not) on its own.
type interruptible struct {
	ctx     context.Context
	r       io.Reader
	c       io.Closer
	name    string
	once    sync.Once
	scratch []byte
	buf     []byte // read but not yet returned
	err     error  // the error after buf
	pending chan readResult
	dead    error
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

type readResult struct {
	n   int
	err error
}

func (i *interruptible) Read(p []byte) (int, error) {
	if i.dead != nil {
		return 0, i.dead
	}
	if len(i.buf) == 0 && i.err == nil {
		if i.pending == nil {
			if i.scratch == nil {
				i.scratch = make([]byte, 32<<10)
			}
			ch := make(chan readResult, 1)
			i.pending = ch
			go func() {
				n, err := i.r.Read(i.scratch)
				ch <- readResult{n, err}
			}()
		}
		select {
		case res := <-i.pending:
			i.pending = nil
			i.buf, i.err = i.scratch[:res.n], res.err
		case <-i.ctx.Done():
			i.dead = interrupted(i.name, i.ctx.Err())
			return 0, i.dead
		}
	}
	n := copy(p, i.buf)
	i.buf = i.buf[n:]
	if n > 0 || i.err == nil {
		return n, nil
	}
	err := i.err
	if err != io.EOF {
		i.err = nil
	}
	return 0, err
}

// Close closes the underlying file, if Open made it.
func (i *interruptible) Close() error {
	var err error
	i.once.Do(func() {
		if i.c != nil {
			err = i.c.Close()
		}
	})
	return err
}

// regular reports whether path is (or links to) a regular file, and its
// mode for the message when it is not.
func regular(path string) (bool, fs.FileMode, error) {
	st, err := os.Stat(path)
	if err != nil {
		return false, 0, err
	}
	return st.Mode().IsRegular(), st.Mode(), nil
}

// KindOf names a non-regular file mode for messages.
func KindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	}
	return "not a regular file"
}
