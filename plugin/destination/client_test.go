package destination

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kubectl-profiles/kubectl-profiles/diag/report"
)

// scripted answers GetProfile with a function of the request; it only
// exercises the client's handling of each kind of answer.
type scripted struct {
	pb.UnimplementedDestinationServer
	answer func(*pb.GetDestination, pb.Destination_GetProfileServer) error
}

func (s *scripted) GetProfile(req *pb.GetDestination, stream pb.Destination_GetProfileServer) error {
	return s.answer(req, stream)
}

func serve(t *testing.T, answer func(*pb.GetDestination, pb.Destination_GetProfileServer) error) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pb.RegisterDestinationServer(srv, &scripted{answer: answer})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func TestGetProfile(t *testing.T) {
	var sawToken, sawPath string
	tests := []struct {
		name    string
		answer  func(*pb.GetDestination, pb.Destination_GetProfileServer) error
		wantErr string
		silent  bool
		code    codes.Code // the gRPC code the error keeps (status.Code)
	}{
		{"first message", func(req *pb.GetDestination, s pb.Destination_GetProfileServer) error {
			sawToken, sawPath = req.GetContextToken(), req.GetPath()
			_ = s.Send(&pb.DestinationProfile{FullyQualifiedName: "a"})
			<-s.Context().Done() // the real server never ends the stream
			return nil
		}, "", false, codes.OK},
		{"silent", func(_ *pb.GetDestination, s pb.Destination_GetProfileServer) error {
			if _, has := s.Context().Deadline(); has {
				return status.Error(codes.Internal, "the client must not send a deadline")
			}
			<-s.Context().Done()
			return nil
		}, "sent nothing before the timeout", true, codes.OK},
		{"ended without message", func(*pb.GetDestination, pb.Destination_GetProfileServer) error { return nil },
			"closed the stream without a profile", false, codes.Aborted},
		{"unknown service", func(*pb.GetDestination, pb.Destination_GetProfileServer) error {
			return status.Error(codes.Unknown, `service "x" not found`)
		}, `answered Unknown: service "x" not found`, false, codes.Unknown},
		{"rejected name", func(*pb.GetDestination, pb.Destination_GetProfileServer) error {
			return status.Error(codes.InvalidArgument, "invalid authority")
		}, "answered InvalidArgument: invalid authority", false, codes.InvalidArgument},
		{"overloaded", func(*pb.GetDestination, pb.Destination_GetProfileServer) error {
			return status.Error(codes.Unavailable, "overloaded")
		}, "destination unreachable at", false, codes.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serve(t, tt.answer)
			c, err := Dial(context.Background(), addr, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			got, err := c.GetProfile(context.Background(), "web.ns.svc.cluster.local:80", Token{Namespace: "ns"}, 300*time.Millisecond)
			if time.Since(start) > 2*time.Second {
				t.Errorf("lookup took %s: the timeout was not applied", time.Since(start))
			}
			if tt.wantErr == "" {
				if err != nil || got.GetFullyQualifiedName() != "a" {
					t.Fatalf("got %v, %v", got, err)
				}
				if sawToken != `{"ns":"ns"}` || sawPath != "web.ns.svc.cluster.local:80" {
					t.Errorf("token %q path %q", sawToken, sawPath)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if errors.Is(err, report.ErrSilent) != tt.silent {
				t.Errorf("errors.Is(err, ErrSilent) = %v, want %v", !tt.silent, tt.silent)
			}
			if !tt.silent && status.Code(err) != tt.code {
				t.Errorf("status.Code(err) = %s, want %s", status.Code(err), tt.code)
			}
		})
	}
}

// A caller whose own deadline passes before the lookup's timeout (tap's
// lookups run under one; on a starved machine both timers fire late and
// together) still learns that the destination was silent, not that it
// answered DeadlineExceeded.
func TestGetProfileCallerDeadlineIsSilence(t *testing.T) {
	addr := serve(t, func(_ *pb.GetDestination, s pb.Destination_GetProfileServer) error {
		<-s.Context().Done()
		return nil
	})
	c, err := Dial(context.Background(), addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = c.GetProfile(ctx, "web.ns.svc.cluster.local:80", Token{}, 5*time.Second)
	if !errors.Is(err, report.ErrSilent) || strings.Contains(err.Error(), "DeadlineExceeded") || strings.Contains(err.Error(), "5s") {
		t.Fatalf("err = %v, want the silence, timed by the caller's deadline", err)
	}
}

func TestDialUnreachable(t *testing.T) {
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := lis.Addr().String()
	lis.Close() // nothing listens there any more
	_, err := Dial(context.Background(), addr, 500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "destination unreachable at "+addr) {
		t.Fatalf("err = %v", err)
	}
}

func TestTokenFormat(t *testing.T) {
	if got := (Token{Namespace: "a", NodeName: "n", Pod: "p"}).String(); got != `{"ns":"a","nodeName":"n","pod":"p"}` {
		t.Errorf("token = %s", got)
	}
	if got := (Token{Namespace: "a"}).String(); got != `{"ns":"a"}` {
		t.Errorf("token = %s", got)
	}
}

// A dial that runs out of --timeout names the flag, not only the address.
func TestDialTimeoutIsNamed(t *testing.T) {
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	defer lis.Close()
	_, err := Dial(context.Background(), lis.Addr().String(), time.Nanosecond)
	if err == nil || !strings.Contains(err.Error(), "--timeout 1ns") {
		t.Fatalf("err = %v", err)
	}
}
