package destination

import (
	"context"
	"errors"
	"io"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"google.golang.org/grpc/codes"
)

// ErrStreamEnded: the destination ended a GetProfile stream with OK (a full
// update queue, a server shutdown). The proxy reconnects; so does --watch.
var ErrStreamEnded = errors.New("the destination ended the stream (queue overflow or restart)")

// Watch subscribes like a proxy and keeps the stream open: onMsg is called
// with every message, in order, until ctx ends (nil is returned) or the
// stream breaks (the error says how: ErrStreamEnded for an end with OK,
// else an error that keeps its gRPC status). There is no keepalive message
// on this API, so a silent stream is not an error. Reconnecting is the
// caller's choice.
func (c *Client) Watch(ctx context.Context, path string, token Token, onMsg func(*pb.DestinationProfile)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.client.GetProfile(ctx, &pb.GetDestination{Path: path, ContextToken: token.String()})
	for err == nil {
		var msg *pb.DestinationProfile
		if msg, err = stream.Recv(); err == nil {
			onMsg(msg)
		}
	}
	switch {
	case ctx.Err() != nil:
		return nil
	case errors.Is(err, io.EOF):
		return withStatus(codes.Aborted, "GetProfile "+path+": "+ErrStreamEnded.Error())
	}
	return c.explain(path, err, false, 0)
}

// Backoff is the wait before reconnect attempt n (0-based): 100ms doubling,
// at most max.
func Backoff(n int, max time.Duration) time.Duration {
	d := 100 * time.Millisecond
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d
}
