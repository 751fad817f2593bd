// Package source reads Kubernetes objects from YAML or JSON the way kubectl
// does (documents split on "---" lines, List objects flattened, YAML 1.1
// scalars turned into JSON) while keeping where each object and each of its
// fields sits in the file, so findings can point at a line.
package source

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// Document is one object read from a file or from the cluster.
type Document struct {
	// File is the path the object came from ("-" for stdin, "" for objects
	// read from the cluster).
	File string
	// Line is the 1-based line where the object starts (0 if unknown).
	Line int
	// Object is the object as the API server would receive it (JSON types),
	// nil when Err is set.
	Object map[string]interface{}
	// Raw is Object encoded as JSON.
	Raw []byte
	// Err is set when the document is not valid YAML or not an object.
	Err error

	node *yamlv3.Node // mapping node of the object, for positions
}

// Kind, APIVersion, Name and Namespace read the object's type and metadata.
func (d *Document) Kind() string       { return str(d.Object, "kind") }
func (d *Document) APIVersion() string { return str(d.Object, "apiVersion") }
func (d *Document) Name() string       { return str(meta(d.Object), "name") }
func (d *Document) Namespace() string  { return str(meta(d.Object), "namespace") }

func meta(o map[string]interface{}) map[string]interface{} {
	m, _ := o["metadata"].(map[string]interface{})
	return m
}

func str(o map[string]interface{}, key string) string {
	s, _ := o[key].(string)
	return s
}

// Path addresses a field: string elements are map keys, int elements are
// list indexes.
type Path []interface{}

// String renders a path as spec.routes[2].timeout.
func (p Path) String() string {
	var b strings.Builder
	for _, e := range p {
		switch v := e.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(v) + "]")
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(v)
		}
	}
	return b.String()
}

// Append returns p with more elements, never sharing p's backing array.
func (p Path) Append(elems ...interface{}) Path {
	out := make(Path, 0, len(p)+len(elems))
	return append(append(out, p...), elems...)
}

// LineOf returns the line of the field at path: the line of its key for a
// map entry, of the item for a list element. When the path does not exist
// in the file it returns the line of the deepest part that does, and the
// object's line when nothing is known.
func (d *Document) LineOf(path Path) int {
	n := d.node
	best := d.Line
	for _, e := range path {
		n = deref(n)
		if n == nil {
			break
		}
		switch v := e.(type) {
		case string:
			if n.Kind != yamlv3.MappingNode {
				return best
			}
			var next *yamlv3.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == v {
					best = n.Content[i].Line
					next = n.Content[i+1]
				}
			}
			if next == nil {
				return best
			}
			n = next
		case int:
			if n.Kind != yamlv3.SequenceNode || v < 0 || v >= len(n.Content) {
				return best
			}
			n = n.Content[v]
			best = n.Line
		}
	}
	return best
}

func deref(n *yamlv3.Node) *yamlv3.Node {
	for i := 0; n != nil && n.Kind == yamlv3.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yamlv3.DocumentNode && len(n.Content) == 1 {
		return deref(n.Content[0])
	}
	return n
}

// Load reads every object in one YAML or JSON stream. name is used as the
// File of each document. Documents that are empty (only comments) are
// skipped; documents that do not parse are returned with Err set, and the
// rest of the stream is still read. Load fails only if r fails or the
// stream exceeds the bounds of one run (MaxInputBytes, MaxElements).
func Load(name string, r io.Reader) ([]Document, error) {
	return load(name, r, NewBudget())
}

func load(name string, r io.Reader, b *Budget) ([]Document, error) {
	var out []Document
	err := split(b.Reader(r, name), func(c chunk) error {
		if !c.tooBig {
			if err := b.take(estimateElements(c.text), name); err != nil {
				return err
			}
		}
		out = append(out, parseChunk(name, c)...)
		return nil
	})
	if err != nil {
		return nil, readErr(name, err)
	}
	return out, nil
}

type chunk struct {
	text   []byte
	line   int // 1-based line of the chunk's first line in the stream
	tooBig bool
}

// sepHead is how much of a line is kept to recognise a "---" separator.
const sepHead = 256

// split cuts a stream into documents at lines that start with "---" followed
// only by blanks or a comment, as kubectl's YAML reader does, and hands each
// to emit as soon as it ends. A document never holds more than
// MaxDocumentBytes: past that (even inside one endless line) the rest of it
// is skipped while reading and the chunk is marked tooBig.
func split(r io.Reader, emit func(chunk) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	cur := chunk{line: 1}
	lineNo := 0
	lineStart := 0 // offset of the current line in cur.text
	var head []byte
	inLine := false
	for {
		piece, err := br.ReadSlice('\n')
		if len(piece) > 0 {
			if !inLine {
				inLine, lineStart, head = true, len(cur.text), head[:0]
				lineNo++
			}
			if len(head) < sepHead {
				head = append(head, piece[:min(len(piece), sepHead-len(head))]...)
			}
			if !cur.tooBig {
				if len(cur.text)+len(piece) > MaxDocumentBytes {
					cur.tooBig, cur.text = true, nil
				} else {
					cur.text = append(cur.text, piece...)
				}
			}
			if piece[len(piece)-1] == '\n' {
				inLine = false
				if isSeparator(head) {
					if !cur.tooBig {
						cur.text = cur.text[:lineStart]
					}
					if eerr := emit(cur); eerr != nil {
						return eerr
					}
					cur = chunk{line: lineNo + 1}
				}
			}
		}
		switch {
		case err == nil || err == bufio.ErrBufferFull:
		case err == io.EOF:
			if inLine && isSeparator(head) {
				if !cur.tooBig {
					cur.text = cur.text[:lineStart]
				}
				if eerr := emit(cur); eerr != nil {
					return eerr
				}
				cur = chunk{line: 0}
			}
			return emit(cur)
		default:
			return err
		}
	}
}

func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	rest := strings.TrimSpace(string(line[3:]))
	return rest == "" || strings.HasPrefix(rest, "#")
}

func parseChunk(name string, c chunk) []Document {
	bad := func(line int, format string, args ...interface{}) []Document {
		return []Document{{File: name, Line: line, Err: fmt.Errorf(format, args...)}}
	}
	if c.tooBig {
		return bad(c.line, "document is larger than %s (the limit keeps memory bounded; the API server refuses objects above 3 MiB anyway)", human(MaxDocumentBytes))
	}
	var root yamlv3.Node
	if err := yamlv3.Unmarshal(c.text, &root); err != nil {
		return bad(c.line+errLine(err), "not valid YAML: %s", yamlErr(err))
	}
	shiftLines(&root, c.line-1, 0)
	top := deref(&root)
	if top == nil || top.Kind == 0 || (top.Kind == yamlv3.ScalarNode && top.Tag == "!!null") {
		return nil // empty document or comments only
	}
	// kubectl's conversion (YAML 1.1 scalars, e.g. yes/no are booleans).
	js, err := yaml.YAMLToJSON(c.text)
	if err != nil {
		return bad(top.Line, "not valid YAML: %s", yamlErr(err))
	}
	var v interface{}
	if err := json.Unmarshal(js, &v); err != nil {
		return bad(top.Line, "not valid YAML: %v", err)
	}
	obj, ok := v.(map[string]interface{})
	if !ok || top.Kind != yamlv3.MappingNode {
		return bad(top.Line, "a document must be an object (a mapping with apiVersion and kind)")
	}
	return flatten(name, obj, top)
}

// flatten expands List objects (kind List or any *List with items) into their
// items; other objects are returned as they are.
func flatten(name string, obj map[string]interface{}, node *yamlv3.Node) []Document {
	raw, hasItems := obj["items"]
	items, isList := raw.([]interface{})
	kind, _ := obj["kind"].(string)
	if hasItems && raw != nil && !isList && strings.HasSuffix(kind, "List") {
		// Skipping it would report "no ServiceProfiles" for a broken file.
		return []Document{{File: name, Line: node.Line, Err: fmt.Errorf("%s: items must be a list of objects", kind)}}
	}
	if !isList || !strings.HasSuffix(kind, "List") {
		return []Document{newDoc(name, obj, node)}
	}
	itemsNode := child(node, "items")
	var out []Document
	for i, it := range items {
		var n *yamlv3.Node
		if itemsNode != nil && i < len(itemsNode.Content) {
			n = deref(itemsNode.Content[i])
		}
		line := 0
		if n != nil {
			line = n.Line
		}
		m, ok := it.(map[string]interface{})
		if !ok {
			out = append(out, Document{File: name, Line: line, Err: fmt.Errorf("%s item %d is not an object", kind, i)})
			continue
		}
		out = append(out, flatten(name, m, n)...)
	}
	return out
}

func child(n *yamlv3.Node, key string) *yamlv3.Node {
	n = deref(n)
	if n == nil || n.Kind != yamlv3.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

func newDoc(name string, obj map[string]interface{}, node *yamlv3.Node) Document {
	raw, err := json.Marshal(obj)
	if err != nil { // cannot happen for values from json.Unmarshal
		return Document{File: name, Err: err}
	}
	d := Document{File: name, Object: obj, Raw: raw, node: node}
	if node != nil {
		d.Line = node.Line
	}
	return d
}

// FromObject wraps an object read from the cluster (no file, no lines).
// Values are normalised to what encoding/json produces (numbers become
// float64), as for objects read from files.
func FromObject(obj map[string]interface{}) Document {
	raw, err := json.Marshal(obj)
	if err != nil {
		return Document{Err: fmt.Errorf("cannot encode the object: %v", err)}
	}
	var norm map[string]interface{}
	if err := json.Unmarshal(raw, &norm); err != nil {
		return Document{Err: fmt.Errorf("cannot encode the object: %v", err)}
	}
	return Document{Object: norm, Raw: raw}
}

// shiftLines moves every node's line by delta, so that lines count from the
// start of the stream rather than of the document. Aliased nodes are
// visited once.
func shiftLines(n *yamlv3.Node, delta, depth int) {
	if n == nil || depth > 10000 {
		return
	}
	n.Line += delta
	for _, c := range n.Content {
		shiftLines(c, delta, depth+1)
	}
}

// errLine extracts the document-relative line ("yaml: line 3: ...") of a
// parse error, minus one, or 0.
func errLine(err error) int {
	msg := err.Error()
	i := strings.Index(msg, "line ")
	if i < 0 {
		return 0
	}
	j := i + len("line ")
	k := j
	for k < len(msg) && msg[k] >= '0' && msg[k] <= '9' {
		k++
	}
	n, convErr := strconv.Atoi(msg[j:k])
	if convErr != nil || n < 1 {
		return 0
	}
	return n - 1
}

func yamlErr(err error) string {
	return strings.TrimPrefix(strings.TrimPrefix(err.Error(), "yaml: "), "error converting YAML to JSON: yaml: ")
}
