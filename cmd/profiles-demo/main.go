// Command profiles-demo lets you try kubectl-profiles without a Linkerd
// cluster: it starts a real kube-apiserver and etcd on loopback (the test
// environment), loads sample Services and ServiceProfiles, starts the test
// destination service, and shows what `get`, `check` and `unmatched --file`
// report. The control plane is a local stand-in, not Linkerd.
//
//	make demo                    # run, print, stop
//	go run ./cmd/profiles-demo -keep   # keep it running to try commands yourself
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-profiles/kubectl-profiles/internal/desttest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/policytest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/testenv"
	"github.com/kubectl-profiles/kubectl-profiles/plugin"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/tapcapture"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

//go:embed cluster.yaml
var cluster string

func main() {
	keep := flag.Bool("keep", false, "keep the demo cluster running until Ctrl-C, to try commands yourself")
	flag.Parse()
	if err := run(os.Stdout, *keep); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func run(out io.Writer, keep bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fmt.Fprintln(os.Stderr, "Starting a local kube-apiserver and etcd (the project's test environment)...")
	env, err := testenv.Start(ctx, testenv.Options{})
	if err != nil {
		return err
	}
	defer env.Stop()
	if err := env.Apply(ctx, cluster); err != nil {
		return err
	}
	dest, err := desttest.Start(ctx, env.Clientset, env.Dynamic, "127.0.0.1:0", desttest.Options{})
	if err != nil {
		return err
	}
	defer dest.Stop()
	pol, err := policytest.Start(env.Clientset, env.Dynamic, "127.0.0.1:0", policytest.Options{})
	if err != nil {
		return err
	}
	defer pol.Stop()
	capture := filepath.Join(env.Dir, "capture.ndjson")
	if err := writeCapture(capture); err != nil {
		return err
	}
	profileFile := filepath.Join(env.Dir, "webapp-profile.yaml")
	if err := os.WriteFile(profileFile, []byte(webappProfile), 0o644); err != nil {
		return err
	}

	fmt.Fprintln(out, banner)
	show := func(args ...string) {
		fmt.Fprintf(out, "\n$ kubectl profiles %s\n", strings.Join(args, " "))
		streams := genericiooptions.IOStreams{In: os.Stdin, Out: out, ErrOut: out}
		plugin.Run(append([]string{"--kubeconfig", env.Kubeconfig}, args...), streams)
	}
	show("get", "svc/webapp", "-n", "booksapp", "--port", "7000", "--destination-addr", dest.Addr(), "--policy-addr", pol.Addr())
	show("get", "svc/authors", "-n", "booksapp", "--destination-addr", dest.Addr(), "--policy-addr", pol.Addr())
	show("get", "-A", "--destination-addr", dest.Addr(), "--policy-addr", pol.Addr())
	show("check", "-n", "booksapp")
	show("unmatched", "--file", capture, "--profile", profileFile)
	show("unmatched", "--file", capture, "--profile", profileFile, "-o", "yaml")

	if !keep {
		return nil
	}
	fmt.Fprintf(out, `
The demo cluster keeps running until Ctrl-C. In another shell:

  export KUBECONFIG=%s
  kubectl profiles get svc/webapp -n booksapp --destination-addr %s --policy-addr %s --from-namespace traffic
  kubectl profiles check -A
  kubectl profiles unmatched --file %s --profile %s
`, env.Kubeconfig, dest.Addr(), pol.Addr(), capture, profileFile)
	<-ctx.Done()
	return nil
}

const banner = `
================================================================================
 kubectl-profiles demo. The API server and etcd are real (built from Go
 modules); the Linkerd control plane is a LOCAL STAND-IN: the project's test
 destination service, which follows Linkerd's documented behaviour. No proxies
 run, so live tap is replaced by a recorded capture (unmatched --file).
================================================================================`

// webappProfile is the ServiceProfile the capture is matched against.
const webappProfile = `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: webapp.booksapp.svc.cluster.local, namespace: booksapp}
spec:
  routes:
  - name: GET /books
    condition: {method: GET, pathRegex: /books}
  - name: GET /books/{id}
    condition: {method: GET, pathRegex: '/books/[0-9]+'}
  - name: POST /books
    condition: {method: POST, pathRegex: /books}
`

// writeCapture records synthetic inbound traffic to webapp as a tap
// capture: some requests match the profile's routes, some do not.
func writeCapture(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var line []byte
	client := tapclient.Endpoint{IP: netip.MustParseAddr("10.42.0.7"), Port: 51234, Labels: map[string]string{"namespace": "booksapp", "deployment": "traffic"}}
	server := tapclient.Endpoint{IP: netip.MustParseAddr("10.42.0.12"), Port: 7000, Labels: map[string]string{"namespace": "booksapp", "deployment": "webapp"}}
	reqs := []struct {
		method, path string
		status       uint32
	}{
		{"GET", "/books", 200}, {"GET", "/books/17", 200}, {"GET", "/books/23", 404}, {"POST", "/books", 201},
		{"GET", "/authors", 200}, {"GET", "/authors/3", 200}, {"GET", "/authors/11", 200}, {"DELETE", "/books/17", 204},
		{"GET", "/books/17/reviews", 200}, {"GET", "/books/9f8e7d6c-1a2b-4c3d-8e9f-0a1b2c3d4e5f/cover.png", 200},
		{"GET", "/healthz?verbose=1", 200}, {"GET", "/authors/42", 500},
	}
	for i, r := range reqs {
		id := tapclient.StreamID{Base: 1, Stream: uint64(i)}
		base := tapclient.Event{Direction: tapclient.DirectionInbound, ID: id, Source: client, Destination: server, TappedIP: server.IP}
		req := base
		req.Kind, req.Method, req.Scheme, req.Authority, req.Path = tapclient.KindRequest, r.method, "http", "webapp.booksapp.svc.cluster.local:7000", r.path
		rsp := base
		rsp.Kind, rsp.HTTPStatus, rsp.Latency = tapclient.KindResponse, r.status, time.Duration(3+i)*time.Millisecond
		end := base
		end.Kind, end.Duration, end.ResponseBytes = tapclient.KindEnd, time.Millisecond, 512
		for _, ev := range []tapclient.Event{req, rsp, end} {
			// The same NDJSON as `kubectl profiles tap -o json` writes.
			if line, err = tapcapture.AppendEvent(line[:0], &ev, "", nil); err != nil {
				return err
			}
			if _, err := f.Write(line); err != nil {
				return err
			}
		}
	}
	return nil
}
