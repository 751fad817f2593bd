package testenv

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// process is one child (etcd or kube-apiserver) writing to its own log file.
type process struct {
	name    string
	logPath string
	logFrom int64 // where this run's output starts: retries append to the same log
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	err     error         // exit error, valid after done
}

// startProcess runs bin with args, output appended to logPath.
//
// The child is started and waited for from one goroutine locked to its OS
// thread: Linux delivers Pdeathsig when the *thread* that forked dies, and
// the Go runtime may otherwise retire that thread while the child still runs.
func startProcess(name, bin string, args []string, logPath string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("testenv: %s log: %w", name, err)
	}
	p := &process{name: name, logPath: logPath, done: make(chan struct{})}
	if st, err := logFile.Stat(); err == nil {
		p.logFrom = st.Size()
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout = logFile
	p.cmd.Stderr = logFile
	p.cmd.SysProcAttr = sysProcAttr()
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread goes away with the goroutine
		defer close(p.done)
		defer logFile.Close()
		if err := p.cmd.Start(); err != nil {
			started <- err
			p.err = err
			return
		}
		started <- nil
		p.err = p.cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("testenv: starting %s: %w", name, err)
	}
	return p, nil
}

// exited reports whether the process has already ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop kills the process and waits (bounded) for it to go away. Nothing is
// kept between runs, so there is no point in a graceful shutdown.
func (p *process) stop() error {
	if p == nil || p.exited() {
		return nil
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("testenv: %s (pid %d) did not exit 10s after SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

// output returns what this run of the process has logged so far.
func (p *process) output() ([]byte, error) {
	data, err := os.ReadFile(p.logPath)
	if int64(len(data)) < p.logFrom {
		return nil, err
	}
	return data[p.logFrom:], err
}

// logTail returns the last lines of the process log, for error messages.
func (p *process) logTail(lines int) string {
	data, err := p.output()
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	data = bytes.TrimRight(data, "\n")
	all := strings.Split(string(data), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// bindFailed reports whether the log says a port was taken: the free-port
// probe below is racy when many test binaries start at once.
func (p *process) bindFailed() bool {
	data, _ := p.output()
	return bytes.Contains(data, []byte("address already in use"))
}

// freePorts asks the kernel for n distinct free loopback ports. They are
// released before use, so a start can still lose the race; callers retry.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("testenv: finding a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

const tempPrefix = "kubectl-profiles-testenv-"

// removeStaleDirs deletes temporary directories of test binaries that died
// without calling Stop (killed, or `go test -timeout`); their children died
// with them (Pdeathsig), their files did not.
func removeStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			continue // not ours, or still being set up
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}
