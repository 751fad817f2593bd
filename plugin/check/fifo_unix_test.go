//go:build unix

package check_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// check -f DIR reads only regular files: a named pipe called *.yaml used to
// block the run forever (and ignore the first Ctrl-C). It is skipped and
// named on stderr.
func TestDirectoryWithNamedPipe(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join(corpus, "good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "good.yaml"), good, 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "pipe.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// A writer, so that code which does open the pipe reads a broken
	// profile (and fails this test) instead of hanging.
	done := make(chan struct{})
	go func() {
		defer close(done)
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			_, _ = io.WriteString(w, "apiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: BROKEN}\n")
			_ = w.Close()
		}
	}()
	defer func() {
		select {
		case <-done:
		default:
			if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
				<-done
				_ = r.Close()
			}
		}
	}()
	_, errOut, code := run(t, "", "check", "-f", dir)
	want := "warning: skipped " + fifo + ": a named pipe (only regular files are read from directories; name it with -f to read it)\n" +
		"✔ No problems found in 1 ServiceProfile.\n"
	if code != 0 || errOut != want {
		t.Errorf("exit %d, stderr:\n%s\nwant:\n%s", code, errOut, want)
	}
	if strings.Contains(errOut, "BROKEN") {
		t.Error("the named pipe was read")
	}
}
