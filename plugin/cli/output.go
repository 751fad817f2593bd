package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	yamlv3 "go.yaml.in/yaml/v3"
)

// Output formats shared by the commands.
const (
	OutputTable = "table"
	OutputWide  = "wide"
	OutputJSON  = "json"
	OutputYAML  = "yaml"
)

// CheckOutput validates -o against the formats a command supports.
func CheckOutput(value string, allowed ...string) (string, error) {
	if value == "" {
		return allowed[0], nil
	}
	for _, a := range allowed {
		if value == a {
			return value, nil
		}
	}
	return "", Usagef("unknown output format %q: use one of %s", value, strings.Join(allowed, ", "))
}

// WriteJSON prints v as indented JSON. Every string the API server accepts
// survives, and characters that are Unsafe are written as \u escapes
// (encoding/json leaves DEL, C1 and bidi controls raw).
func WriteJSON(w io.Writer, v interface{}) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(AppendSafeJSON(nil, buf.Bytes()))
	return err
}

// AppendSafeJSON appends the JSON text src to dst with every Unsafe
// character outside ASCII's C0 range written as a \u escape. Such
// characters can only sit inside strings (JSON's structure is ASCII), and
// encoding/json already escapes C0 controls there, so the result decodes to
// the same value. Text without them is appended as is.
func AppendSafeJSON(dst, src []byte) []byte {
	start := 0
	for i := 0; i < len(src); {
		c := src[i]
		if c < utf8.RuneSelf && c != 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		if c != 0x7f && (!Unsafe(r) || r == utf8.RuneError && size == 1) {
			i += size
			continue
		}
		dst = append(dst, src[start:i]...)
		dst = appendJSONEscape(dst, r)
		i += size
		start = i
	}
	return append(dst, src[start:]...)
}

func appendJSONEscape(dst []byte, r rune) []byte {
	if r > 0xffff {
		r1, r2 := utf16.EncodeRune(r)
		dst = appendJSONEscape(dst, r1)
		return appendJSONEscape(dst, r2)
	}
	return fmt.Appendf(dst, `\u%04x`, r)
}

// WriteYAML prints v as YAML, through its JSON form so that the JSON
// contract and the YAML output always agree (keys sorted, as kubectl
// does). Every string survives: one that holds an Unsafe character (other
// than a newline or a tab) is written double-quoted, with those characters
// as \x, \u or \U escapes, which YAML readers decode back.
func WriteYAML(w io.Writer, v interface{}) error {
	js, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var tree interface{}
	if err := dec.Decode(&tree); err != nil {
		return err
	}
	node, err := yamlNode(tree)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := yamlv3.NewEncoder(&buf)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(node); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err = w.Write(escapeYAMLRunes(buf.Bytes()))
	return err
}

// yamlNode turns a JSON value (from a decoder with UseNumber) into a YAML
// node.
func yamlNode(v interface{}) (*yamlv3.Node, error) {
	switch x := v.(type) {
	case map[string]interface{}:
		n := &yamlv3.Node{Kind: yamlv3.MappingNode, Tag: "!!map"}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			val, err := yamlNode(x[k])
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, stringNode(k), val)
		}
		return n, nil
	case []interface{}:
		n := &yamlv3.Node{Kind: yamlv3.SequenceNode, Tag: "!!seq"}
		for _, it := range x {
			val, err := yamlNode(it)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, val)
		}
		return n, nil
	case string:
		return stringNode(x), nil
	case json.Number:
		n := &yamlv3.Node{}
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n, n.Encode(i)
		}
		if u, err := strconv.ParseUint(string(x), 10, 64); err == nil {
			return n, n.Encode(u)
		}
		f, err := x.Float64()
		if err != nil {
			return nil, err
		}
		return n, n.Encode(f)
	case bool:
		n := &yamlv3.Node{}
		return n, n.Encode(x)
	case nil:
		return &yamlv3.Node{Kind: yamlv3.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, fmt.Errorf("cannot write %T as YAML", v)
}

func stringNode(s string) *yamlv3.Node {
	n := &yamlv3.Node{}
	_ = n.Encode(s) // a string always encodes; the encoder picks the style
	if strings.IndexFunc(s, yamlUnsafe) >= 0 {
		n.Style = yamlv3.DoubleQuotedStyle
	}
	return n
}

func yamlUnsafe(r rune) bool { return r != '\n' && r != '\t' && Unsafe(r) }

// escapeYAMLRunes escapes the Unsafe characters the YAML emitter leaves raw
// because YAML considers them printable (bidi controls, zero-width
// characters, non-breaking spaces). They only occur in strings that
// stringNode made double-quoted, where \u and \U escapes are valid.
func escapeYAMLRunes(src []byte) []byte {
	var out []byte
	start := 0
	for i := 0; i < len(src); {
		if src[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		if !Unsafe(r) {
			i += size
			continue
		}
		out = append(out, src[start:i]...)
		if r > 0xffff {
			out = fmt.Appendf(out, `\U%08x`, r)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += size
		start = i
	}
	if out == nil {
		return src
	}
	return append(out, src[start:]...)
}
