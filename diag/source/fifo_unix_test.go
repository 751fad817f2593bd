//go:build unix

package source

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// writeFIFO makes a named pipe and, in the background, opens it for
// writing (which blocks until a reader opens it) and writes content.
// release unblocks that writer when nothing ever read the pipe.
func writeFIFO(t *testing.T, path, content string) (release func()) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		_, _ = io.WriteString(w, content)
		_ = w.Close()
	}()
	return func() {
		select {
		case <-done:
			return
		default:
		}
		// Open (without blocking) and drain the read side, so the writer's
		// open returns.
		r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			t.Errorf("release %s: %v", path, err)
			return
		}
		<-done
		_ = r.Close()
	}
}

// A named pipe called *.yaml in a directory is never opened (reading it
// could block forever) and is reported; the regular files are read.
func TestDirectorySkipsNamedPipes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("kind: Service\nmetadata: {name: a}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "b.yaml")
	release := writeFIFO(t, fifo, "kind: ServiceProfile\nmetadata: {name: from-the-pipe}\n")
	defer release()
	var skipped []string
	docs, err := Loader{Skipped: func(path, why string) { skipped = append(skipped, path+": "+why) }}.Load(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Name() != "a" {
		t.Errorf("docs = %+v, want only a.yaml's", docs)
	}
	if len(skipped) != 1 || skipped[0] != fifo+": a named pipe" {
		t.Errorf("skipped = %q", skipped)
	}
}

// A named pipe given explicitly is read (as from `-f <(helm template ...)`),
// and waiting for its writer ends with ctx.
func TestExplicitNamedPipe(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "p.yaml")
	release := writeFIFO(t, fifo, "kind: ServiceProfile\nmetadata: {name: piped}\n")
	defer release()
	docs, err := Loader{}.Load(context.Background(), []string{fifo})
	if err != nil || len(docs) != 1 || docs[0].Name() != "piped" {
		t.Fatalf("docs = %+v, err = %v", docs, err)
	}

	silent := filepath.Join(dir, "silent.yaml")
	if err := syscall.Mkfifo(silent, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Ctrl-C
	_, err = Loader{}.Load(ctx, []string{silent})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted while waiting for "+silent) {
		t.Fatalf("err = %v", err)
	}
	// Unblock the open left waiting in the background.
	if w, err := os.OpenFile(silent, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		_ = w.Close()
	}
}
