//go:build unix

package check

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

// `check -f PIPE` waits for the pipe's writer; Ctrl-C (ctx) ends the wait
// as an interrupted run (exit 130), not a hang.
func TestCtrlCWhileWaitingForNamedPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "p.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	defer func() { // unblock the open left waiting in the background
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			_ = w.Close()
		}
	}()
	var out, errOut bytes.Buffer
	o := &Options{Streams: genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, Files: []string{fifo}, Output: outputText}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := o.Run(ctx)
	if cli.CodeOf(err) != cli.ExitInterrupted || !strings.Contains(err.Error(), "interrupted while waiting for "+fifo) {
		t.Fatalf("err = %v (exit %d)", err, cli.CodeOf(err))
	}
}
