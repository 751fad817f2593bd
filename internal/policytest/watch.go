package policytest

import (
	"context"
	"sync"

	pb "github.com/linkerd/linkerd2-proxy-api/go/outbound"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

var services = schema.GroupVersionResource{Version: "v1", Resource: "services"}

// watchState: informers on what lookups read, started by the first Watch;
// every event closes changed (and replaces it), which wakes every stream to
// recompute its policy.
type watchState struct {
	once    sync.Once
	mu      sync.Mutex
	changed chan struct{}
	ended   chan struct{} // closed by EndWatches
	stop    chan struct{}
	err     error
	frozen  bool // Freeze: no updates are sent
}

// startInformers runs informers on Services and the route kinds installed.
func (s *Server) startInformers(ctx context.Context) error {
	ws := &s.watch
	ws.once.Do(func() {
		ws.mu.Lock()
		ws.changed, ws.ended, ws.stop = make(chan struct{}), make(chan struct{}), make(chan struct{})
		ws.mu.Unlock()
		f := dynamicinformer.NewDynamicSharedInformerFactory(s.dyn, 0)
		for _, gvr := range []schema.GroupVersionResource{services, gatewayHTTPRoutes, linkerdHTTPRoutes, gatewayGRPCRoutes} {
			if _, err := s.dyn.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 1}); kerrors.IsNotFound(err) {
				continue // not installed: nothing to watch
			}
			inf := f.ForResource(gvr).Informer()
			_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
				AddFunc:    func(interface{}) { s.touch() },
				UpdateFunc: func(_, _ interface{}) { s.touch() },
				DeleteFunc: func(interface{}) { s.touch() },
			})
		}
		f.Start(ws.stop)
		for gvr, ok := range f.WaitForCacheSync(ctx.Done()) {
			if !ok {
				ws.err = status.Errorf(codes.Unavailable, "watching %s did not start", gvr.Resource)
			}
		}
	})
	return ws.err
}

// touch: something a policy is computed from changed.
func (s *Server) touch() {
	s.mu.Lock()
	s.cached = nil // Options.Reuse must not hide the change
	s.mu.Unlock()
	ws := &s.watch
	ws.mu.Lock()
	close(ws.changed)
	ws.changed = make(chan struct{})
	ws.mu.Unlock()
}

func (s *Server) signals() (changed, ended chan struct{}) {
	ws := &s.watch
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.changed, ws.ended
}

// EndWatches ends every open Watch stream with OK, as the controller does
// when it reinitialises a watch (§4); later Watches work as before.
func (s *Server) EndWatches() {
	ws := &s.watch
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.ended != nil {
		close(ws.ended)
		ws.ended = make(chan struct{})
	}
}

// Freeze stops sending updates on Watch streams (a stuck index); Thaw
// sends what changed meanwhile.
func (s *Server) Freeze() { s.setFrozen(true) }

// Thaw undoes Freeze.
func (s *Server) Thaw() {
	if s.setFrozen(false) {
		s.touch()
	}
}

// setFrozen tells whether the watches are started.
func (s *Server) setFrozen(v bool) bool {
	ws := &s.watch
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.frozen = v
	return ws.changed != nil
}

func (s *Server) isFrozen() bool {
	ws := &s.watch
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.frozen
}

func (s *Server) stopWatches() {
	ws := &s.watch
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.stop != nil {
		close(ws.stop)
		ws.stop = nil
	}
}

// Watch sends the current policy at once, then the policy again each time
// it differs from the last one sent, until the client leaves (§4). A
// lookup error after the first message ends the stream with it, except
// Unavailable (the API server could not be read: retried on the next
// change).
func (s *Server) Watch(spec *pb.TrafficSpec, stream pb.OutboundPolicies_WatchServer) error {
	ctx := stream.Context()
	if err := s.startInformers(ctx); err != nil {
		return err
	}
	changed, ended := s.signals()
	last, err := s.lookup(ctx, spec)
	if err != nil {
		return err
	}
	if err := stream.Send(last); err != nil {
		return err
	}
	undefined := isUndefinedPort(last)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ended:
			return nil
		case <-changed:
		}
		changed, _ = s.signals()
		if undefined || s.isFrozen() {
			continue // undefined_port_stream: no updates; frozen: Thaw wakes
		}
		m, err := s.lookup(ctx, spec)
		if status.Code(err) == codes.Unavailable {
			continue
		}
		if err != nil {
			return err
		}
		if proto.Equal(m, last) {
			continue
		}
		if err := stream.Send(m); err != nil {
			return err
		}
		last = m
	}
}

func isUndefinedPort(m *pb.OutboundPolicy) bool {
	for _, r := range m.GetProtocol().GetOpaque().GetRoutes() {
		if r.GetMetadata().GetDefault() == "undefined-port" {
			return true
		}
	}
	return false
}
