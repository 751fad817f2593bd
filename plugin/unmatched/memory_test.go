package unmatched_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-profiles/kubectl-profiles/plugin"
)

// Peak memory of `unmatched --file` over a long capture, measured in a
// child process (this test binary re-executed) through its rusage. The
// binary alone (k8s client, protobuf registries) already has a peak RSS of
// about 60 MiB before doing anything, so the bound is on what the run adds
// over `version` in the same binary: under 64 MiB.
//
//	go test -run XXX -bench UnmatchedFileMemory -benchtime 1x ./plugin/unmatched/
//
// KUBECTL_PROFILES_MEMTEST_EVENTS overrides the number of events (default
// 10 million, a ~3 GB NDJSON file in a temporary directory).
func BenchmarkUnmatchedFileMemory(b *testing.B) {
	events := 10_000_000
	if v := os.Getenv("KUBECTL_PROFILES_MEMTEST_EVENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		events = n
	}
	path := filepath.Join(b.TempDir(), "capture.ndjson")
	start := time.Now()
	size, err := writeSyntheticCapture(path, events)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("wrote %d events (%d MiB) in %s", events, size>>20, time.Since(start).Round(time.Second))

	baseline, _, _, _ := helper(b, "version")
	for i := 0; i < b.N; i++ {
		peak, out, errOut, elapsed := helper(b, "unmatched --file "+path+" --profile "+spFile+" -n booksapp")
		peakMiB := peak - baseline
		b.ReportMetric(peak, "peak-RSS-MiB")
		b.ReportMetric(peakMiB, "added-RSS-MiB")
		b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
		b.Logf("peak RSS %.1f MiB (%.1f MiB over the %.1f MiB of `version`), %s, %s\n%s",
			peak, peakMiB, baseline, elapsed.Round(time.Second), strings.TrimSpace(errOut), lastLines(out, 5))
		if !strings.Contains(errOut, fmt.Sprintf("read %d requests", (events+2)/3)) {
			b.Errorf("the run did not read every request: %s", errOut)
		}
		if peakMiB > 64 {
			b.Errorf("the run added %.1f MiB of peak RSS, over the 64 MiB bound", peakMiB)
		}
	}
}

// helper runs the plugin in a child process and returns its peak RSS in MiB.
func helper(b *testing.B, args string) (peakMiB float64, stdout, stderr string, elapsed time.Duration) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestUnmatchedHelperProcess$")
	cmd.Env = append(os.Environ(), "KUBECTL_PROFILES_HELPER="+args)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v\n%s", args, err, errOut.String())
	}
	elapsed = time.Since(start)
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Skip("no rusage on this platform")
	}
	return float64(ru.Maxrss) / 1024, out.String(), errOut.String(), elapsed // Maxrss is in KiB on Linux
}

// TestUnmatchedHelperProcess runs the plugin with the arguments in
// KUBECTL_PROFILES_HELPER, for BenchmarkUnmatchedFileMemory's child.
func TestUnmatchedHelperProcess(t *testing.T) {
	args := os.Getenv("KUBECTL_PROFILES_HELPER")
	if args == "" {
		t.Skip("helper process only")
	}
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	os.Exit(plugin.Run(strings.Fields(args), streams))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// writeSyntheticCapture writes n inbound events (requests, responses and
// ends) to webapp in this plugin's NDJSON shape. Responses trail their
// requests by 300 requests, 2% of requests never get one, and 1% carry a
// never-seen path word, so the pending set, the template groups and the
// other bucket all fill up to their bounds.
func writeSyntheticCapture(path string, n int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	const (
		head = `{"source":{"ip":"10.42.0.20","port":51000,"metadata":{"namespace":"booksapp","tls":"true"}},"destination":{"ip":"10.42.0.12","port":7000,"metadata":{"namespace":"booksapp","tls":"loopback"}},"routeMeta":null,"proxyDirection":"INBOUND",`
	)
	methods := []string{"GET", "GET", "POST", "DELETE", "PUT"}
	var line []byte
	id := func(b []byte, i int) []byte {
		b = append(b, `{"base":`...)
		b = strconv.AppendInt(b, int64(i/1000), 10)
		b = append(b, `,"stream":`...)
		b = strconv.AppendInt(b, int64(i%1000), 10)
		return append(b, '}')
	}
	const lag = 300
	written, req := 0, 0
	for written < n {
		line = append(line[:0], head...)
		switch written % 3 {
		case 0: // a request
			i := req
			req++
			var p []byte
			switch i % 10 {
			case 0, 1, 2:
				p = fmt.Appendf(p, "/books/%d", i) // matched for GET
			case 3:
				p = fmt.Appendf(p, "/users/%08x%04x/orders/%d", i*2654435761, i%9973, i)
			case 4:
				p = fmt.Appendf(p, "/static/asset-%d.css?v=%d", i%40, i)
			case 5:
				p = fmt.Appendf(p, "/api/v%d/items/%d/reviews", i%3, i)
			case 6:
				p = fmt.Appendf(p, "/search?q=term%d", i)
			case 7:
				if i%100 == 7 {
					p = fmt.Appendf(p, "/word%sx/list", strconv.FormatInt(int64(i), 36))
				} else {
					p = fmt.Appendf(p, "/authors/%d/books", i)
				}
			default:
				p = fmt.Appendf(p, "/books/%d/edit", i)
			}
			line = append(line, `"requestInitEvent":{"id":`...)
			line = id(line, i)
			line = append(line, `,"method":"`...)
			line = append(line, methods[i%len(methods)]...)
			line = append(line, `","scheme":"","authority":"webapp:7000","path":"`...)
			line = append(line, p...)
			// The header a meshed client's proxy adds: it names the Service,
			// so every request is classified.
			line = append(line, `","headers":[{"name":"l5d-dst-canonical","valueStr":"webapp.booksapp.svc.cluster.local:7000"}]}}`...)
		case 1: // the response of an earlier request
			i := req - lag
			line = append(line, `"responseInitEvent":{"id":`...)
			if i < 0 || i%50 == 0 {
				line = id(line, 2_000_000_000+written) // no request has it: this one never gets a response
			} else {
				line = id(line, i)
			}
			line = append(line, `,"sinceRequestInit":{"nanos":1000},"httpStatus":`...)
			line = strconv.AppendInt(line, int64([]int{200, 200, 201, 404, 500, 303}[max(i, 0)%6]), 10)
			line = append(line, `,"headers":null}}`...)
		default: // an end
			i := req - lag - 1
			line = append(line, `"responseEndEvent":{"id":`...)
			line = id(line, max(i, 0))
			line = append(line, `,"sinceRequestInit":{},"sinceResponseInit":{},"responseBytes":10,"trailers":null,"grpcStatusCode":0}}`...)
		}
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			f.Close()
			return 0, err
		}
		written++
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, err
	}
	return st.Size(), f.Close()
}
