// Package desttest is a stand-in for Linkerd's destination service, for tests
// and the demo. It serves Destination.GetProfile from a real API server by
// watching Services and ServiceProfiles, and follows the documented behaviour
// of the real server (see ../../README.md, "Test control plane"):
//
//   - path forms: <svc>.<ns>.svc.<domain>[:port] (port 80 when absent) or a
//     ClusterIP; anything else is InvalidArgument;
//   - a missing Service is gRPC Unknown `service "x" not found`;
//   - an ExternalName Service is InvalidArgument;
//   - a port that is not a service port gets one empty profile;
//   - client-namespace profile (token ns) first, then the service
//     namespace's, then the default profile; the first message waits until
//     both are known;
//   - a profile that fails translation is logged and nothing is sent;
//   - opaque_protocol comes from the Service's opaque-ports annotation or the
//     defaults, including the real server's bug of forgetting the ports after
//     the last subscriber of a Service leaves.
//
// Not modelled: endpoint profiles for pod IPs and pod DNS names.
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

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/kube"
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
	opts     Options
	grpc     *grpc.Server
	lis      net.Listener
	services cache.Indexer
	profiles cache.Indexer
	stop     chan struct{}

	mu     sync.Mutex
	frozen *snapshot // see Freeze
	subs   map[*subscription]struct{}
	opaque map[string]*opaqueEntry // key ns/name; see forgetOpaque
}

type opaqueEntry struct {
	ports     map[uint32]bool
	listeners int
}

type subscription struct {
	svcNS, svcName string
	port           uint32
	clientNS       string
	notify         chan struct{}
}

var spGVR = schema.GroupVersionResource{Group: profile.Group, Version: profile.StorageVersion, Resource: profile.Resource}

// Start watches the cluster and serves on addr (e.g. "127.0.0.1:0").
func Start(ctx context.Context, kube kubernetes.Interface, dyn dynamic.Interface, addr string, opts Options) (*Server, error) {
	if opts.ClusterDomain == "" {
		opts.ClusterDomain = profile.DefaultClusterDomain
	}
	if opts.DefaultOpaquePorts == "" {
		opts.DefaultOpaquePorts = expect.DefaultOpaquePorts
	}
	if opts.Logger == nil {
		opts.Logger = log.New(nopWriter{}, "", 0)
	}
	s := &Server{opts: opts, stop: make(chan struct{}), subs: map[*subscription]struct{}{}, opaque: map[string]*opaqueEntry{}}

	kf := informers.NewSharedInformerFactory(kube, 10*time.Minute)
	svcInf := kf.Core().V1().Services().Informer()
	df := dynamicinformer.NewDynamicSharedInformerFactory(dyn, 10*time.Minute)
	spInf := df.ForResource(spGVR).Informer()
	_, _ = svcInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o interface{}) { s.serviceChanged(o) },
		UpdateFunc: func(_, o interface{}) { s.serviceChanged(o) },
		DeleteFunc: func(o interface{}) { s.serviceChanged(o) },
	})
	_, _ = spInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(interface{}) { s.broadcast() },
		UpdateFunc: func(_, _ interface{}) { s.broadcast() },
		DeleteFunc: func(interface{}) { s.broadcast() },
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
		return status.Errorf(codes.InvalidArgument, "invalid authority: %s", err)
	}
	var ns, name string
	if ip := net.ParseIP(host); ip != nil {
		svc, err := s.serviceByIP(ip)
		if err != nil {
			return err
		}
		if svc == nil {
			return status.Errorf(codes.Unimplemented, "test destination: endpoint profiles for %s are not modelled", host)
		}
		ns, name = svc.Namespace, svc.Name
	} else {
		ns, name, err = s.parseServiceName(host)
		if err != nil {
			return err
		}
	}
	svc, ok := s.service(ns, name)
	if !ok {
		return status.Errorf(codes.Unknown, "service %q not found", name)
	}
	if !kube.ToService(svc).HasPort(port) {
		// The real server sends one empty profile, then never updates.
		if err := stream.Send(&pb.DestinationProfile{}); err != nil {
			return err
		}
		<-stream.Context().Done()
		return nil
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return status.Errorf(codes.InvalidArgument, "invalid service: %s/%s is an ExternalName service", ns, name)
	}

	sub := &subscription{svcNS: ns, svcName: name, port: port, clientNS: parseToken(req.GetContextToken()).Namespace, notify: make(chan struct{}, 1)}
	s.subscribe(sub)
	defer s.unsubscribe(sub)

	var last string
	for {
		dp, key, err := s.current(sub)
		switch {
		case err != nil:
			s.opts.Logger.Printf("profile %s/%s: %v (nothing sent)", ns, name, err)
		case key != last:
			if err := stream.Send(dp); err != nil {
				return err
			}
			last = key
		}
		select {
		case <-stream.Context().Done():
			return nil
		case <-sub.notify:
		}
	}
}

// current computes what the subscription should see now. key identifies the
// object versions used, standing in for the real server's pointer dedup.
func (s *Server) current(sub *subscription) (*pb.DestinationProfile, string, error) {
	svcObj, ok := s.service(sub.svcNS, sub.svcName)
	if !ok {
		return nil, "", fmt.Errorf("service deleted")
	}
	svc := kube.ToService(svcObj)
	var cands []expect.Candidate
	fqdn := profile.FQDN(sub.svcName, sub.svcNS, s.opts.ClusterDomain)
	for _, ns := range []string{sub.clientNS, sub.svcNS} {
		if ns == "" {
			continue
		}
		obj, exists, _ := s.profileStore().GetByKey(ns + "/" + fqdn)
		if !exists {
			continue
		}
		u := obj.(*unstructured.Unstructured)
		sp, err := profile.FromJSONObject(u.Object)
		cands = append(cands, expect.Candidate{Namespace: ns, Name: fqdn, ResourceVersion: u.GetResourceVersion(), Profile: sp, DecodeErr: err})
	}
	out := expect.Expect(expect.Lookup{
		Service: svc, Port: sub.port, ClientNamespace: sub.clientNS,
		ClusterDomain: s.opts.ClusterDomain, DefaultOpaquePorts: s.opts.DefaultOpaquePorts, Candidates: cands,
	})
	if out.Rejected != nil {
		return nil, "", fmt.Errorf("rejected: %s", out.Rejected.Reason)
	}
	if out.Unserved != nil {
		return nil, "", out.Unserved
	}
	dp := out.Expected
	// The opaque flag comes from the server's opaque-ports watcher state,
	// which may have forgotten the Service (the documented bug).
	dp.OpaqueProtocol = s.opaquePort(sub.svcNS, sub.svcName, sub.port)
	key := fmt.Sprintf("%s|%v|%s", out.Source, dp.OpaqueProtocol, svcObj.ResourceVersion)
	if out.InEffect != nil {
		key += "|" + out.InEffect.Namespace + "/" + out.InEffect.ResourceVersion
	}
	return dp, key, nil
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
	n, err := strconv.ParseUint(p, 10, 32)
	if err != nil || n == 0 || n > 65535 {
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
