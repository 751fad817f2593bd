package migrate_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-profiles/kubectl-profiles/internal/clitest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	os.Exit(testenv.Run(m, testenv.Options{}, &env))
}

const clusterFixtures = `
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop
  annotations: {balancer.linkerd.io/failure-accrual: consecutive, timeout.linkerd.io/request: 5s}
spec:
  ports: [{name: http, port: 8080}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: cart.shop.svc.cluster.local, namespace: shop}
spec:
  routes:
  - name: GET /cart/{id}
    condition: {method: GET, pathRegex: '/cart/[^/]+'}
    isRetryable: true
  - name: POST /cart
    condition: {method: POST, pathRegex: /cart}
    timeout: 2s
---
apiVersion: v1
kind: Namespace
metadata: {name: frontend}
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: cart.shop.svc.cluster.local, namespace: frontend}
spec:
  routes:
  - name: everything
    condition: {pathRegex: '.*'}
`

// svc/NAME reads the ServiceProfile and the Service from a real API server:
// the Service's failure-accrual annotation shows up in the report (circuit
// breaking starts to apply), and a Service without a profile is one error.
func TestMigrateFromCluster(t *testing.T) {
	testenv.SkipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.Apply(ctx, clusterFixtures); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := clitest.Run("", "--kubeconfig", env.Kubeconfig, "migrate", "svc/cart", "-n", "shop", "--port", "8080")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	clitest.Golden(t, "testdata/cluster.golden", "== stdout\n"+out+"== stderr\n"+errOut)
	for _, want := range []string{
		"circuit breaking starts to apply: the Service sets balancer.linkerd.io/failure-accrual=consecutive",
		"clients in namespace frontend use their own ServiceProfile frontend/cart.shop.svc.cluster.local",
		"the Service's own timeout.linkerd.io/request=5s start to apply",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("report misses %q:\n%s", want, errOut)
		}
	}

	_, errOut, code = clitest.Run("", "--kubeconfig", env.Kubeconfig, "migrate", "svc/nothing", "-n", "shop")
	if code != 1 || !strings.Contains(errOut, "no ServiceProfile nothing.shop.svc.cluster.local in namespace shop") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("exit %d: %q", code, errOut)
	}
}
