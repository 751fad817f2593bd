// Package policytest is a stand-in for Linkerd's policy controller
// (OutboundPolicies on port 8090), for tests. It answers Get and Watch
// from a real API server: on every request it lists Services, HTTPRoutes of both groups
// (gateway.networking.k8s.io/v1, policy.linkerd.io/v1beta3) and GRPCRoutes
// (gateway.networking.k8s.io/v1), so there is no cache lag to model.
//
// It implements the documented behaviour itself (../shared/reference/
// policy-api.md; section numbers in comments) and imports none of the
// plugin's rules (diag/policy, diag/expect, diag/rustregex): the plugin
// predicts what this server sends, so a wrong rule on either side fails a
// test.
//
//   - TrafficSpec: source_workload as JSON {"ns", "pod"|"external_workload"}
//     or "<ns>:<name>", else InvalidArgument "Invalid workload"; no target
//     is InvalidArgument "target is required" (§2.1);
//   - authority targets: <name>.<ns>.svc[.<domain>][.][:port], port 80 by
//     default, no existence or port check; another form is NotFound, an
//     unparsable one InvalidArgument (§2.2);
//   - addr targets: a Service by ClusterIP; a port it does not define gets
//     the undefined-port policy (§10); an IP outside the cluster networks
//     the egress-fallback policy; else NotFound "No such service"; port 0
//     or > 65535 is InvalidArgument;
//   - routes: Service parentRefs with kind set, Accepted=True status for
//     that parent, producer routes plus the client namespace's consumer
//     routes, ordered by creation timestamp then name (§6);
//   - conversion failures drop the route (§6.3); policy.linkerd.io
//     ResponseHeaderModifier is sent as a request modifier;
//   - protocol from appProtocol, opaque ports and GRPCRoute precedence
//     (§3.1); the default http and opaq routes (§3.5);
//   - timeouts, retries (§7), failure accrual and load biaser annotations
//     (§8); backends and invalid backends (§3.3);
//   - Watch (§4): the current policy at once, then a message only when the
//     computed policy for (Service, port, client namespace) changes, i.e.
//     differs from the last one sent; it is recomputed on every change of a
//     Service or a route of the three kinds (informers, watch.go), so a
//     burst can arrive as one message. EndWatches ends every stream with OK
//     (a reinitialised watch); Freeze/Thaw hold updates back (a stuck
//     index); an undefined-port stream never updates.
//
// Not modelled: TLSRoute, TCPRoute, EgressNetwork; a route kind whose CRD is
// installed after the first Watch is not watched. Regexes are checked with
// Go's regexp/syntax (Perl flags), not Rust's regex crate: fixtures use
// patterns both accept or both reject.
package policytest

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	lnet "github.com/linkerd/linkerd2-proxy-api/go/net"
	pb "github.com/linkerd/linkerd2-proxy-api/go/outbound"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Options configure the server like the real controller's flags.
type Options struct {
	ClusterDomain      string   // default cluster.local
	DefaultOpaquePorts string   // --default-opaque-ports, default the chart's list
	ClusterNetworks    []string // --cluster-networks, default Linkerd's
	// AllowL5dRequestHeaders is --allow-l5d-request-headers.
	AllowL5dRequestHeaders bool
	// IgnoreGatewayRuleTimeouts behaves like a controller before 2.20,
	// which ignores Gateway HTTPRoute rules[].timeouts.
	IgnoreGatewayRuleTimeouts bool
	Logger                    *log.Logger
	// Reuse answers from one read of the API server for this long (the
	// real controller answers from an in-memory index; benchmarks use it
	// so that they measure the client). 0: read on every lookup.
	Reuse time.Duration
}

const chartOpaquePorts = "25,587,3306,4444,5432,6379,9300,11211"

var defaultClusterNetworks = []string{"10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8"}

// Server is a running test policy controller.
type Server struct {
	pb.UnimplementedOutboundPoliciesServer
	opts     Options
	networks []netip.Prefix
	kube     kubernetes.Interface
	dyn      dynamic.Interface
	grpc     *grpc.Server
	lis      net.Listener

	mu     sync.Mutex
	cached *world
	readAt time.Time

	watch watchState
}

var (
	gatewayHTTPRoutes = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}
	linkerdHTTPRoutes = schema.GroupVersionResource{Group: "policy.linkerd.io", Version: "v1beta3", Resource: "httproutes"}
	gatewayGRPCRoutes = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "grpcroutes"}
)

// Start serves on addr (e.g. "127.0.0.1:0").
func Start(kube kubernetes.Interface, dyn dynamic.Interface, addr string, opts Options) (*Server, error) {
	if opts.ClusterDomain == "" {
		opts.ClusterDomain = "cluster.local"
	}
	if opts.DefaultOpaquePorts == "" {
		opts.DefaultOpaquePorts = chartOpaquePorts
	}
	if opts.ClusterNetworks == nil {
		opts.ClusterNetworks = defaultClusterNetworks
	}
	if opts.Logger == nil {
		opts.Logger = log.New(discard{}, "", 0)
	}
	s := &Server{opts: opts, kube: kube, dyn: dyn}
	for _, n := range opts.ClusterNetworks {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			return nil, fmt.Errorf("policytest: cluster network %q: %v", n, err)
		}
		s.networks = append(s.networks, p)
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.lis = lis
	s.grpc = grpc.NewServer()
	pb.RegisterOutboundPoliciesServer(s.grpc, s)
	go func() { _ = s.grpc.Serve(lis) }()
	return s, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Addr is the listening address.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Stop shuts the server down.
func (s *Server) Stop() {
	s.grpc.Stop()
	s.stopWatches()
}

// Get answers once.
func (s *Server) Get(ctx context.Context, spec *pb.TrafficSpec) (*pb.OutboundPolicy, error) {
	return s.lookup(ctx, spec)
}

// clientNamespace parses source_workload (§2.1).
func clientNamespace(w string) (string, error) {
	if strings.HasPrefix(w, "{") {
		var v map[string]interface{}
		if err := json.Unmarshal([]byte(w), &v); err != nil {
			return "", status.Errorf(codes.InvalidArgument, "Invalid workload: %s", w)
		}
		ns, _ := v["ns"].(string)
		_, pod := v["pod"].(string)
		_, ext := v["external_workload"].(string)
		if ns == "" || (!pod && !ext) {
			return "", status.Errorf(codes.InvalidArgument, "Invalid workload: %s", w)
		}
		return ns, nil
	}
	ns, name, ok := strings.Cut(w, ":")
	if !ok || ns == "" || name == "" {
		return "", status.Errorf(codes.InvalidArgument, "Invalid workload: %s", w)
	}
	return ns, nil
}

// world is one consistent read of the cluster.
type world struct {
	services []corev1.Service
	http     []httpRoute
	grpc     []gatewayv1.GRPCRoute
}

type httpRoute struct {
	group string
	gatewayv1.HTTPRoute
}

func (s *Server) read(ctx context.Context) (*world, error) {
	if s.opts.Reuse > 0 {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.cached != nil && time.Since(s.readAt) < s.opts.Reuse {
			return s.cached, nil
		}
		w, err := s.readAPI(ctx)
		if err == nil {
			s.cached, s.readAt = w, time.Now()
		}
		return w, err
	}
	return s.readAPI(ctx)
}

func (s *Server) readAPI(ctx context.Context) (*world, error) {
	w := &world{}
	svcs, err := s.kube.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "listing Services: %v", err)
	}
	w.services = svcs.Items
	for _, gvr := range []schema.GroupVersionResource{gatewayHTTPRoutes, linkerdHTTPRoutes, gatewayGRPCRoutes} {
		list, err := s.dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
		if kerrors.IsNotFound(err) {
			continue // the kind is not installed: no watch for it
		}
		if err != nil {
			return nil, status.Errorf(codes.Unavailable, "listing %s: %v", gvr.Resource, err)
		}
		for i := range list.Items {
			obj := list.Items[i].Object
			if gvr == gatewayGRPCRoutes {
				var r gatewayv1.GRPCRoute
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &r); err != nil {
					s.opts.Logger.Printf("skipping invalid GRPCRoute resource: %v", err)
					continue
				}
				w.grpc = append(w.grpc, r)
				continue
			}
			var r gatewayv1.HTTPRoute
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &r); err != nil {
				s.opts.Logger.Printf("skipping invalid HTTPRoute resource: %v", err)
				continue
			}
			w.http = append(w.http, httpRoute{gvr.Group, r})
		}
	}
	return w, nil
}

func (s *Server) lookup(ctx context.Context, spec *pb.TrafficSpec) (*pb.OutboundPolicy, error) {
	if spec.GetTarget() == nil {
		return nil, status.Error(codes.InvalidArgument, "target is required")
	}
	clientNS, err := clientNamespace(spec.GetSourceWorkload())
	if err != nil {
		return nil, err
	}
	w, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	switch t := spec.GetTarget().(type) {
	case *pb.TrafficSpec_Authority:
		ns, name, port, err := s.parseAuthority(t.Authority)
		if err != nil {
			return nil, err
		}
		svc := w.service(ns, name)
		if svc == nil {
			// The index creates the entry on demand (§2.2).
			svc = &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		}
		return s.servicePolicy(w, svc, port, clientNS), nil
	case *pb.TrafficSpec_Addr:
		port := t.Addr.GetPort()
		if port == 0 || port > 65535 {
			return nil, status.Errorf(codes.InvalidArgument, "invalid port %d", port)
		}
		ip, ok := addrOf(t.Addr.GetIp())
		if !ok {
			return nil, status.Error(codes.InvalidArgument, "invalid IP address")
		}
		if svc := w.serviceByIP(ip); svc != nil {
			if !definesPort(svc, port) {
				return undefinedPort(svc, port), nil
			}
			return s.servicePolicy(w, svc, port, clientNS), nil
		}
		for _, n := range s.networks {
			if n.Contains(ip) {
				return nil, status.Error(codes.NotFound, "No such service")
			}
		}
		return egressFallback(), nil
	}
	return nil, status.Error(codes.InvalidArgument, "target is required")
}

// parseAuthority applies §2.2's authority rules.
func (s *Server) parseAuthority(a string) (ns, name string, port uint32, err error) {
	host, p := a, "80"
	if i := strings.LastIndex(a, ":"); i >= 0 {
		host, p = a[:i], a[i+1:]
	}
	n, perr := strconv.ParseUint(p, 10, 16)
	if host == "" || perr != nil || strings.ContainsAny(host, "/ ?#@[]") {
		return "", "", 0, status.Errorf(codes.InvalidArgument, "invalid authority %q", a)
	}
	host = strings.TrimSuffix(host, ".")
	host = strings.TrimSuffix(host, "."+s.opts.ClusterDomain)
	labels := strings.Split(host, ".")
	if len(labels) < 3 || labels[2] != "svc" || labels[0] == "" || labels[1] == "" {
		return "", "", 0, status.Error(codes.NotFound, "authority must be of the form <name>.<namespace>.svc.<domain>")
	}
	return labels[1], labels[0], uint32(n), nil
}

func addrOf(ip *lnet.IPAddress) (netip.Addr, bool) {
	switch a := ip.GetIp().(type) {
	case *lnet.IPAddress_Ipv4:
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], a.Ipv4)
		return netip.AddrFrom4(b), true
	case *lnet.IPAddress_Ipv6:
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], a.Ipv6.GetFirst())
		binary.BigEndian.PutUint64(b[8:], a.Ipv6.GetLast())
		return netip.AddrFrom16(b), true
	}
	return netip.Addr{}, false
}

func (w *world) service(ns, name string) *corev1.Service {
	for i := range w.services {
		if w.services[i].Namespace == ns && w.services[i].Name == name {
			return &w.services[i]
		}
	}
	return nil
}

func (w *world) serviceByIP(ip netip.Addr) *corev1.Service {
	for i := range w.services {
		s := &w.services[i]
		ips := append([]string{s.Spec.ClusterIP}, s.Spec.ClusterIPs...)
		for _, v := range ips {
			if a, err := netip.ParseAddr(v); err == nil && a == ip {
				return s
			}
		}
	}
	return nil
}

func definesPort(svc *corev1.Service, port uint32) bool {
	for _, p := range svc.Spec.Ports {
		if uint32(p.Port) == port {
			return true
		}
	}
	return false
}
