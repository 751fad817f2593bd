// Package drift compares the DestinationProfile the control plane should send
// with the one it really sends, field by field.
package drift

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"google.golang.org/protobuf/encoding/protojson"
)

// Change is one field whose served value differs from the expected one.
// Values are compact JSON ("" when the field is absent on that side).
type Change struct {
	Field    string `json:"field"`
	Expected string `json:"expected"`
	Served   string `json:"served"`
}

// Nothing is the value shown for a profile that was not sent at all.
const Nothing = "(nothing sent)"

// ignored fields differ between equivalent answers: profile_ref.kind depends
// on how the object reached the controller's cache (see reference §3.1).
var ignored = map[string]bool{"profileRef.resource.kind": true}

// Compare lists the differences. A nil profile means "nothing is sent".
func Compare(expected, served *pb.DestinationProfile) []Change {
	switch {
	case expected == nil && served == nil:
		return nil
	case expected == nil:
		return []Change{{Field: "profile", Expected: Nothing, Served: compact(served)}}
	case served == nil:
		return []Change{{Field: "profile", Expected: compact(expected), Served: Nothing}}
	}
	var out []Change
	walk("", toTree(expected), toTree(served), &out)
	return out
}

// JSON is m as compact, stable protojson ("null" for nil): protojson
// randomises whitespace, so it is normalised through encoding/json. It is
// the form of the get JSON contract and of drift values.
func JSON(m *pb.DestinationProfile) json.RawMessage {
	if m == nil {
		return json.RawMessage("null")
	}
	b, err := protojson.Marshal(m)
	if err != nil {
		return json.RawMessage("null")
	}
	var v interface{}
	if json.Unmarshal(b, &v) != nil {
		return json.RawMessage("null")
	}
	out, _ := json.Marshal(v)
	return out
}

func compact(m *pb.DestinationProfile) string { return string(JSON(m)) }

func toTree(m *pb.DestinationProfile) map[string]interface{} {
	var v map[string]interface{}
	_ = json.Unmarshal(JSON(m), &v)
	return v
}

func mustJSON(v interface{}) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func walk(path string, a, b interface{}, out *[]Change) {
	if ignored[path] {
		return
	}
	am, aIsMap := a.(map[string]interface{})
	bm, bIsMap := b.(map[string]interface{})
	if aIsMap && bIsMap {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			walk(join(path, k), am[k], bm[k], out)
		}
		return
	}
	al, aIsList := a.([]interface{})
	bl, bIsList := b.([]interface{})
	if aIsList && bIsList {
		n := len(al)
		if len(bl) > n {
			n = len(bl)
		}
		for i := 0; i < n; i++ {
			var x, y interface{}
			if i < len(al) {
				x = al[i]
			}
			if i < len(bl) {
				y = bl[i]
			}
			walk(fmt.Sprintf("%s[%d]", path, i), x, y, out)
		}
		return
	}
	// Absent lists and maps are the same as empty ones in proto3.
	if isEmpty(a) && isEmpty(b) {
		return
	}
	ea, eb := mustJSON(a), mustJSON(b)
	if ea != eb {
		*out = append(*out, Change{Field: path, Expected: ea, Served: eb})
	}
}

func isEmpty(v interface{}) bool {
	switch t := v.(type) {
	case nil:
		return true
	case []interface{}:
		return len(t) == 0
	case map[string]interface{}:
		return len(t) == 0
	}
	return false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return strings.Join([]string{path, key}, ".")
}

// Values compares two values that encode to JSON (e.g. diag/policy's
// Policy) the same way Compare compares profiles: field paths in their JSON
// form ("routes[1].rules[0].timeouts.request"), compact JSON values, ""
// when absent, empty lists and maps equal to absent ones.
func Values(expected, served interface{}) []Change {
	var a, b interface{}
	ea, _ := json.Marshal(expected)
	eb, _ := json.Marshal(served)
	_ = json.Unmarshal(ea, &a)
	_ = json.Unmarshal(eb, &b)
	var out []Change
	walk("", a, b, &out)
	return out
}
