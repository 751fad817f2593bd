package policy

import (
	"context"
	"errors"
	"fmt"
	"io"

	pb "github.com/linkerd/linkerd2-proxy-api/go/outbound"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
)

// ErrStreamEnded: the policy controller ended a Watch stream with OK (a
// shutdown, an EgressNetwork change, the fallback watch reinitialised,
// reference §4). The proxy re-subscribes with backoff; so does --watch.
var ErrStreamEnded = errors.New("the policy controller ended the stream (restart, or its watch was reinitialised)")

// Watch subscribes to OutboundPolicies.Watch like a proxy and keeps the
// stream open: onMsg is called with every message, in order, read with
// diag/policy (p is nil and convErr says why when this plugin cannot read
// it; the raw message is always given), until ctx ends (nil is returned)
// or the stream breaks: ErrStreamEnded (code Aborted) for an end with OK,
// else an error that keeps its gRPC status, as Get's. The controller sends
// a message only when the computed policy changes (bursts coalesce), so a
// silent stream is not an error. Reconnecting is the caller's choice
// (Reconnect tells when a proxy would).
func (c *Client) Watch(ctx context.Context, spec *pb.TrafficSpec, onMsg func(p *dpolicy.Policy, m *pb.OutboundPolicy, convErr error)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.client.Watch(ctx, spec)
	for err == nil {
		var m *pb.OutboundPolicy
		if m, err = stream.Recv(); err == nil {
			p, cerr := dpolicy.FromProto(m)
			if cerr != nil {
				p, cerr = nil, fmt.Errorf("OutboundPolicies.Watch %s: %v: upgrade kubectl-profiles, or compare with `linkerd diagnostics policy`", Target(spec), cerr)
			}
			onMsg(p, m, cerr)
		}
	}
	switch {
	case ctx.Err() != nil:
		return nil
	case errors.Is(err, io.EOF):
		return withStatus(status.New(codes.Aborted, ErrStreamEnded.Error()), "OutboundPolicies.Watch "+Target(spec)+": "+ErrStreamEnded.Error(), ErrStreamEnded)
	}
	return c.explain(spec, err, false, 0)
}

// Reconnect tells whether a proxy re-subscribes after a Watch ended with
// err: yes on an end with OK and on most errors, not on InvalidArgument,
// FailedPrecondition, NotFound and Unimplemented (reference §4,
// policy/api.rs GrpcRecover).
func Reconnect(err error) bool {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.NotFound, codes.Unimplemented:
		return false
	}
	return true
}
