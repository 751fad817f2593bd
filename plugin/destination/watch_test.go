package destination

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestWatch(t *testing.T) {
	tests := []struct {
		name    string
		answer  func(*pb.GetDestination, pb.Destination_GetProfileServer) error
		cancel  bool // the client cancels after the messages
		code    codes.Code
		wantErr string
	}{
		{"every message in order until the client cancels", func(_ *pb.GetDestination, s pb.Destination_GetProfileServer) error {
			for _, n := range []string{"a", "b", "c"} {
				_ = s.Send(&pb.DestinationProfile{FullyQualifiedName: n})
			}
			<-s.Context().Done()
			return nil
		}, true, codes.OK, ""},
		{"ended with OK (full queue): Aborted, reconnect", func(_ *pb.GetDestination, s pb.Destination_GetProfileServer) error {
			for _, n := range []string{"a", "b", "c"} {
				_ = s.Send(&pb.DestinationProfile{FullyQualifiedName: n})
			}
			return nil
		}, false, codes.Aborted, "the destination ended the stream"},
		{"an error keeps its code", func(_ *pb.GetDestination, s pb.Destination_GetProfileServer) error {
			for _, n := range []string{"a", "b", "c"} {
				_ = s.Send(&pb.DestinationProfile{FullyQualifiedName: n})
			}
			return status.Error(codes.Internal, "boom")
		}, false, codes.Internal, "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serve(t, tt.answer)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := Dial(ctx, addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			wctx, wcancel := context.WithCancel(ctx)
			var got []string
			err = c.Watch(wctx, "web.ns.svc.cluster.local:80", Token{Namespace: "ns"}, func(m *pb.DestinationProfile) {
				got = append(got, m.GetFullyQualifiedName())
				if len(got) == 3 && tt.cancel {
					wcancel()
				}
			})
			wcancel()
			if strings.Join(got, "") != "abc" {
				t.Errorf("messages %v, want a b c in order", got)
			}
			if tt.cancel {
				if err != nil {
					t.Errorf("a canceled watch returns nil, got %v", err)
				}
				return
			}
			if status.Code(err) != tt.code || !strings.Contains(err.Error(), tt.wantErr) || errors.Is(err, context.Canceled) {
				t.Errorf("err = %v (code %s), want %s %q", err, status.Code(err), tt.code, tt.wantErr)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}
	for n, w := range want {
		if got := Backoff(n, time.Second); got != w {
			t.Errorf("Backoff(%d) = %s, want %s", n, got, w)
		}
	}
}
