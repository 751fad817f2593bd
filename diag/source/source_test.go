package source

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const multi = `# leading comment
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: a.ns.svc.cluster.local
  namespace: ns
spec:
  routes:
  - name: one
    condition: {method: GET}
  - name: two
    condition:
      pathRegex: /x
    isRetryable: yes
---
# only a comment
---   # separator with a comment
apiVersion: v1
kind: List
items:
- apiVersion: linkerd.io/v1alpha2
  kind: ServiceProfile
  metadata: {name: b}
- apiVersion: v1
  kind: Service
  metadata: {name: c}
---
- not an object
---
key: [unclosed
`

func TestLoadMultiDocument(t *testing.T) {
	docs, err := Load("f.yaml", strings.NewReader(multi))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 5 {
		for _, d := range docs {
			t.Logf("%+v", d)
		}
		t.Fatalf("got %d documents, want 5 (one SP, two list items, two errors)", len(docs))
	}
	a := docs[0]
	if a.Err != nil || a.Kind() != "ServiceProfile" || a.Name() != "a.ns.svc.cluster.local" || a.Namespace() != "ns" || a.Line != 2 {
		t.Errorf("first doc = %+v err %v", a, a.Err)
	}
	cases := []struct {
		path Path
		want int
	}{
		{Path{"spec", "routes", 0}, 9},
		{Path{"spec", "routes", 1, "condition", "pathRegex"}, 13},
		{Path{"spec", "routes", 1, "isRetryable"}, 14},
		{Path{"spec", "routes", 1, "timeout"}, 11}, // missing: deepest known part (the route)
		{Path{"spec", "routes", 7}, 8},             // out of range: the key "routes"
		{Path{}, 2},
	}
	for _, c := range cases {
		if got := a.LineOf(c.path); got != c.want {
			t.Errorf("LineOf(%s) = %d, want %d", c.path, got, c.want)
		}
	}
	// kubectl reads YAML 1.1: `yes` is a boolean.
	r := a.Object["spec"].(map[string]interface{})["routes"].([]interface{})[1].(map[string]interface{})
	if r["isRetryable"] != true {
		t.Errorf("isRetryable: yes decoded as %#v, want true as kubectl does", r["isRetryable"])
	}
	if b := docs[1]; b.Name() != "b" || b.Line != 21 || b.Err != nil {
		t.Errorf("list item 0 = name %q line %d err %v", b.Name(), b.Line, b.Err)
	}
	if c := docs[2]; c.Kind() != "Service" || c.Line != 24 {
		t.Errorf("list item 1 = kind %q line %d", c.Kind(), c.Line)
	}
	if d := docs[3]; d.Err == nil || d.Line != 28 || !strings.Contains(d.Err.Error(), "must be an object") {
		t.Errorf("sequence document: line %d err %v", d.Line, d.Err)
	}
	if e := docs[4]; e.Err == nil || e.Line != 30 || !strings.Contains(e.Err.Error(), "not valid YAML") {
		t.Errorf("broken document: line %d err %v", e.Line, e.Err)
	}
}

func TestLoadJSONAndAliases(t *testing.T) {
	docs, err := Load("x.json", strings.NewReader(`{"apiVersion":"linkerd.io/v1alpha2","kind":"ServiceProfile","metadata":{"name":"j"}}`))
	if err != nil || len(docs) != 1 || docs[0].Name() != "j" || docs[0].Line != 1 {
		t.Fatalf("json: %+v %v", docs, err)
	}
	docs, err = Load("a.yaml", strings.NewReader("kind: X\nbase: &b\n  k: 1\nuse: *b\n"))
	if err != nil || len(docs) != 1 {
		t.Fatal(err)
	}
	if got := docs[0].LineOf(Path{"use", "k"}); got != 3 {
		t.Errorf("line through alias = %d, want 3", got)
	}
	if docs[0].Object["use"].(map[string]interface{})["k"] != float64(1) {
		t.Errorf("alias not expanded: %#v", docs[0].Object)
	}
}

func TestLoadEmpty(t *testing.T) {
	for _, in := range []string{"", "\n", "# c\n", "---\n---\n", "null\n"} {
		docs, err := Load("e", strings.NewReader(in))
		if err != nil || len(docs) != 0 {
			t.Errorf("%q: %d docs, err %v", in, len(docs), err)
		}
	}
}

func TestSeparatorRules(t *testing.T) {
	// "--- x" is not a separator for kubectl; "----" neither (it is text).
	docs, _ := Load("s", strings.NewReader("a: 1\n---\nb: 2\n--- # c\nc: 3\n"))
	if len(docs) != 3 {
		t.Errorf("got %d docs, want 3", len(docs))
	}
	if docs[2].Line != 5 {
		t.Errorf("third doc line = %d, want 5", docs[2].Line)
	}
}

func TestLoadPaths(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b.yaml", "kind: B\n")
	write("a/z.yml", "kind: Z\n")
	write("a/readme.txt", "kind: Ignored\n")
	write(".hidden/h.yaml", "kind: Hidden\n")
	write("c.json", `{"kind":"C"}`)
	docs, err := LoadPaths([]string{dir, "-", "-"}, strings.NewReader("kind: Stdin\n"))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, d := range docs {
		kinds = append(kinds, d.Kind()+"@"+filepath.Base(d.File))
	}
	want := "Z@z.yml B@b.yaml C@c.json Stdin@-"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// An explicitly named file is read whatever its extension.
	docs, err = LoadPaths([]string{filepath.Join(dir, "a/readme.txt")}, nil)
	if err != nil || len(docs) != 1 {
		t.Errorf("explicit file: %v %v", docs, err)
	}
	_, err = LoadPaths([]string{filepath.Join(dir, "missing.yaml")}, nil)
	if err == nil || !strings.Contains(err.Error(), "missing.yaml") || strings.Count(err.Error(), "missing.yaml") != 1 {
		t.Errorf("missing file error = %v", err)
	}
}

func TestPathString(t *testing.T) {
	if got := (Path{"spec", "routes", 2, "condition", "all", 0}).String(); got != "spec.routes[2].condition.all[0]" {
		t.Errorf("got %s", got)
	}
	p := Path{"a"}
	q := p.Append("b")
	r := p.Append("c")
	if q.String() != "a.b" || r.String() != "a.c" {
		t.Errorf("Append shares storage: %s %s", q, r)
	}
}

func FuzzLoad(f *testing.F) {
	f.Add(multi)
	f.Add("a: &x [*x]\n")
	f.Add("kind: List\nitems: [1, {kind: A}]\n")
	f.Add("{\"a\": \"\\u0000\"}")
	f.Add("---\n--- #\n- a\n")
	f.Fuzz(func(t *testing.T, in string) {
		docs, err := Load("fuzz", strings.NewReader(in))
		if err != nil {
			t.Fatal(err) // a strings.Reader never fails
		}
		for _, d := range docs {
			if d.Err == nil && d.Object == nil {
				t.Fatal("document without object nor error")
			}
			_ = d.LineOf(Path{"spec", "routes", 0, "condition"})
			_ = d.Name()
		}
	})
}

func TestFromObjectNormalisesNumbers(t *testing.T) {
	d := FromObject(map[string]interface{}{"kind": "ServiceProfile", "spec": map[string]interface{}{"n": int64(3)}})
	if d.Err != nil || d.File != "" || d.Line != 0 {
		t.Fatalf("%+v", d)
	}
	if n := d.Object["spec"].(map[string]interface{})["n"]; n != float64(3) {
		t.Errorf("int64 kept as %T, want float64 like objects from files", n)
	}
	if d.LineOf(Path{"spec", "n"}) != 0 {
		t.Error("cluster objects have no lines")
	}
}

func TestListWithNonListItemsIsAnError(t *testing.T) {
	docs, err := Load("l.yaml", strings.NewReader("apiVersion: v1\nkind: List\nitems: 7\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Err == nil || !strings.Contains(docs[0].Err.Error(), "items must be a list") {
		t.Fatalf("docs = %+v", docs)
	}
}
