// Package policy asks Linkerd's policy controller (the OutboundPolicies
// API, port 8090 of the linkerd-destination pod) what a client proxy gets
// for a target, as a fake proxy: unary Get, or a Watch stream kept open
// (watch.go), with the proxy's target form (ClusterIP:port, or the
// authority for headless Services) and its workload identity. Every wait is bounded; every error is one line that
// says what to do. The answer is read with diag/policy.
package policy

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	lnet "github.com/linkerd/linkerd2-proxy-api/go/net"
	pb "github.com/linkerd/linkerd2-proxy-api/go/outbound"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/destination"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
)

// Port is the policy controller's gRPC port in the linkerd-destination pod
// (container port policy-grpc).
const Port = 8090

// ErrNoPolicy is wrapped by Get when the controller answers NotFound for an
// addr target ("No such service"): the proxy then has no client policy and
// forwards to the original destination.
var ErrNoPolicy = errors.New("no policy for this target")

// Client is one connection to the policy controller.
type Client struct {
	addr   string
	conn   *grpc.ClientConn
	client pb.OutboundPoliciesClient
	close  func()
}

// Dial connects to addr (HOST:PORT) in plaintext, waiting at most timeout.
func Dial(ctx context.Context, addr string, timeout time.Duration) (*Client, error) {
	conn, err := destination.DialConn(ctx, addr, timeout, "policy controller", "--policy-addr")
	if err != nil {
		return nil, err
	}
	return &Client{addr: addr, conn: conn, client: pb.NewOutboundPoliciesClient(conn), close: func() {}}, nil
}

// Connect dials addr when set; otherwise it port-forwards through the API
// server to port 8090 of a Running linkerd-destination pod in linkerdNS
// (found as for the destination, plugin/kube).
func Connect(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, linkerdNS, addr string, timeout time.Duration) (*Client, error) {
	if addr != "" {
		return Dial(ctx, addr, timeout)
	}
	pod, err := kube.FindDestinationPod(ctx, cs, linkerdNS)
	if err != nil {
		return nil, forPolicy(err)
	}
	local, stop, err := kube.PortForward(ctx, cfg, pod, Port, timeout)
	if err != nil {
		return nil, forPolicy(err)
	}
	c, err := Dial(ctx, local, timeout)
	if err != nil {
		stop()
		return nil, fmt.Errorf("policy controller in pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
	c.close = stop
	return c, nil
}

// forPolicy points plugin/kube's hints (written for the destination) at
// this client's flag.
func forPolicy(err error) error {
	msg := err.Error()
	if !strings.Contains(msg, "--destination-addr") {
		return err
	}
	return errors.New(strings.ReplaceAll(msg, "--destination-addr", "--policy-addr"))
}

// Addr is the address dialled.
func (c *Client) Addr() string { return c.addr }

// Close closes the connection (and the port-forward).
func (c *Client) Close() error {
	err := c.conn.Close()
	c.close()
	return err
}

// Workload is the proxy's LINKERD2_PROXY_POLICY_WORKLOAD: only the
// namespace matters for outbound lookups (consumer routes, §6.4), but the
// controller requires a pod name too.
type Workload struct {
	Namespace string
	Pod       string
}

// String is the JSON form the injector sets, {"ns":"..","pod":".."}. An
// empty pod becomes "kubectl-profiles" (any name works).
func (w Workload) String() string {
	pod := w.Pod
	if pod == "" {
		pod = "kubectl-profiles"
	}
	b, _ := json.Marshal(struct {
		NS  string `json:"ns"`
		Pod string `json:"pod"`
	}{w.Namespace, pod})
	return string(b)
}

// Spec is the TrafficSpec a client proxy sends for a Service port:
// addr = ClusterIP:port (so undefined ports behave as for the proxy), or,
// for headless Services (no ClusterIP), the authority
// <svc>.<ns>.svc.<domain>:<port>.
func Spec(svc *corev1.Service, port int32, w Workload, clusterDomain string) *pb.TrafficSpec {
	spec := &pb.TrafficSpec{SourceWorkload: w.String()}
	if ip, ok := clusterIP(svc); ok {
		spec.Target = &pb.TrafficSpec_Addr{Addr: &lnet.TcpAddress{Ip: ipAddress(ip), Port: uint32(port)}}
		return spec
	}
	if clusterDomain == "" {
		clusterDomain = profile.DefaultClusterDomain
	}
	spec.Target = &pb.TrafficSpec_Authority{Authority: fmt.Sprintf("%s:%d", profile.FQDN(svc.Name, svc.Namespace, clusterDomain), port)}
	return spec
}

// clusterIP is the address a proxy dials for svc, if it has one (headless
// and ExternalName Services have none: Spec uses the authority).
func clusterIP(svc *corev1.Service) (netip.Addr, bool) {
	ip, err := netip.ParseAddr(svc.Spec.ClusterIP)
	return ip, err == nil
}

// ExpectTarget is the diag/policy target matching Spec's lookup for the same
// Service port and client: Authority is set exactly when Spec asks by
// authority (no undefined-port check then).
func ExpectTarget(svc *corev1.Service, port int32, clientNS string) dpolicy.Target {
	_, addr := clusterIP(svc)
	return dpolicy.Target{Service: svc, Port: port, ClientNamespace: clientNS, Authority: !addr}
}

func ipAddress(ip netip.Addr) *lnet.IPAddress {
	if ip.Is4() || ip.Is4In6() {
		b := ip.Unmap().As4()
		return &lnet.IPAddress{Ip: &lnet.IPAddress_Ipv4{Ipv4: binary.BigEndian.Uint32(b[:])}}
	}
	b := ip.As16()
	return &lnet.IPAddress{Ip: &lnet.IPAddress_Ipv6{Ipv6: &lnet.IPv6{First: binary.BigEndian.Uint64(b[:8]), Last: binary.BigEndian.Uint64(b[8:])}}}
}

// Target is a TrafficSpec's target in words, for messages.
func Target(spec *pb.TrafficSpec) string {
	switch t := spec.GetTarget().(type) {
	case *pb.TrafficSpec_Authority:
		return t.Authority
	case *pb.TrafficSpec_Addr:
		var ip netip.Addr
		switch a := t.Addr.GetIp().GetIp().(type) {
		case *lnet.IPAddress_Ipv4:
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], a.Ipv4)
			ip = netip.AddrFrom4(b)
		case *lnet.IPAddress_Ipv6:
			var b [16]byte
			binary.BigEndian.PutUint64(b[:8], a.Ipv6.GetFirst())
			binary.BigEndian.PutUint64(b[8:], a.Ipv6.GetLast())
			ip = netip.AddrFrom16(b)
		}
		return netip.AddrPortFrom(ip, uint16(t.Addr.GetPort())).String()
	}
	return "(no target)"
}

// GetRaw calls OutboundPolicies.Get once, bounded by timeout.
func (c *Client) GetRaw(ctx context.Context, spec *pb.TrafficSpec, timeout time.Duration) (*pb.OutboundPolicy, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m, err := c.client.Get(ctx, spec)
	if err != nil {
		return nil, c.explain(spec, err, ctx.Err() != nil, timeout)
	}
	return m, nil
}

// Get calls OutboundPolicies.Get and reads the answer with diag/policy.
// A NotFound answer is an error wrapping ErrNoPolicy; an answer this plugin
// cannot read is an error that says so (the raw message is returned too).
func (c *Client) Get(ctx context.Context, spec *pb.TrafficSpec, timeout time.Duration) (*dpolicy.Policy, *pb.OutboundPolicy, error) {
	m, err := c.GetRaw(ctx, spec, timeout)
	if err != nil {
		return nil, nil, err
	}
	p, err := dpolicy.FromProto(m)
	if err != nil {
		return nil, m, fmt.Errorf("OutboundPolicies.Get %s: %v: upgrade kubectl-profiles, or compare with `linkerd diagnostics policy`", Target(spec), err)
	}
	return p, m, nil
}

// explain turns a failed Get into one line that keeps the gRPC code.
func (c *Client) explain(spec *pb.TrafficSpec, err error, timedOut bool, timeout time.Duration) error {
	st, _ := status.FromError(err)
	target := Target(spec)
	switch {
	case st.Code() == codes.Unimplemented:
		return withStatus(st, fmt.Sprintf("the policy controller at %s does not serve OutboundPolicies: the control plane predates the policy API (Linkerd < 2.13)", c.addr), nil)
	case st.Code() == codes.NotFound:
		return withStatus(st, fmt.Sprintf("the policy controller has no policy for %s (NotFound: %s): a proxy forwards such traffic to the original destination without routes", target, st.Message()), ErrNoPolicy)
	case st.Code() == codes.InvalidArgument:
		return withStatus(st, fmt.Sprintf("the policy controller rejected the lookup of %s (InvalidArgument: %s)", target, st.Message()), nil)
	case st.Code() == codes.PermissionDenied || st.Code() == codes.Unauthenticated:
		return withStatus(st, fmt.Sprintf("the policy controller at %s refused the lookup (%s: %s): check RBAC for pods/portforward in the Linkerd namespace, or pass --policy-addr", c.addr, st.Code(), st.Message()), nil)
	case timedOut || st.Code() == codes.DeadlineExceeded:
		if c.conn.GetState() != connectivity.Ready {
			return withStatus(status.New(codes.Unavailable, "unreachable"), fmt.Sprintf("policy controller at %s became unreachable during the lookup of %s", c.addr, target), nil)
		}
		return withStatus(status.New(codes.DeadlineExceeded, "timeout"), fmt.Sprintf("no answer from the policy controller for %s within --timeout %s: raise --timeout or check the policy container's logs", target, timeout), nil)
	case st.Code() == codes.Canceled:
		return withStatus(st, fmt.Sprintf("OutboundPolicies.Get %s: canceled", target), nil)
	case st.Code() == codes.Unavailable:
		return withStatus(st, fmt.Sprintf("policy controller unreachable at %s: %s: check --policy-addr or the port-forward", c.addr, st.Message()), nil)
	}
	return withStatus(st, fmt.Sprintf("OutboundPolicies.Get %s: the policy controller answered %s: %s", target, st.Code(), st.Message()), nil)
}

// statusError is one line that keeps the gRPC status and may wrap a
// sentinel.
type statusError struct {
	msg  string
	st   *status.Status
	wrap error
}

func (e *statusError) Error() string              { return e.msg }
func (e *statusError) GRPCStatus() *status.Status { return e.st }
func (e *statusError) Unwrap() error              { return e.wrap }

func withStatus(st *status.Status, msg string, wrap error) error {
	return &statusError{msg: msg, st: st, wrap: wrap}
}
