package check_test

// Differential test: every ServiceProfile of the test corpus goes to the real
// API server (with the ServiceProfile CRD installed) as a server-side dry-run
// create, and `check` must predict what the API server does:
//   - schema-invalid or name-invalid exactly when it rejects the object
//     (fieldValidation=Ignore, so unknown fields alone do not reject);
//   - field-pruned exactly when it reports unknown fields it strips
//     (fieldValidation=Warn: the "unknown field" warnings).

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-profiles/kubectl-profiles/internal/testenv"
)

// corpusDoc is one ServiceProfile of the corpus, as YAML text.
type corpusDoc struct {
	where string // file:document for messages
	text  string
	obj   map[string]interface{}
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// corpusProfiles collects the ServiceProfiles of the corpus files and of this
// package's cluster fixtures. Items of a List become documents of their own;
// documents that are not YAML objects (yaml-invalid cases) cannot be sent and
// are skipped.
func corpusProfiles(t *testing.T) []corpusDoc {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpus, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus in %s: %v", corpus, err)
	}
	texts := map[string]string{"plugin/check e2e fixtures": fixtures, "probes": dryRunProbes}
	for _, f := range append(files, "../tapsession/testdata/webapp-sp.yaml", "../../cmd/profiles-demo/cluster.yaml") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts[f] = string(b)
	}
	var out []corpusDoc
	for name, text := range texts {
		for i, part := range docSeparator.Split(text, -1) {
			var obj map[string]interface{}
			if err := yaml.Unmarshal([]byte(part), &obj); err != nil || obj == nil {
				continue
			}
			where := fmt.Sprintf("%s#%d", filepath.Base(name), i)
			if obj["kind"] == "List" {
				items, _ := obj["items"].([]interface{})
				for j, it := range items {
					m, ok := it.(map[string]interface{})
					if !ok || m["kind"] != "ServiceProfile" {
						continue
					}
					b, _ := yaml.Marshal(m)
					out = append(out, corpusDoc{where: fmt.Sprintf("%s.items[%d]", where, j), text: string(b), obj: m})
				}
				continue
			}
			if obj["kind"] == "ServiceProfile" {
				out = append(out, corpusDoc{where: where, text: part, obj: obj})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].where < out[j].where })
	return out
}

// dryRunProbes are edge cases of the API server's handling that the corpus
// files do not cover: nulls where the CRD requires a value, a missing ttl,
// unknown fields at the top level and in metadata, empty objects.
const dryRunProbes = `
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: null-condition.dryrun.svc.cluster.local}
spec:
  routes: [{name: r, condition: null}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: null-name.dryrun.svc.cluster.local}
spec:
  routes: [{name: null, condition: {method: GET}}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: no-ttl.dryrun.svc.cluster.local}
spec:
  routes: [{name: r, condition: {method: GET}}]
  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10}
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: null-ttl.dryrun.svc.cluster.local}
spec:
  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: null}
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: null-routes.dryrun.svc.cluster.local}
spec:
  routes: null
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: null-item.dryrun.svc.cluster.local}
spec:
  routes: [null]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: no-spec.dryrun.svc.cluster.local}
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: status.dryrun.svc.cluster.local, labels: {a: b}, color: blue}
spec:
  routes: [{name: r, condition: {method: GET}, responseClasses: [{condition: {status: {min: 500}}, isSuccess: true}]}]
status: {ready: true}
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: empty-status.dryrun.svc.cluster.local}
spec:
  routes: [{name: r, condition: {method: GET}, responseClasses: [{condition: {status: {}}}]}]
  dstOverrides: [{}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: big-status.dryrun.svc.cluster.local}
spec:
  routes: [{name: r, condition: {method: GET}, responseClasses: [{condition: {status: {min: 3000000000}}}]}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: float-min.dryrun.svc.cluster.local}
spec:
  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 1.5, ttl: 1s}
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: null-in-all.dryrun.svc.cluster.local}
spec:
  routes: [{name: r, condition: {all: [null]}}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: null-in-preserved.dryrun.svc.cluster.local}
spec:
  routes: [{name: s, condition: {any: [{all: [null]}]}, timeout: null}]
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: null-override.dryrun.svc.cluster.local}
spec:
  dstOverrides: [null]
---
apiVersion: linkerd.io/v1alpha1
kind: ServiceProfile
metadata: {name: old-empty-routes.dryrun.svc.cluster.local}
spec:
  routes: []
`

type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

func TestDryRunMatchesAPIServer(t *testing.T) {
	testenv.SkipIfShort(t)
	docs := corpusProfiles(t)
	if len(docs) < 40 {
		t.Fatalf("only %d ServiceProfiles found in the corpus", len(docs))
	}
	t.Logf("%d ServiceProfiles", len(docs))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const ns = "dryrun" // dry runs never collide with objects other tests create
	if _, err := env.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i, d := range docs {
		// What check predicts, from the document as written.
		file := filepath.Join(dir, fmt.Sprintf("doc%d.yaml", i))
		if err := os.WriteFile(file, []byte(d.text), 0o600); err != nil {
			t.Fatal(err)
		}
		out, errOut, _ := run(t, "", "check", "-f", file, "-n", ns, "-o", "json")
		if strings.TrimSpace(out) == "" {
			t.Fatalf("%s: check printed nothing: %s", d.where, errOut)
		}
		codes := map[string]bool{}
		for _, f := range decode(t, out).Findings {
			codes[f.Code] = true
		}
		predictRejected := codes["schema-invalid"] || codes["name-invalid"]
		predictPruned := codes["field-pruned"]

		// What the API server does.
		rejectErr := dryRun(ctx, t, d.obj, ns, "Ignore", nil)
		var w warnings
		warnErr := dryRun(ctx, t, d.obj, ns, "Warn", &w)
		var unknown []string
		for _, m := range w.msgs {
			if strings.Contains(m, "unknown field") {
				unknown = append(unknown, m)
			}
		}
		if predictRejected != (rejectErr != nil) {
			t.Errorf("%s: check predicts rejected=%v (codes %v); the API server: %v", d.where, predictRejected, keys(codes), rejectErr)
		}
		// A rejected object is never stored, so nothing is pruned from it.
		if rejectErr == nil && predictPruned != (len(unknown) > 0) {
			t.Errorf("%s: check predicts field-pruned=%v (codes %v); the API server warns %q (err %v)", d.where, predictPruned, keys(codes), unknown, warnErr)
		}
	}
}

// dryRun creates obj in ns with dryRun=All and the given field validation.
func dryRun(ctx context.Context, t *testing.T, obj map[string]interface{}, ns, validation string, w rest.WarningHandler) error {
	t.Helper()
	u := &unstructured.Unstructured{Object: deepCopy(obj)}
	u.SetNamespace(ns)
	gv, err := schema.ParseGroupVersion(u.GetAPIVersion())
	if err != nil {
		return err
	}
	cfg := rest.CopyConfig(env.Config)
	if w != nil {
		cfg.WarningHandler = w
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = dyn.Resource(gv.WithResource("serviceprofiles")).Namespace(ns).Create(ctx, u,
		metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: validation})
	return err
}

func deepCopy(m map[string]interface{}) map[string]interface{} {
	return (&unstructured.Unstructured{Object: m}).DeepCopy().Object
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
