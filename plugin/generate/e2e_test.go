package generate_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-profiles/kubectl-profiles/internal/clitest"
	"github.com/kubectl-profiles/kubectl-profiles/internal/testenv"
)

var env *testenv.Env

// gatewayCRDs are the real Gateway API CRDs of the module in go.mod (with
// their CEL validations), read from the module cache: the API server then
// validates generated routes exactly as a cluster with Gateway API does.
func gatewayCRDs() []string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api").Output()
	if err != nil {
		return nil
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "standard")
	var crds []string
	for _, f := range []string{"gateway.networking.k8s.io_httproutes.yaml", "gateway.networking.k8s.io_grpcroutes.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return nil
		}
		crds = append(crds, string(b))
	}
	return crds
}

var crds = gatewayCRDs()

func TestMain(m *testing.M) {
	os.Exit(testenv.Run(m, testenv.Options{ExtraCRDs: crds}, &env))
}

// Every Gateway route generate and migrate write is accepted by the API
// server with the real Gateway API CRDs (server-side dry run): schema,
// limits (16 rules per route), path characters, duration format.
func TestRoutesPassTheGatewaySchema(t *testing.T) {
	testenv.SkipIfShort(t)
	if len(crds) != 2 {
		t.Skip("the Gateway API CRDs of go.mod are not in the module cache")
	}
	dir := t.TempDir()
	var paths []string
	for i := 0; i < 40; i++ {
		paths = append(paths, fmt.Sprintf(`"/items/%d/{id}": {"get": {"x-linkerd-retryable": %v, "x-linkerd-timeout": "1m30s"}}, "/items/%d/new": {"get": {}}`, i, i%3 == 0, i))
	}
	paths = append(paths, `"/caf\u00e9": {"get": {}}`, `"/a//b": {"get": {}}`)
	big := `{"swagger": "2.0", "info": {"title": "x", "version": "1"}, "paths": {` + strings.Join(paths, ", ") + `}}`
	if err := os.WriteFile(filepath.Join(dir, "big.json"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	plain := strings.NewReplacer(`"x-linkerd-retryable": true, `, "", `"x-linkerd-retryable": false, `, "", `"x-linkerd-timeout": "1m30s"`, "").Replace(big)
	if err := os.WriteFile(filepath.Join(dir, "plain.json"), []byte(plain), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := [][]string{
		{"generate", "svc/plain", "-n", "booksapp", "--open-api", filepath.Join(dir, "plain.json"), "--kind", "httproute"},
		{"generate", "svc/webapp", "-n", "booksapp", "--open-api", "testdata/books-v3.json", "--kind", "httproute", "--port", "7000"},
		{"generate", "svc/petstore", "-n", "booksapp", "--open-api", "testdata/petstore-v2.yaml", "--kind", "httproute", "--rule-timeouts"},
		{"generate", "svc/voting", "-n", "booksapp", "--proto", "testdata/voting.proto", "--kind", "grpcroute"},
		{"generate", "svc/big", "-n", "booksapp", "--open-api", filepath.Join(dir, "big.json"), "--kind", "httproute"},
		{"generate", "svc/big", "-n", "booksapp", "--open-api", filepath.Join(dir, "big.json"), "--kind", "httproute", "--rule-timeouts"},
		{"migrate", "-f", "../migrate/testdata/booksapp-profile.yaml"},
		{"migrate", "-f", "../migrate/testdata/booksapp-profile.yaml", "--rule-timeouts"},
		{"migrate", "-f", "../migrate/testdata/voting-profile.yaml", "--kind", "grpcroute"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := env.Apply(ctx, "apiVersion: v1\nkind: Namespace\nmetadata: {name: booksapp}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: emojivoto}\n"); err != nil {
		t.Fatal(err)
	}
	objects := 0
	for _, args := range runs {
		out, errOut, code := clitest.Run("", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		for _, doc := range strings.Split(out, "\n---\n") {
			var obj map[string]any
			if err := yaml.Unmarshal([]byte(doc), &obj); err != nil || obj == nil {
				t.Fatalf("%v: %v in\n%s", args, err, doc)
			}
			u := &unstructured.Unstructured{Object: obj}
			gvr := schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: strings.ToLower(u.GetKind()) + "s"}
			_, err := env.Dynamic.Resource(gvr).Namespace(u.GetNamespace()).Create(ctx, u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"})
			if err != nil {
				t.Errorf("%v: %s %s rejected: %v", args, u.GetKind(), u.GetName(), err)
			}
			objects++
		}
	}
	if objects < 12 {
		t.Fatalf("only %d objects checked", objects)
	}
}
