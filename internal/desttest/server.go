// Package desttest is a stand-in for Linkerd's destination service, for tests
// and the demo. It serves Destination.GetProfile from a real API server by
// watching Services and ServiceProfiles, and follows the documented behaviour
// of the real server (README "Test control plane", the reference notes in
// destination-api.md and Linkerd's controller source):
//
//   - path forms: <svc>.<ns>.svc.<domain>[:port] (port 80 when absent) or a
//     ClusterIP; anything else is InvalidArgument;
//   - a missing Service is gRPC Unknown `service "x" not found`;
//   - a port that is not a service port gets one empty profile, then
//     nothing, whatever changes later;
//   - an ExternalName Service is InvalidArgument;
//   - client-namespace profile (token ns) first, then the service
//     namespace's, then the default profile (an empty ServiceProfile,
//     translated like any other);
//   - the CRD -> DestinationProfile translation (translate.go); a profile
//     that fails it is logged and nothing is sent;
//   - an update is sent when the profile in effect is another object or
//     another version of it, or when the Service's opaque ports change;
//   - opaque_protocol comes from the opaque-ports watcher (state.go),
//     including its bug of forgetting a Service's annotation after the last
//     subscriber of the Service leaves.
//
// It computes all of this itself and imports none of the plugin's rules
// (diag/translate, diag/expect, diag/analyze): the plugin predicts what this
// server sends, so a wrong rule in the plugin fails a test.
//
// Not modelled: endpoint profiles for pod IPs and pod DNS names. A
// ServiceProfile its Go type cannot decode (a request-level `not` list, a
// non-empty opaquePorts) is treated as absent; the real controller's typed
// informer would fail to list it (not verified).
package desttest

import (
	"context"
	"fmt"
	"log"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Options configure the server like the real one's flags.
type Options struct {
	ClusterDomain      string // -cluster-domain, default cluster.local
	DefaultOpaquePorts string // -default-opaque-ports, default the chart's list
	Logger             *log.Logger
}

// Server is a running test destination service.
type Server struct {
	pb.UnimplementedDestinationServer
	opts          Options
	defaultOpaque map[uint32]bool
	grpc          *grpc.Server
	lis           net.Listener
	services      cache.Indexer
	profiles      cache.Indexer
	stop          chan struct{}

	mu     sync.Mutex
	frozen *snapshot // see Freeze
	subs   map[*subscription]struct{}
	opaque map[string]*opaqueEntry // key ns/name; see state.go

	metrics *metricsState // see metrics.go
}

type subscription struct {
	svcNS, svcName string
	fqn            string
	port           uint32
	clientNS       string
	notify         chan struct{}
	// What the opaque-ports adaptor was last told (guarded by Server.mu):
	// nil when never told, and how many times it was told.
	opaquePorts   map[uint32]bool
	opaqueUpdates int
}

var spGVR = schema.GroupVersionResource{Group: "linkerd.io", Version: "v1alpha2", Resource: "serviceprofiles"}

// Start watches the cluster and serves on addr (e.g. "127.0.0.1:0").
func Start(ctx context.Context, kube kubernetes.Interface, dyn dynamic.Interface, addr string, opts Options) (*Server, error) {
	if opts.ClusterDomain == "" {
		opts.ClusterDomain = "cluster.local"
	}
	if opts.DefaultOpaquePorts == "" {
		opts.DefaultOpaquePorts = chartDefaultOpaquePorts
	}
	if opts.Logger == nil {
		opts.Logger = log.New(nopWriter{}, "", 0)
	}
	s := &Server{opts: opts, stop: make(chan struct{}), subs: map[*subscription]struct{}{}, opaque: map[string]*opaqueEntry{}, metrics: newMetricsState()}
	s.defaultOpaque = parsePorts(opts.DefaultOpaquePorts, nil)

	kf := informers.NewSharedInformerFactory(kube, 10*time.Minute)
	svcInf := kf.Core().V1().Services().Informer()
	df := dynamicinformer.NewDynamicSharedInformerFactory(dyn, 10*time.Minute)
	spInf := df.ForResource(spGVR).Informer()
	_, _ = svcInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(o interface{}) { s.serviceEvent(o, false) },
		UpdateFunc: func(old, o interface{}) {
			if a, b := old.(*corev1.Service), o.(*corev1.Service); a != nil && b != nil {
				s.metrics.serviceUpdate(a, b)
			}
			s.serviceEvent(o, false)
		},
		DeleteFunc: func(o interface{}) { s.serviceEvent(o, true) },
	})
	_, _ = spInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o interface{}) { s.metrics.profileEvent(o, nil); s.broadcast() },
		UpdateFunc: func(old, o interface{}) { s.metrics.profileEvent(o, old); s.broadcast() },
		DeleteFunc: func(o interface{}) { s.metrics.profileEvent(o, nil); s.broadcast() },
	})
	s.services, s.profiles = svcInf.GetIndexer(), spInf.GetIndexer()
	kf.Start(s.stop)
	df.Start(s.stop)
	syncCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), svcInf.HasSynced, spInf.HasSynced) {
		close(s.stop)
		return nil, fmt.Errorf("test destination: caches did not sync (is the ServiceProfile CRD installed?)")
	}

	lis, err := net.Listen("tcp", addr)
	if err != nil {
		close(s.stop)
		return nil, err
	}
	s.lis = lis
	s.grpc = grpc.NewServer()
	pb.RegisterDestinationServer(s.grpc, s)
	go func() { _ = s.grpc.Serve(lis) }()
	return s, nil
}

// Addr is the listening address.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Stop shuts the server down.
func (s *Server) Stop() {
	s.grpc.Stop()
	close(s.stop)
}

// Get is not served by this stand-in.
func (s *Server) Get(*pb.GetDestination, pb.Destination_GetServer) error {
	return status.Error(codes.Unimplemented, "the test destination only serves GetProfile")
}

// GetProfile serves one subscription until the client cancels.
func (s *Server) GetProfile(req *pb.GetDestination, stream pb.Destination_GetProfileServer) error {
	host, port, err := hostAndPort(req.GetPath())
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "invalid authority: %q: %v", req.GetPath(), err)
	}
	var ns, name, fqn string
	if ip := net.ParseIP(host); ip != nil {
		svc, err := s.serviceByIP(ip)
		if err != nil {
			return err
		}
		if svc == nil {
			return status.Errorf(codes.Unimplemented, "test destination: endpoint profiles for %s are not modelled", host)
		}
		ns, name = svc.Namespace, svc.Name
		fqn = fmt.Sprintf("%s.%s.svc.%s", name, ns, s.opts.ClusterDomain)
	} else {
		ns, name, err = s.parseServiceName(host)
		if err != nil {
			return err
		}
		fqn = host
	}
	svc, ok := s.service(ns, name)
	if !ok {
		return status.Errorf(codes.Unknown, "service %q not found", name)
	}
	if !definesPort(svc, port) {
		// One empty profile, then nothing, even if the port is added later.
		if err := stream.Send(&pb.DestinationProfile{}); err != nil {
			return err
		}
		<-stream.Context().Done()
		return nil
	}

	sub := &subscription{svcNS: ns, svcName: name, fqn: fqn, port: port, clientNS: parseToken(req.GetContextToken()).Namespace, notify: make(chan struct{}, 1)}
	if !s.subscribe(sub, svc) {
		return status.Errorf(codes.InvalidArgument, "Invalid authority: %s", req.GetPath())
	}
	defer s.unsubscribe(sub)
	profileName := fmt.Sprintf("%s.%s.svc.%s", name, ns, s.opts.ClusterDomain)
	overflowed := s.metrics.subscribe(sub, profileName)
	defer s.metrics.unsubscribe(sub, profileName, overflowed)

	last := ""
	for {
		// What the listener chain publishes; it is forwarded to the
		// translator whenever it differs from the last one forwarded, even
		// when that one failed translation.
		sp, t, key := s.current(sub)
		if key != last {
			last = key
			dp, err := toDestinationProfile(sp, t)
			if err != nil {
				s.opts.Logger.Printf("profile for %s: %v (nothing sent)", fqn, err)
			} else if err := stream.Send(dp); err != nil {
				return err
			}
		}
		select {
		case <-stream.Context().Done():
			return nil
		case <-overflowed: // the real server ends the stream with OK
			return nil
		case <-sub.notify:
		}
	}
}

func definesPort(svc *corev1.Service, port uint32) bool {
	for _, p := range svc.Spec.Ports {
		if uint32(p.Port) == port {
			return true
		}
	}
	return false
}

// current picks the ServiceProfile in effect for sub: the one in the client
// namespace when the token names one and it exists, else the one in the
// service namespace, else the default (an empty ServiceProfile). Both are
// named after the Service's FQDN. key identifies what is published: the
// object version in effect (the real server dedups by object pointer, and
// every update is a new object) and the opaque-ports updates received.
func (s *Server) current(sub *subscription) (*spObject, target, string) {
	profileName := fmt.Sprintf("%s.%s.svc.%s", sub.svcName, sub.svcNS, s.opts.ClusterDomain)
	lookup := func(ns string) (*spObject, string) {
		obj, exists, _ := s.profileStore().GetByKey(ns + "/" + profileName)
		if !exists {
			return nil, ""
		}
		u := obj.(*unstructured.Unstructured)
		sp, err := decodeSP(u.Object)
		if err != nil {
			s.opts.Logger.Printf("ServiceProfile %s/%s: %v (invisible to the controller)", ns, profileName, err)
			return nil, ""
		}
		return sp, ns + "/" + profileName + "@" + u.GetResourceVersion()
	}
	var sp *spObject
	var key string
	if sub.clientNS != "" {
		sp, key = lookup(sub.clientNS)
	}
	if sp == nil {
		sp, key = lookup(sub.svcNS)
	}
	if sp == nil {
		sp, key = &spObject{}, "default"
	}
	s.mu.Lock()
	t := target{fqn: sub.fqn, svcNS: sub.svcNS, svcName: sub.svcName, port: sub.port, opaquePorts: sub.opaquePorts}
	key += "|" + strconv.Itoa(sub.opaqueUpdates)
	s.mu.Unlock()
	return sp, t, key
}

func (s *Server) service(ns, name string) (*corev1.Service, bool) {
	obj, exists, _ := s.serviceStore().GetByKey(ns + "/" + name)
	if !exists {
		return nil, false
	}
	return obj.(*corev1.Service), true
}

func (s *Server) serviceByIP(ip net.IP) (*corev1.Service, error) {
	var found []*corev1.Service
	for _, o := range s.serviceStore().List() {
		svc := o.(*corev1.Service)
		ips := svc.Spec.ClusterIPs
		if len(ips) == 0 && svc.Spec.ClusterIP != "" {
			ips = []string{svc.Spec.ClusterIP}
		}
		for _, c := range ips {
			if net.ParseIP(c).Equal(ip) {
				found = append(found, svc)
			}
		}
	}
	if len(found) > 1 {
		return nil, status.Errorf(codes.FailedPrecondition, "more than one service with cluster IP %s", ip)
	}
	if len(found) == 0 {
		return nil, nil
	}
	return found[0], nil
}

// parseServiceName accepts exactly <svc>.<ns>.svc.<cluster-domain>.
func (s *Server) parseServiceName(host string) (ns, name string, err error) {
	labels := strings.Split(host, ".")
	suffix := append([]string{"svc"}, strings.Split(s.opts.ClusterDomain, ".")...)
	if len(labels) < len(suffix)+2 {
		return "", "", status.Errorf(codes.InvalidArgument, "invalid k8s service %s", host)
	}
	for i, l := range suffix {
		if labels[len(labels)-len(suffix)+i] != l {
			return "", "", status.Errorf(codes.InvalidArgument, "invalid k8s service %s", host)
		}
	}
	rest := labels[:len(labels)-len(suffix)]
	switch len(rest) {
	case 2:
		return rest[1], rest[0], nil
	case 3:
		return "", "", status.Errorf(codes.NotFound, "no pod found in EndpointSlices of Service %s/%s for hostname %s (pod DNS lookups are not modelled by the test destination)", rest[2], rest[1], rest[0])
	}
	return "", "", status.Errorf(codes.InvalidArgument, "invalid k8s service %s", host)
}

func hostAndPort(path string) (string, uint32, error) {
	if !strings.Contains(path, ":") {
		return path, 80, nil
	}
	host, p, err := net.SplitHostPort(path)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p) // as the server reads it: "+80" and "080" are 80
	if err != nil || n <= 0 || n > 65535 {
		return "", 0, fmt.Errorf("invalid port %s", p)
	}
	return host, uint32(n), nil
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// snapshot is a frozen copy of the server's caches.
type snapshot struct{ services, profiles cache.Indexer }

// Freeze makes the server answer from a copy of its caches as they are now,
// ignoring later changes until Thaw: a destination whose informers lag or
// are stuck, which is how what it serves drifts from the cluster's objects.
func (s *Server) Freeze() {
	copyOf := func(src cache.Indexer) cache.Indexer {
		dst := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
		for _, o := range src.List() {
			_ = dst.Add(o) // informer objects are never mutated, only replaced
		}
		return dst
	}
	snap := &snapshot{services: copyOf(s.services), profiles: copyOf(s.profiles)}
	s.mu.Lock()
	s.frozen = snap
	s.mu.Unlock()
}

// Thaw makes the server follow the cluster again.
func (s *Server) Thaw() {
	s.mu.Lock()
	s.frozen = nil
	s.resyncOpaqueLocked()
	s.mu.Unlock()
	s.broadcast()
}

func (s *Server) serviceStore() cache.Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen != nil {
		return s.frozen.services
	}
	return s.services
}

func (s *Server) profileStore() cache.Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen != nil {
		return s.frozen.profiles
	}
	return s.profiles
}
