package analyze

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
)

// The ServiceProfile as two readers see it: the API server (the CRD's
// structural schema: types, required fields, pruning of unknown fields) and
// the control plane (the controller's Go types, which disagree with the CRD
// in places, and the webhook's strict decoding). One tree describes both.

type jsonType uint8

const (
	tNone   jsonType = iota // not described by the CRD (kept as is)
	tObject                 // JSON object
	tArray
	tString
	tBool
	tInt
	tNumber
	tIntOrString
)

func (t jsonType) String() string {
	return [...]string{"anything", "an object", "a list", "a string", "a boolean", "an integer", "a number", "an integer or a string"}[t]
}

type goType uint8

const (
	gObject goType = iota
	gArray
	gString
	gBool
	gUint32
	gFloat32
	gQuantity
	gNever // no JSON value decodes (spec.opaquePorts)
)

func (g goType) String() string {
	return [...]string{"an object", "a list", "a string", "a boolean", "an unsigned 32-bit integer", "a 32-bit float", "a quantity (e.g. 1, 500m)", "nothing"}[g]
}

// field describes one position of the object.
type field struct {
	crd    jsonType
	goType goType
	// fields of an object; items of a list.
	fields map[string]*field
	items  *field
	// required by the CRD (a null value counts as absent: the API server
	// drops it, then rejects the object).
	required []string
	// preserve: the CRD keeps unknown fields here
	// (x-kubernetes-preserve-unknown-fields) and says nothing below.
	preserve bool
	// hint is appended to type errors at this position.
	hint string
}

var (
	requestMatch  = &field{goType: gObject} // preserved by the CRD: Go shape only
	responseMatch = &field{goType: gObject}
	spSchema      *field
	metaFields    map[string]bool
)

func init() {
	reqList := &field{goType: gArray, items: requestMatch}
	requestMatch.fields = map[string]*field{
		"all": reqList, "any": reqList, "not": requestMatch,
		"pathRegex": {goType: gString}, "method": {goType: gString},
	}
	rspList := &field{goType: gArray, items: responseMatch}
	status := &field{crd: tObject, goType: gObject, fields: map[string]*field{
		"min": {crd: tInt, goType: gUint32}, "max": {crd: tInt, goType: gUint32},
	}}
	responseMatch.fields = map[string]*field{
		"all": rspList, "any": rspList, "not": responseMatch,
		"status": {goType: gObject, fields: status.fields},
	}
	// Under the CRD, nested conditions are objects kept as they are.
	crdReqList := &field{crd: tArray, goType: gArray, items: &field{crd: tObject, goType: gObject, fields: requestMatch.fields, preserve: true}}
	crdRspList := &field{crd: tArray, goType: gArray, items: &field{crd: tObject, goType: gObject, fields: responseMatch.fields, preserve: true}}
	notHint := "the CRD declares a request condition's `not` as a list while the control plane decodes one object, so no form works at this level: wrap it as `all: [{not: {...}}]`"
	route := &field{crd: tObject, goType: gObject, required: []string{"name", "condition"}, fields: map[string]*field{
		"name": {crd: tString, goType: gString},
		"condition": {crd: tObject, goType: gObject, fields: map[string]*field{
			"method":    {crd: tString, goType: gString},
			"pathRegex": {crd: tString, goType: gString},
			"all":       crdReqList,
			"any":       crdReqList,
			"not":       {crd: tArray, goType: gObject, items: crdReqList.items, hint: notHint},
		}},
		"responseClasses": {crd: tArray, goType: gArray, items: &field{crd: tObject, goType: gObject, fields: map[string]*field{
			"isFailure": {crd: tBool, goType: gBool},
			"condition": {crd: tObject, goType: gObject, fields: map[string]*field{
				"all": crdRspList, "any": crdRspList,
				"not":    {crd: tObject, goType: gObject, fields: responseMatch.fields, preserve: true},
				"status": status,
			}},
		}}},
		"isRetryable": {crd: tBool, goType: gBool},
		"timeout":     {crd: tString, goType: gString},
	}}
	spec := &field{crd: tObject, goType: gObject, fields: map[string]*field{
		"routes": {crd: tArray, goType: gArray, items: route},
		"retryBudget": {crd: tObject, goType: gObject, required: []string{"retryRatio", "minRetriesPerSecond", "ttl"}, fields: map[string]*field{
			"retryRatio":          {crd: tNumber, goType: gFloat32},
			"minRetriesPerSecond": {crd: tInt, goType: gUint32},
			"ttl":                 {crd: tString, goType: gString},
		}},
		"dstOverrides": {crd: tArray, goType: gArray, items: &field{crd: tObject, goType: gObject, fields: map[string]*field{
			"authority": {crd: tString, goType: gString},
			"weight":    {crd: tIntOrString, goType: gQuantity},
		}}},
		"opaquePorts": {crd: tArray, goType: gNever, items: &field{crd: tString, goType: gString},
			hint: "the control plane's Go type is not the CRD's string list; remove it and use the Service's config.linkerd.io/opaque-ports annotation"},
	}}
	spSchema = &field{crd: tObject, goType: gObject, fields: map[string]*field{
		"apiVersion": {crd: tString, goType: gString},
		"kind":       {crd: tString, goType: gString},
		"metadata":   {crd: tObject, goType: gObject},
		"spec":       spec,
	}}
	metaFields = jsonFields(reflect.TypeOf(metav1.ObjectMeta{}))
}

func jsonFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out[name] = true
		}
	}
	return out
}

// schemaIssue is one problem the walker found.
type schemaIssue struct {
	code string
	path source.Path
	msg  string
}

type walker struct {
	out []schemaIssue
}

func (w *walker) add(code string, path source.Path, format string, args ...interface{}) {
	w.out = append(w.out, schemaIssue{code: code, path: path, msg: fmt.Sprintf(format, args...)})
}

// walkSchema checks obj (a ServiceProfile as JSON values) against the CRD
// and the controller's types.
func walkSchema(obj map[string]interface{}) []schemaIssue {
	w := &walker{}
	w.walk(obj, spSchema, source.Path{}, true)
	if m, ok := obj["metadata"].(map[string]interface{}); ok {
		for _, k := range sortedKeys(m) {
			if !metaFields[k] {
				w.add(CodeFieldPruned, source.Path{"metadata", k}, "metadata.%s is not an ObjectMeta field: the API server drops it (kubectl's strict validation rejects it)", k)
			}
		}
	}
	return w.out
}

// walk checks v at path. underCRD is false inside subtrees the CRD keeps
// without a schema (nested conditions), where only the Go shape matters.
func (w *walker) walk(v interface{}, f *field, path source.Path, underCRD bool) {
	if v == nil {
		return // null: the API server drops it, the controller leaves the zero value
	}
	crd := f.crd
	if !underCRD {
		crd = tNone
	}
	if crd != tNone && !crdAccepts(crd, v) {
		msg := fmt.Sprintf("%s must be %s, not %s: the API server rejects the object", pathOr(path), crd, describe(v))
		if f.hint != "" {
			msg += "; " + f.hint
		}
		w.add(CodeSchemaInvalid, path, "%s", msg)
		return
	}
	if problem := goRejects(f.goType, v); problem != "" {
		msg := fmt.Sprintf("%s is %s but the control plane decodes %s: %s", pathOr(path), describe(v), f.goType, problem)
		if f.hint != "" {
			msg += "; " + f.hint
		}
		w.add(CodeUndecodable, path, "%s", msg)
		return
	}
	switch x := v.(type) {
	case map[string]interface{}:
		for _, req := range f.required {
			if x[req] == nil && underCRD {
				w.add(CodeSchemaInvalid, path, "%s has no %s, which the CRD requires: the API server rejects the object", pathOr(path), req)
			}
		}
		if f.fields == nil {
			return // metadata: checked separately
		}
		pruning := underCRD && !f.preserve
		for _, k := range sortedKeys(x) {
			sub, known := f.fields[k]
			p := path.Append(k)
			if !known {
				w.unknown(k, p, pruning)
				continue
			}
			// Below a preserved position the CRD says nothing.
			w.walk(x[k], sub, p, pruning && sub.crd != tNone)
		}
	case []interface{}:
		if f.items == nil {
			return
		}
		for i, it := range x {
			if it == nil && underCRD && f.items.crd != tNone {
				// Unlike a null field, a null list item is not dropped.
				w.add(CodeSchemaInvalid, path.Append(i), "%s must be %s, not null: the API server rejects the object", pathOr(path.Append(i)), f.items.crd)
				continue
			}
			w.walk(it, f.items, path.Append(i), underCRD && f.items.crd != tNone)
		}
	}
}

func (w *walker) unknown(key string, path source.Path, pruned bool) {
	hint := ""
	if known := knownAlias[key]; known != "" {
		hint = "; " + known
	}
	if pruned {
		w.add(CodeFieldPruned, path, "unknown field %s: the API server removes it silently (kubectl's strict validation rejects the object), so it has no effect%s", path, hint)
		return
	}
	w.add(CodeFieldUnknown, path, "unknown field %s: the sp-validator webhook rejects the profile, and without the webhook the control plane ignores the field%s", path, hint)
}

// knownAlias explains unknown fields people actually write.
var knownAlias = map[string]string{
	"isSuccess":  "there is no isSuccess: responses that match no class count as successes; use isFailure: true on the failure classes",
	"retries":    "retries are enabled per route with isRetryable: true, bounded by spec.retryBudget",
	"retryable":  "did you mean isRetryable?",
	"path":       "did you mean pathRegex?",
	"regex":      "did you mean pathRegex?",
	"timeoutMs":  "use timeout with a Go duration, e.g. 300ms",
	"statusCode": "use status: {min: N, max: N}",
}

func crdAccepts(t jsonType, v interface{}) bool {
	switch t {
	case tObject:
		_, ok := v.(map[string]interface{})
		return ok
	case tArray:
		_, ok := v.([]interface{})
		return ok
	case tString:
		_, ok := v.(string)
		return ok
	case tBool:
		_, ok := v.(bool)
		return ok
	case tNumber:
		_, ok := v.(float64)
		return ok
	case tInt:
		n, ok := v.(float64)
		return ok && n == math.Trunc(n)
	case tIntOrString:
		if _, ok := v.(string); ok {
			return true
		}
		n, ok := v.(float64)
		return ok && n == math.Trunc(n)
	}
	return true
}

// goRejects returns why encoding/json cannot put v into a value of type g,
// or "".
func goRejects(g goType, v interface{}) string {
	switch g {
	case gObject:
		if _, ok := v.(map[string]interface{}); !ok {
			return "it cannot decode the object, which hides it from the destination and can stall its ServiceProfile watch"
		}
	case gArray:
		if _, ok := v.([]interface{}); !ok {
			return "it cannot decode the object, which hides it from the destination and can stall its ServiceProfile watch"
		}
	case gString:
		if _, ok := v.(string); !ok {
			return "it cannot decode the object"
		}
	case gBool:
		if _, ok := v.(bool); !ok {
			return "it cannot decode the object"
		}
	case gUint32:
		n, ok := v.(float64)
		if !ok || n != math.Trunc(n) || n < 0 || n > math.MaxUint32 {
			return "it cannot decode the object (use a whole number from 0 to 4294967295)"
		}
	case gFloat32:
		n, ok := v.(float64)
		if !ok || math.Abs(n) > math.MaxFloat32 {
			return "it cannot decode the object"
		}
	case gQuantity:
		switch x := v.(type) {
		case string:
			if _, err := resource.ParseQuantity(x); err != nil {
				return "it cannot decode the object (" + err.Error() + ")"
			}
		case float64:
		default:
			return "it cannot decode the object"
		}
	case gNever:
		return "it cannot decode the object, which hides it from the destination and can stall its ServiceProfile watch"
	}
	return ""
}

func describe(v interface{}) string {
	switch x := v.(type) {
	case map[string]interface{}:
		return "an object"
	case []interface{}:
		return "a list"
	case string:
		return fmt.Sprintf("the string %q", truncate(x, 40))
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case float64:
		return fmt.Sprintf("the number %v", x)
	}
	return fmt.Sprintf("%T", v)
}

func pathOr(p source.Path) string {
	if len(p) == 0 {
		return "the object"
	}
	return p.String()
}

func sortedKeys(m map[string]interface{}) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
