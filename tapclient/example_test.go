package tapclient_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/internal/taptest"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// A tap as the CLI runs it: build the request from arguments, watch, read
// events until the stream ends, correlating responses with requests.
func Example() {
	srv := taptest.New(taptest.Options{}) // stands in for kube-apiserver + linkerd-viz
	defer srv.Close()
	web, _ := tapclient.ParseTarget("emojivoto", "deploy/web")
	srv.Set(web, taptest.Tap{Events: exchange(12, 0, "GET", "/books/1.json", books), End: true})

	client, err := tapclient.New(srv.RESTConfig("alice")) // usually from ConfigFlags.ToRESTConfig()
	if err != nil {
		fmt.Println(err)
		return
	}
	req := tapclient.Request{Target: web, MaxRPS: tapclient.DefaultMaxRPS}
	ctx, cancel := context.WithCancel(context.Background()) // cancelled on Ctrl-C
	defer cancel()
	stream, err := client.Watch(ctx, req)
	if err != nil {
		fmt.Println(err) // *tapclient.Error: ReasonOf picks the exit code
		return
	}
	defer stream.Close()
	stream.SetIdleTimeout(10 * time.Second)
	corr := tapclient.NewCorrelator(0)
	for {
		ev, err := stream.Next()
		if errors.Is(err, tapclient.ErrIdle) {
			fmt.Println(req.IdleMessage(10 * time.Second))
			continue
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if r := corr.Observe(ev); r != nil {
			fmt.Printf("%s id=%s %s %s rt_route=%q\n", ev.Kind, ev.ID, r.Method, r.Path, ev.Route())
		}
	}
	// Output:
	// req id=12:0 GET /books/1.json rt_route="GET /books/1.json"
	// rsp id=12:0 GET /books/1.json rt_route="GET /books/1.json"
	// end id=12:0 GET /books/1.json rt_route="GET /books/1.json"
}
