package policy

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/outbound"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func svc(ip string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}, Spec: corev1.ServiceSpec{ClusterIP: ip}}
}

// Reference §2, §2.2: addr for ClusterIP Services, authority otherwise.
func TestSpec(t *testing.T) {
	w := Workload{Namespace: "client", Pod: "p-1"}
	s := Spec(svc("10.1.2.3"), 80, w, "")
	a := s.GetAddr()
	if a == nil || a.GetIp().GetIpv4() != 0x0a010203 || a.GetPort() != 80 || Target(s) != "10.1.2.3:80" {
		t.Errorf("ipv4: %v", s)
	}
	if s.GetSourceWorkload() != `{"ns":"client","pod":"p-1"}` {
		t.Errorf("workload %q", s.GetSourceWorkload())
	}
	s = Spec(svc("fd00::1"), 8080, w, "")
	if v6 := s.GetAddr().GetIp().GetIpv6(); v6 == nil || v6.GetFirst() != 0xfd00000000000000 || v6.GetLast() != 1 || Target(s) != "[fd00::1]:8080" {
		t.Errorf("ipv6: %v", s)
	}
	for _, ip := range []string{"None", ""} {
		s = Spec(svc(ip), 80, Workload{Namespace: "client"}, "example.org")
		if s.GetAuthority() != "web.shop.svc.example.org:80" {
			t.Errorf("headless %q: %v", ip, s)
		}
		if s.GetSourceWorkload() != `{"ns":"client","pod":"kubectl-profiles"}` {
			t.Errorf("the controller needs a pod name: %q", s.GetSourceWorkload())
		}
	}
}

type stub struct {
	pb.UnimplementedOutboundPoliciesServer
	err   error
	block bool
}

func (s *stub) Get(ctx context.Context, _ *pb.TrafficSpec) (*pb.OutboundPolicy, error) {
	if s.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if s.err != nil {
		return nil, s.err
	}
	return &pb.OutboundPolicy{}, nil
}

func serve(t *testing.T, register func(*grpc.Server)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	register(s)
	go s.Serve(l)
	t.Cleanup(s.Stop)
	return l.Addr().String()
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	spec := Spec(svc("10.1.2.3"), 80, Workload{Namespace: "shop"}, "")
	cases := []struct {
		name     string
		register func(*grpc.Server)
		want     string
		code     codes.Code
		notFound bool
	}{
		{"no policy API", func(*grpc.Server) {}, "predates the policy API (Linkerd < 2.13)", codes.Unimplemented, false},
		{"NotFound", func(s *grpc.Server) {
			pb.RegisterOutboundPoliciesServer(s, &stub{err: status.Error(codes.NotFound, "No such service")})
		},
			"no policy for 10.1.2.3:80 (NotFound: No such service)", codes.NotFound, true},
		{"InvalidArgument", func(s *grpc.Server) {
			pb.RegisterOutboundPoliciesServer(s, &stub{err: status.Error(codes.InvalidArgument, "Invalid workload")})
		}, "rejected the lookup of 10.1.2.3:80 (InvalidArgument: Invalid workload)", codes.InvalidArgument, false},
		{"silent", func(s *grpc.Server) { pb.RegisterOutboundPoliciesServer(s, &stub{block: true}) }, "within --timeout", codes.DeadlineExceeded, false},
		{"unreadable answer", func(s *grpc.Server) { pb.RegisterOutboundPoliciesServer(s, &stub{}) }, "has no protocol", codes.OK, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl, err := Dial(ctx, serve(t, c.register), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			_, _, err = cl.Get(ctx, spec, 300*time.Millisecond)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one line containing %q", err, c.want)
			}
			if c.code != codes.OK && status.Code(err) != c.code {
				t.Errorf("code %s, want %s", status.Code(err), c.code)
			}
			if errors.Is(err, ErrNoPolicy) != c.notFound {
				t.Errorf("ErrNoPolicy %v, want %v", errors.Is(err, ErrNoPolicy), c.notFound)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	_, err := Dial(context.Background(), addr, 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "policy controller unreachable at "+addr) || !strings.Contains(err.Error(), "--policy-addr") {
		t.Fatalf("error %v", err)
	}
}

func TestFlagsValidate(t *testing.T) {
	for addr, ok := range map[string]bool{"": true, "127.0.0.1:8090": true, "x:0": false, "nohost": false, ":8090": false} {
		f := Flags{Addr: addr}
		if err := f.Validate(); (err == nil) != ok {
			t.Errorf("%q: %v", addr, err)
		}
	}
}

func TestConnectWithoutLinkerd(t *testing.T) {
	_, err := Connect(context.Background(), nil, fake.NewSimpleClientset(), "linkerd", "", time.Second)
	if err == nil || !strings.Contains(err.Error(), "no linkerd-destination pod") || !strings.Contains(err.Error(), "--policy-addr") || strings.Contains(err.Error(), "--destination-addr") {
		t.Fatalf("error %v", err)
	}
}

func TestExpectTargetMatchesSpec(t *testing.T) {
	for _, ip := range []string{"10.1.2.3", "fd00::1", "None", ""} {
		s := svc(ip)
		authority := Spec(s, 80, Workload{Namespace: "c"}, "").GetAuthority() != ""
		if got := ExpectTarget(s, 80, "c"); got.Authority != authority || got.Port != 80 || got.ClientNamespace != "c" || got.Service != s {
			t.Errorf("%q: %+v, Spec by authority %v", ip, got, authority)
		}
	}
}

// plugin/kube's port-forward and pod-finding hints name the destination's
// flag; the policy client's errors name its own.
func TestForPolicyHints(t *testing.T) {
	in := errors.New("forbidden: cannot create pods/portforward for linkerd/linkerd-destination-1 (RBAC); grant it (krew/rbac.yaml) or pass --destination-addr")
	got := forPolicy(in).Error()
	if !strings.HasSuffix(got, "or pass --policy-addr") || strings.Contains(got, "--destination-addr") {
		t.Errorf("%q", got)
	}
	other := errors.New("port-forward failed")
	if forPolicy(other) != other {
		t.Error("errors without the hint are kept as they are")
	}
}
