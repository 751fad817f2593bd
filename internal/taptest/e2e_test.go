package taptest_test

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/internal/taptest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/testenv"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// These tests reach the test tap server through a real kube-apiserver's
// aggregation layer, as kubectl-profiles reaches linkerd-viz's tap.

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, testenv.Options{}, &env)) }

const group, version = "tap.linkerd.io", "v1alpha1"

// reasonOf is err's tapclient.Reason, or "" when err is not a *tapclient.Error.
func reasonOf(err error) tapclient.Reason {
	var e *tapclient.Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

var (
	web   = tapclient.Target{Namespace: "emojivoto", Type: "deployment", Name: "web"}
	quiet = tapclient.Target{Namespace: "emojivoto", Type: "deployment", Name: "quiet"}
)

func script() []tapclient.Event {
	src := tapclient.Endpoint{IP: netip.MustParseAddr("10.42.0.15"), Port: 47952, Labels: map[string]string{"tls": "true", "client_id": "web.emojivoto.serviceaccount.identity.linkerd.cluster.local"}}
	dst := tapclient.Endpoint{IP: netip.MustParseAddr("10.42.0.12"), Port: 7002, Labels: map[string]string{"deployment": "web", "namespace": "emojivoto", "tls": "loopback"}}
	base := tapclient.Event{Direction: tapclient.DirectionInbound, ID: tapclient.StreamID{Base: 12}, Source: src, Destination: dst,
		TappedIP: dst.IP, RouteLabels: map[string]string{"route": "GET /books/{id}.json"}, RouteMetaPresent: true}
	req, rsp, end := base, base, base
	req.Kind, req.Method, req.Authority, req.Path = tapclient.KindRequest, "GET", "books:7002", "/books/1.json"
	rsp.Kind, rsp.HTTPStatus, rsp.Latency = tapclient.KindResponse, 200, 2735*time.Microsecond
	end.Kind, end.Latency, end.Duration, end.ResponseBytes = tapclient.KindEnd, 2776*time.Microsecond, 41*time.Microsecond, 154
	return []tapclient.Event{req, rsp, end}
}

func client(t *testing.T, cfg *rest.Config) *tapclient.Client {
	t.Helper()
	c, err := tapclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.HeaderWait = time.Second
	return c
}

func readAll(t *testing.T, s *tapclient.Stream) []tapclient.Event {
	t.Helper()
	defer s.Close()
	s.SetIdleTimeout(10 * time.Second)
	var out []tapclient.Event
	for {
		ev, err := s.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, *ev)
	}
}

func TestThroughKubeAPIServer(t *testing.T) {
	testenv.SkipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	admin := client(t, env.ConfigFor(testenv.AdminUser))
	req := tapclient.Request{Target: web, MaxRPS: 100}

	t.Run("not installed", func(t *testing.T) {
		_, err := admin.Watch(ctx, req)
		if reasonOf(err) != tapclient.ReasonNotInstalled ||
			!strings.Contains(err.Error(), "linkerd-viz is not installed (APIService v1alpha1.tap.linkerd.io missing)") {
			t.Fatalf("Watch: %v", err)
		}
	})

	tlsCfg, err := env.ServerTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	// The tap server's own SubjectAccessReview, done for real.
	sar := func(a taptest.Attributes) bool {
		review := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
			User: a.User, Groups: a.Groups,
			ResourceAttributes: &authzv1.ResourceAttributes{Namespace: a.Namespace, Verb: a.Verb, Group: a.Group,
				Version: a.Version, Resource: a.Resource, Subresource: a.Subresource, Name: a.Name},
		}}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		got, err := env.Clientset.AuthorizationV1().SubjectAccessReviews().Create(sctx, review, metav1.CreateOptions{})
		return err == nil && got.Status.Allowed
	}
	srv := taptest.New(taptest.Options{TLSConfig: tlsCfg, Identify: testenv.RemoteUser, Authorize: sar})
	defer srv.Close()
	srv.Set(web, taptest.Tap{Events: script(), End: true})
	srv.Set(quiet, taptest.Tap{})
	if err := env.RegisterAPIService(ctx, group, version, srv.Port()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := env.UnregisterAPIService(context.Background(), group, version); err != nil {
			t.Error(err)
		}
	}()
	if err := env.Apply(ctx, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: emojivoto\n"); err != nil {
		t.Fatal(err)
	}

	t.Run("admin gets events", func(t *testing.T) {
		s, err := admin.Watch(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, s); !reflect.DeepEqual(got, script()) {
			t.Fatalf("events differ\n got %+v\nwant %+v", got, script())
		}
		seen := srv.Requests()
		if last := seen[len(seen)-1]; last.User != testenv.AdminUser || last.Path != req.URLPath() {
			t.Fatalf("aggregator forwarded %+v", last)
		}
	})

	t.Run("linkerd-error passes through", func(t *testing.T) {
		_, err := admin.Watch(ctx, tapclient.Request{Target: tapclient.Target{Namespace: "emojivoto", Type: "deployment", Name: "nope"}})
		if reasonOf(err) != tapclient.ReasonServer || !strings.HasPrefix(err.Error(), `no pods to tap for type="deployment" name="nope"`) {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("silent tap goes idle, cancel ends cleanly", func(t *testing.T) {
		qctx, qcancel := context.WithCancel(ctx)
		defer qcancel()
		s, err := admin.Watch(qctx, tapclient.Request{Target: quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		s.SetIdleTimeout(300 * time.Millisecond)
		if _, err := s.Next(); err != tapclient.ErrIdle {
			t.Fatalf("Next: %v, want ErrIdle", err)
		}
		qcancel()
		if _, err := s.Next(); err != io.EOF {
			t.Fatalf("Next after cancel: %v, want io.EOF", err)
		}
	})

	// bob comes through a kubeconfig file, like a real user.
	kubeconfig, err := env.KubeconfigFor("bob")
	if err != nil {
		t.Fatal(err)
	}
	bobCfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	bob := client(t, bobCfg)

	t.Run("unprivileged user gets the RBAC message", func(t *testing.T) {
		s, err := bob.Watch(ctx, req)
		// With -count=N, a previous run's RoleBinding may still be cached.
		for deadline := time.Now().Add(10 * time.Second); err == nil && time.Now().Before(deadline); {
			s.Close()
			time.Sleep(200 * time.Millisecond)
			s, err = bob.Watch(ctx, req)
		}
		var te *tapclient.Error
		if !errors.As(err, &te) || te.Reason != tapclient.ReasonForbidden || te.Code != 403 || te.Status == nil {
			t.Fatalf("err = %v", err)
		}
		// Impersonation from the rest.Config is honoured too.
		if _, err := client(t, env.ConfigFor("dave")).Watch(ctx, req); reasonOf(err) != tapclient.ReasonForbidden ||
			!strings.Contains(err.Error(), `User "dave" cannot watch`) {
			t.Errorf("impersonated dave: %v", err)
		}
		for _, want := range []string{`User "bob" cannot watch resource "deployments/tap" in API group "tap.linkerd.io"`,
			`resource "deployments/tap" in namespace emojivoto`, tapclient.DefaultTapAdminClusterRole} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q lacks %q", err, want)
			}
		}
	})

	t.Run("a Role with watch on deployments/tap is enough", func(t *testing.T) {
		rbac := `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: tap-deployments, namespace: emojivoto}
rules:
- apiGroups: [tap.linkerd.io]
  resources: [deployments/tap]
  verbs: [watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bob-tap, namespace: emojivoto}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: tap-deployments}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}
`
		if err := env.Apply(ctx, rbac); err != nil {
			t.Fatal(err)
		}
		// The Env outlives this test (-count=N): leave bob unprivileged.
		defer func() {
			if err := env.Delete(context.Background(), rbac); err != nil {
				t.Error(err)
			}
		}()
		var s *tapclient.Stream
		var err error
		deadline := time.Now().Add(30 * time.Second)
		for {
			s, err = bob.Watch(ctx, req)
			if err == nil || reasonOf(err) != tapclient.ReasonForbidden || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond) // RBAC caches catch up
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, s); len(got) != 3 {
			t.Fatalf("bob got %d events", len(got))
		}
		// The Role does not cover namespace taps.
		_, err = bob.Watch(ctx, tapclient.Request{Target: tapclient.Target{Type: "namespace", Name: "emojivoto"}})
		if reasonOf(err) != tapclient.ReasonForbidden || !strings.Contains(err.Error(), `"tap" and "namespaces/tap"`) {
			t.Fatalf("namespace tap: %v", err)
		}
	})

	t.Run("unavailable backend", func(t *testing.T) {
		srv.Close()
		_, err := admin.Watch(ctx, req)
		if reasonOf(err) != tapclient.ReasonUnavailable {
			t.Fatalf("err = %v", err)
		}
		t.Log(err)
	})
}
