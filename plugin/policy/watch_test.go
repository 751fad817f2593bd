package policy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/linkerd/linkerd2-proxy-api/go/meta"
	pb "github.com/linkerd/linkerd2-proxy-api/go/outbound"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
)

// watchStub answers Watch with answer.
type watchStub struct {
	pb.UnimplementedOutboundPoliciesServer
	answer func(*pb.TrafficSpec, pb.OutboundPolicies_WatchServer) error
}

func (s *watchStub) Watch(spec *pb.TrafficSpec, stream pb.OutboundPolicies_WatchServer) error {
	return s.answer(spec, stream)
}

// opaque is a readable policy whose parent is named n; bad has no protocol.
func opaque(n string) *pb.OutboundPolicy {
	return &pb.OutboundPolicy{
		Metadata: &meta.Metadata{Kind: &meta.Metadata_Default{Default: n}},
		Protocol: &pb.ProxyProtocol{Kind: &pb.ProxyProtocol_Opaque_{Opaque: &pb.ProxyProtocol_Opaque{}}},
	}
}

func sendAll(s pb.OutboundPolicies_WatchServer, names ...string) {
	for _, n := range names {
		m := opaque(n)
		if n == "bad" {
			m.Protocol = nil
		}
		_ = s.Send(m)
	}
}

// Reference §4: every message in order; an end with OK means reconnect;
// errors keep their code, and the codes a proxy stops on are said.
func TestWatch(t *testing.T) {
	spec := Spec(svc("10.1.2.3"), 80, Workload{Namespace: "shop"}, "")
	tests := []struct {
		name      string
		answer    func(*pb.TrafficSpec, pb.OutboundPolicies_WatchServer) error
		cancel    bool
		code      codes.Code
		wantErr   string
		reconnect bool
	}{
		{"every message in order until the client cancels", func(_ *pb.TrafficSpec, s pb.OutboundPolicies_WatchServer) error {
			sendAll(s, "a", "bad", "c")
			<-s.Context().Done()
			return nil
		}, true, codes.OK, "", false},
		{"ended with OK (watch reinitialised): Aborted, reconnect", func(_ *pb.TrafficSpec, s pb.OutboundPolicies_WatchServer) error {
			sendAll(s, "a", "bad", "c")
			return nil
		}, false, codes.Aborted, "the policy controller ended the stream", true},
		{"Unavailable keeps its code, reconnect", func(_ *pb.TrafficSpec, s pb.OutboundPolicies_WatchServer) error {
			sendAll(s, "a", "bad", "c")
			return status.Error(codes.Unavailable, "draining")
		}, false, codes.Unavailable, "draining", true},
		{"NotFound: a proxy stops", func(_ *pb.TrafficSpec, s pb.OutboundPolicies_WatchServer) error {
			sendAll(s, "a", "bad", "c")
			return status.Error(codes.NotFound, "No such service")
		}, false, codes.NotFound, "no policy for 10.1.2.3:80", false},
		{"InvalidArgument: a proxy stops", func(_ *pb.TrafficSpec, s pb.OutboundPolicies_WatchServer) error {
			sendAll(s, "a", "bad", "c")
			return status.Error(codes.InvalidArgument, "Invalid workload")
		}, false, codes.InvalidArgument, "rejected the lookup", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotSpec *pb.TrafficSpec
			addr := serve(t, func(s *grpc.Server) {
				pb.RegisterOutboundPoliciesServer(s, &watchStub{answer: func(sp *pb.TrafficSpec, st pb.OutboundPolicies_WatchServer) error {
					gotSpec = sp
					return tt.answer(sp, st)
				}})
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := Dial(ctx, addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			wctx, wcancel := context.WithCancel(ctx)
			var got []string
			err = c.Watch(wctx, spec, func(p *dpolicy.Policy, m *pb.OutboundPolicy, convErr error) {
				switch {
				case m == nil:
					got = append(got, "nil")
				case convErr != nil:
					if p != nil || strings.Contains(convErr.Error(), "\n") || !strings.Contains(convErr.Error(), "10.1.2.3:80") {
						t.Errorf("unreadable message: policy %v, error %q", p, convErr)
					}
					got = append(got, "?")
				default:
					got = append(got, p.Parent.Default)
				}
				if len(got) == 3 && tt.cancel {
					wcancel()
				}
			})
			wcancel()
			if strings.Join(got, "") != "a?c" {
				t.Errorf("messages %v, want a, an unreadable one, c, in order", got)
			}
			if gotSpec.GetSourceWorkload() != spec.GetSourceWorkload() || gotSpec.GetAddr().GetPort() != 80 {
				t.Errorf("the server got %v, want the proxy's spec", gotSpec)
			}
			if tt.cancel {
				if err != nil {
					t.Errorf("a canceled watch returns nil, got %v", err)
				}
				return
			}
			if status.Code(err) != tt.code || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") || errors.Is(err, context.Canceled) {
				t.Errorf("err = %v (code %s), want %s %q", err, status.Code(err), tt.code, tt.wantErr)
			}
			if Reconnect(err) != tt.reconnect {
				t.Errorf("Reconnect(%v) = %v, want %v", err, Reconnect(err), tt.reconnect)
			}
			if (tt.code == codes.Aborted) != errors.Is(err, ErrStreamEnded) {
				t.Errorf("errors.Is(ErrStreamEnded) wrong for %v", err)
			}
		})
	}
}

func TestWatchUnimplemented(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, serve(t, func(*grpc.Server) {}), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Watch(ctx, Spec(svc("10.1.2.3"), 80, Workload{Namespace: "shop"}, ""), func(*dpolicy.Policy, *pb.OutboundPolicy, error) { t.Error("no message expected") })
	if status.Code(err) != codes.Unimplemented || Reconnect(err) || !strings.Contains(err.Error(), "predates the policy API") {
		t.Errorf("err %v, want Unimplemented, no reconnect", err)
	}
}
