// Package destination talks to Linkerd's destination service the way a proxy
// does: GetProfile with a context token, first message only, always bounded
// by a timeout. One gRPC connection is shared by every lookup of a run.
package destination

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/kubectl-profiles/kubectl-profiles/diag/report"
)

// Client is a connection to a destination service.
type Client struct {
	addr   string
	conn   *grpc.ClientConn
	client pb.DestinationClient
	close  func()
}

// Dial connects to addr (host:port) in plaintext, as `linkerd diagnostics`
// does: the destination container listens without TLS on :8086. It waits at
// most timeout for the connection to be ready, so a wrong address fails
// fast with a clear message instead of every lookup timing out.
func Dial(ctx context.Context, addr string, timeout time.Duration) (*Client, error) {
	conn, err := DialConn(ctx, addr, timeout, "destination", "--destination-addr")
	if err != nil {
		return nil, err
	}
	return &Client{addr: addr, conn: conn, client: pb.NewDestinationClient(conn), close: func() {}}, nil
}

// DialConn opens a plaintext gRPC connection to addr and waits at most
// timeout for it to be ready. what names the service ("destination",
// "policy controller") and flag the flag that sets addr, for the one-line
// errors. Shared by every control-plane client of the plugin.
func DialConn(ctx context.Context, addr string, timeout time.Duration, what, flag string) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		// Answers are small, but never let a misbehaving server make us
		// allocate without bound.
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20)),
	)
	if err != nil {
		return nil, fmt.Errorf("invalid %s address %q: %v", what, addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn.Connect()
	for {
		s := conn.GetState()
		if s == connectivity.Ready {
			return conn, nil
		}
		if !conn.WaitForStateChange(ctx, s) {
			conn.Close()
			if parent := ctx.Err(); parent != nil && !errors.Is(parent, context.DeadlineExceeded) {
				return nil, parent
			}
			return nil, fmt.Errorf("%s unreachable at %s (no gRPC connection within --timeout %s): check %s or the port-forward, or raise --timeout", what, addr, timeout, flag)
		}
	}
}

// OnClose registers cleanup to run after the connection closes (e.g. stop
// a port-forward).
func (c *Client) OnClose(f func()) {
	prev := c.close
	c.close = func() { prev(); f() }
}

// Addr is the address dialled.
func (c *Client) Addr() string { return c.addr }

// Close closes the connection.
func (c *Client) Close() error {
	err := c.conn.Close()
	c.close()
	return err
}

// Token is the JSON context token the proxy injector configures:
// {"ns":..., "nodeName":..., "pod":...}. Empty fields are left out.
type Token struct {
	Namespace string `json:"ns,omitempty"`
	NodeName  string `json:"nodeName,omitempty"`
	Pod       string `json:"pod,omitempty"`
}

// String encodes the token.
func (t Token) String() string {
	b, _ := json.Marshal(t) // cannot fail: three strings
	return string(b)
}

// Path is the authority a proxy asks for: <fqdn>:<port>.
func Path(fqdn string, port uint32) string { return fmt.Sprintf("%s:%d", fqdn, port) }

// GetProfile subscribes like a proxy, takes the first message and cancels
// (the stream never ends on its own). If nothing arrives within timeout it
// returns an error wrapping report.ErrSilent; the real server is silent when
// it cannot translate a profile.
func (c *Client) GetProfile(ctx context.Context, path string, token Token, timeout time.Duration) (*pb.DestinationProfile, error) {
	// No gRPC deadline: like a proxy, we cancel the stream ourselves. A
	// deadline would reach the server, whose handler may then end the stream
	// with OK at the same instant, racing our own timeout.
	parent, start := ctx, time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the subscription server-side
	var timedOut atomic.Bool
	timer := time.AfterFunc(timeout, func() { timedOut.Store(true); cancel() })
	defer timer.Stop()
	stream, err := c.client.GetProfile(ctx, &pb.GetDestination{Path: path, ContextToken: token.String()})
	if err == nil {
		var msg *pb.DestinationProfile
		if msg, err = stream.Recv(); err == nil {
			return msg, nil
		}
	}
	// The caller's deadline passing first (a starved machine can run the
	// two timers late and together) is the same silence, not a failure.
	if !timedOut.Load() && errors.Is(parent.Err(), context.DeadlineExceeded) {
		return nil, c.explain(path, err, true, time.Since(start).Round(time.Millisecond))
	}
	return nil, c.explain(path, err, timedOut.Load(), timeout)
}

// explain turns a failed GetProfile into one line. Errors that carry a gRPC
// status keep it (status.Code(err) works on them), so callers can tell a
// rejection (InvalidArgument) from an outage (Unavailable).
func (c *Client) explain(path string, err error, timedOut bool, timeout time.Duration) error {
	st, _ := status.FromError(err)
	switch {
	case timedOut:
		if c.conn.GetState() != connectivity.Ready {
			return withStatus(codes.Unavailable, fmt.Sprintf("destination at %s became unreachable during the lookup of %s", c.addr, path))
		}
		return fmt.Errorf("GetProfile %s: %w (%s)", path, report.ErrSilent, timeout)
	case errors.Is(err, io.EOF):
		// The server ended the stream (e.g. its queue overflowed) before sending.
		return withStatus(codes.Aborted, fmt.Sprintf("GetProfile %s: the destination closed the stream without a profile", path))
	case st.Code() == codes.Canceled:
		return withStatus(codes.Canceled, fmt.Sprintf("GetProfile %s: canceled", path))
	case st.Code() == codes.Unavailable:
		return withStatus(codes.Unavailable, fmt.Sprintf("destination unreachable at %s: %s", c.addr, st.Message()))
	}
	return withStatus(st.Code(), fmt.Sprintf("GetProfile %s: the destination answered %s: %s", path, st.Code(), st.Message()))
}

// statusError is a one-line message that keeps the gRPC code.
type statusError struct {
	msg string
	st  *status.Status
}

func (e *statusError) Error() string              { return e.msg }
func (e *statusError) GRPCStatus() *status.Status { return e.st }

func withStatus(code codes.Code, msg string) error {
	return &statusError{msg: msg, st: status.New(code, msg)}
}
