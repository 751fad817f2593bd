package cli

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// Strings the API server accepts (any valid UTF-8), which a terminal or a
// YAML reader could choke on.
var hostile = []string{
	"del\x7f", "c1\u009b31m", "nel\u0085", "bidi\u202eevil", "iso\u2066x\u2069", "zw\u200bsp", "bom\ufeff",
	"nb\u00a0sp", "ls\u2028ps\u2029", "esc\x1b[31m", "nul\x00", "bell\a", "tab\tx", "multi\nline", "both\nc1\u009b",
	"private\U000F0000", "tag\U000E0001", "emoji😀", "café", "yes", "1", "", " lead", "back\\slash", "quote\"",
}

// noRawUnsafe fails when out holds a character that Unsafe says must never
// be printed raw (newlines and the indentation's spaces aside).
func noRawUnsafe(t *testing.T, what string, out []byte) {
	t.Helper()
	for i, r := range string(out) {
		if r != '\n' && Unsafe(r) {
			t.Errorf("%s: raw %U at byte %d:\n%s", what, r, i, out)
			return
		}
	}
	if !utf8.Valid(out) {
		t.Errorf("%s: invalid UTF-8", what)
	}
}

// Every string survives -o yaml and -o json (as keys and as values), and
// comes back the same through kubectl's YAML reader and encoding/json;
// nothing a terminal acts on is printed raw. DEL and C1 characters used to
// fail the whole YAML output ("yaml: control characters are not allowed")
// and were raw in JSON.
func TestEveryStringSurvivesEveryFormat(t *testing.T) {
	in := map[string]interface{}{}
	var list []interface{}
	for i, s := range hostile {
		in["v"+strings.Repeat("x", i)] = s
		in["k"+s] = i
		list = append(list, map[string]interface{}{"name": s})
	}
	in["list"] = list
	var want interface{}
	js, _ := json.Marshal(in)
	_ = json.Unmarshal(js, &want)

	var y bytes.Buffer
	if err := WriteYAML(&y, in); err != nil {
		t.Fatalf("WriteYAML: %v", err)
	}
	noRawUnsafe(t, "yaml", y.Bytes())
	var gotY interface{}
	if err := yaml.Unmarshal(y.Bytes(), &gotY); err != nil {
		t.Fatalf("kubectl's reader cannot read the YAML: %v\n%s", err, y.String())
	}
	if !reflect.DeepEqual(gotY, want) {
		t.Errorf("YAML round trip differs:\n%s", y.String())
	}
	if !strings.Contains(y.String(), `"iso\u2066x\u2069"`) || !strings.Contains(y.String(), `"c1\x9B31m"`) {
		t.Errorf("escapes missing:\n%s", y.String())
	}

	var j bytes.Buffer
	if err := WriteJSON(&j, in); err != nil {
		t.Fatal(err)
	}
	noRawUnsafe(t, "json", j.Bytes())
	var gotJ interface{}
	if err := json.Unmarshal(j.Bytes(), &gotJ); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotJ, want) {
		t.Errorf("JSON round trip differs:\n%s", j.String())
	}
	for _, esc := range []string{`"c1\u009b31m"`, `"del\u007f"`, `"bidi\u202eevil"`, `"private\udb80\udc00"`} {
		if !strings.Contains(j.String(), esc) {
			t.Errorf("JSON lacks %s", esc)
		}
	}
}

// Ordinary values print as before (sorted keys, kubectl's layout).
func TestWriteYAMLLayout(t *testing.T) {
	var b bytes.Buffer
	v := map[string]interface{}{"spec": map[string]interface{}{"routes": []interface{}{
		map[string]interface{}{"name": "GET /books/{id}", "condition": map[string]interface{}{"method": "GET", "pathRegex": `/books/\d+`}},
	}, "empty": []interface{}{}, "none": nil, "obj": map[string]interface{}{}}, "apiVersion": "linkerd.io/v1alpha2", "n": 7000, "big": 1000000, "ratio": 0.2, "on": "on", "t": true}
	if err := WriteYAML(&b, v); err != nil {
		t.Fatal(err)
	}
	old, _ := yaml.Marshal(v)
	if b.String() != string(old) {
		t.Errorf("layout changed:\n--- got\n%s--- sigs.k8s.io/yaml\n%s", b.String(), old)
	}
}

func FuzzAppendSafeJSON(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		js, _ := json.Marshal(map[string]string{s: s})
		out := AppendSafeJSON(nil, js)
		noRawUnsafe(t, "json", out)
		var back map[string]string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		var want map[string]string
		_ = json.Unmarshal(js, &want)
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("%q: round trip differs", s)
		}
	})
}
