package testenv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

// defaultWait bounds calls whose context has no deadline of its own.
const defaultWait = 60 * time.Second

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Apply creates or updates every object of the multi-document YAML
// manifests, as admin: create when missing, else replace (like `kubectl
// create` / `kubectl replace`; see applyOne). Namespaces go first, then CRDs (waiting
// until they are established and discoverable), then the rest in order.
// Namespaced objects without a namespace go to "default".
func (e *Env) Apply(ctx context.Context, manifests ...string) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	objs, err := decodeManifests(manifests)
	if err != nil {
		return err
	}
	var nss, crds, rest []*unstructured.Unstructured
	for _, o := range objs {
		switch o.GroupVersionKind().GroupKind() {
		case schema.GroupKind{Kind: "Namespace"}:
			nss = append(nss, o)
		case schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}:
			crds = append(crds, o)
		default:
			rest = append(rest, o)
		}
	}
	for _, group := range [][]*unstructured.Unstructured{nss, crds} {
		for _, o := range group {
			if err := e.applyOne(ctx, o); err != nil {
				return err
			}
		}
	}
	if len(crds) > 0 {
		if err := e.waitCRDs(ctx, crds); err != nil {
			return err
		}
		e.mapper.Reset()
	}
	for _, o := range rest {
		if err := e.applyOne(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

// Delete deletes the objects of the manifests in reverse order and ignores
// the ones already gone. It does not wait: without a controller-manager,
// deleted namespaces stay Terminating forever.
func (e *Env) Delete(ctx context.Context, manifests ...string) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	objs, err := decodeManifests(manifests)
	if err != nil {
		return err
	}
	for i := len(objs) - 1; i >= 0; i-- {
		o := objs[i]
		rc, err := e.resourceFor(o)
		if err != nil {
			return err
		}
		policy := metav1.DeletePropagationBackground
		err = rc.Delete(ctx, o.GetName(), metav1.DeleteOptions{PropagationPolicy: &policy})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("testenv: delete %s: %w", describe(o), err)
		}
	}
	return nil
}

func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, defaultWait)
}

// applyOne creates o, or replaces the live object with it. Not server-side
// apply: that refuses unknown fields, while fixtures must be able to show
// the server silently pruning them (as `kubectl apply --validate=false`
// does; the server sends a warning, which client-go logs).
func (e *Env) applyOne(ctx context.Context, o *unstructured.Unstructured) error {
	rc, err := e.resourceFor(o)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		live, err := rc.Get(ctx, o.GetName(), metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err = rc.Create(ctx, o, metav1.CreateOptions{FieldManager: "testenv"})
		case err == nil:
			o = o.DeepCopy()
			o.SetResourceVersion(live.GetResourceVersion())
			_, err = rc.Update(ctx, o, metav1.UpdateOptions{FieldManager: "testenv"})
		}
		// A conflict means someone else wrote in between: read again.
		if (apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)) && attempt < 3 {
			continue
		}
		if err != nil {
			return fmt.Errorf("testenv: apply %s: %w", describe(o), err)
		}
		return nil
	}
}

// resourceFor maps o to a dynamic client, defaulting its namespace. A miss
// refreshes discovery once, for kinds served since the last lookup.
func (e *Env) resourceFor(o *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := o.GroupVersionKind()
	m, err := e.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		e.mapper.Reset()
		m, err = e.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("testenv: %s: %w (is its CRD installed?)", describe(o), err)
	}
	if m.Scope.Name() != meta.RESTScopeNameNamespace {
		return e.Dynamic.Resource(m.Resource), nil
	}
	if o.GetNamespace() == "" {
		o.SetNamespace("default")
	}
	return e.Dynamic.Resource(m.Resource).Namespace(o.GetNamespace()), nil
}

func describe(o *unstructured.Unstructured) string {
	name := o.GetName()
	if ns := o.GetNamespace(); ns != "" {
		name = ns + "/" + name
	}
	return o.GetKind() + " " + name
}

// decodeManifests splits multi-document YAML (or JSON) into objects; List
// kinds are flattened and empty documents skipped.
func decodeManifests(manifests []string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for i, m := range manifests {
		r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(m)))
		for doc := 1; ; doc++ {
			raw, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("testenv: manifest %d: %w", i+1, err)
			}
			js, err := yaml.YAMLToJSON(raw)
			if err != nil {
				return nil, fmt.Errorf("testenv: manifest %d document %d: %w", i+1, doc, err)
			}
			if t := bytes.TrimSpace(js); len(t) == 0 || string(t) == "null" {
				continue
			}
			obj := &unstructured.Unstructured{}
			if err := obj.UnmarshalJSON(js); err != nil {
				return nil, fmt.Errorf("testenv: manifest %d document %d: %w", i+1, doc, err)
			}
			if obj.IsList() {
				err := obj.EachListItem(func(item runtime.Object) error {
					out = append(out, item.(*unstructured.Unstructured))
					return nil
				})
				if err != nil {
					return nil, fmt.Errorf("testenv: manifest %d document %d: %w", i+1, doc, err)
				}
				continue
			}
			if obj.GetName() == "" {
				return nil, fmt.Errorf("testenv: manifest %d document %d: %s has no metadata.name", i+1, doc, obj.GetKind())
			}
			out = append(out, obj)
		}
	}
	return out, nil
}

// waitCRDs waits until every CRD is Established and each served version
// lists its resource in discovery: only then do clients (and RESTMappers)
// see it. Two more waits spare every test a pause later:
//   - the apiserver builds a CRD's storage on first use (about a second per
//     CRD), so each resource is listed once here, all in parallel;
//   - it delays by 2s any create of a custom resource that comes less than 2s
//     after its CRD became Established, so wait out that window.
func (e *Env) waitCRDs(ctx context.Context, crds []*unstructured.Unstructured) error {
	var warm []schema.GroupVersionResource
	var established time.Time
	for _, crd := range crds {
		name := crd.GetName()
		plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		var served []string
		for _, v := range versions {
			vm, _ := v.(map[string]interface{})
			if s, _ := vm["served"].(bool); s {
				if n, _ := vm["name"].(string); n != "" {
					served = append(served, n)
				}
			}
		}
		err := poll(ctx, func() error {
			live, err := e.Dynamic.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if !conditionTrue(live, "Established") {
				return fmt.Errorf("not Established yet")
			}
			if t := conditionTime(live, "Established"); t.After(established) {
				established = t
			}
			for _, v := range served {
				list, err := e.Clientset.Discovery().ServerResourcesForGroupVersion(group + "/" + v)
				if err != nil {
					return err
				}
				if !hasResource(list, plural) {
					return fmt.Errorf("%s not in discovery of %s/%s yet", plural, group, v)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("testenv: CRD %s not ready: %w", name, err)
		}
		if len(served) > 0 {
			warm = append(warm, schema.GroupVersionResource{Group: group, Version: served[0], Resource: plural})
		}
	}
	errs := make([]error, len(warm))
	var wg sync.WaitGroup
	for i, gvr := range warm {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.Dynamic.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 1})
			if err != nil {
				errs[i] = fmt.Errorf("testenv: first list of %s: %w", gvr, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Condition times have one-second resolution and are truncated, like
	// the apiserver's own check.
	select {
	case <-time.After(time.Until(established.Add(2 * time.Second))):
		return nil
	case <-ctx.Done():
		return fmt.Errorf("testenv: waiting for new CRDs to accept creates: %w", ctx.Err())
	}
}

func hasResource(list *metav1.APIResourceList, plural string) bool {
	for _, r := range list.APIResources {
		if r.Name == plural {
			return true
		}
	}
	return false
}

// conditionTrue reports whether status.conditions has type t with status True.
func conditionTrue(o *unstructured.Unstructured, t string) bool {
	_, status, _ := condition(o, t)
	return status == "True"
}

// condition returns reason, status and message of status.conditions[type=t].
func condition(o *unstructured.Unstructured, t string) (reason, status, message string) {
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		cm, _ := c.(map[string]interface{})
		if cm["type"] == t {
			reason, _ = cm["reason"].(string)
			status, _ = cm["status"].(string)
			message, _ = cm["message"].(string)
		}
	}
	return reason, status, message
}

// conditionTime returns lastTransitionTime of status.conditions[type=t].
func conditionTime(o *unstructured.Unstructured, t string) time.Time {
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		cm, _ := c.(map[string]interface{})
		if cm["type"] == t {
			s, _ := cm["lastTransitionTime"].(string)
			ts, _ := time.Parse(time.RFC3339, s)
			return ts
		}
	}
	return time.Time{}
}

// poll runs check every 50ms until it returns nil or ctx ends; the error is
// the last one check returned.
func poll(ctx context.Context, check func() error) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		case <-tick.C:
		}
	}
}
