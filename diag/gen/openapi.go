package gen

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi3"
	"sigs.k8s.io/yaml"
)

// Vendor extensions honoured on operations, as `linkerd profile --open-api`
// reads them.
const (
	ExtRetryable = "x-linkerd-retryable"
	ExtTimeout   = "x-linkerd-timeout"
)

// ParseOpenAPI reads an OpenAPI 2 (swagger: "2.0") or 3 (openapi: 3.x)
// document, in JSON or YAML. Paths are prefixed with the base path
// (basePath in OpenAPI 2, the path of the first server URL in OpenAPI 3) and
// listed in path order, methods in Linkerd's order within a path. External
// references are not followed (no file or network access).
func ParseOpenAPI(data []byte) (spec *Spec, err error) {
	defer func() {
		// The readers are third-party code fed untrusted input: a bug there
		// must be one error line, not a crash.
		if r := recover(); r != nil {
			spec, err = nil, fmt.Errorf("the OpenAPI reader failed on this document: %v", r)
		}
	}()
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("not JSON or YAML: %v", err)
	}
	var head struct {
		Swagger any `json:"swagger"`
		OpenAPI any `json:"openapi"`
	}
	if err := json.Unmarshal(js, &head); err != nil {
		return nil, errors.New("not an OpenAPI document: the top level is not an object")
	}
	switch {
	case head.Swagger != nil:
		if fmt.Sprint(head.Swagger) != "2.0" {
			return nil, fmt.Errorf("swagger: %v is not supported (only 2.0)", head.Swagger)
		}
		return parseV2(js)
	case head.OpenAPI != nil:
		v := fmt.Sprint(head.OpenAPI)
		if !strings.HasPrefix(v, "3.") {
			return nil, fmt.Errorf("openapi: %v is not supported (3.x only)", v)
		}
		return parseV3(js)
	}
	return nil, errors.New("not an OpenAPI document: neither a swagger nor an openapi field at the top level")
}

type opInfo struct {
	method string
	ext    map[string]any
}

func parseV2(js []byte) (*Spec, error) {
	var doc openapi2.T
	if err := json.Unmarshal(js, &doc); err != nil {
		return nil, fmt.Errorf("OpenAPI 2: %v", err)
	}
	base := doc.BasePath
	paths := map[string][]opInfo{}
	for p, item := range doc.Paths {
		if item == nil {
			continue
		}
		for m, op := range item.Operations() {
			if op == nil {
				continue
			}
			paths[p] = append(paths[p], opInfo{strings.ToUpper(m), op.Extensions})
		}
		if len(paths[p]) == 0 {
			paths[p] = nil
		}
	}
	return collect(base, paths)
}

func parseV3(js []byte) (*Spec, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(js)
	if err != nil {
		return nil, fmt.Errorf("OpenAPI 3: %v", err)
	}
	base := ""
	if len(doc.Servers) > 0 && doc.Servers[0] != nil {
		if u, err := url.Parse(doc.Servers[0].URL); err == nil && !strings.ContainsAny(u.Path, "{}") {
			base = u.Path
		}
	}
	paths := map[string][]opInfo{}
	if doc.Paths != nil {
		for p, item := range doc.Paths.Map() {
			if item == nil {
				continue
			}
			for m, op := range item.Operations() {
				if op == nil {
					continue
				}
				paths[p] = append(paths[p], opInfo{strings.ToUpper(m), op.Extensions})
			}
			if len(paths[p]) == 0 {
				paths[p] = nil
			}
		}
	}
	return collect(base, paths)
}

func collect(base string, paths map[string][]opInfo) (*Spec, error) {
	keys := make([]string, 0, len(paths))
	for p := range paths {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	spec := &Spec{}
	for _, p := range keys {
		full := joinBase(base, p)
		if err := checkPath(full); err != nil {
			return nil, err
		}
		ops := paths[p]
		if len(ops) == 0 {
			spec.Notes = append(spec.Notes, fmt.Sprintf("path %s has no operation: no route", full))
			continue
		}
		sort.Slice(ops, func(i, j int) bool { return methodRank(ops[i].method) < methodRank(ops[j].method) })
		for _, op := range ops {
			e := Endpoint{Method: op.method, Path: full}
			if v, ok := op.ext[ExtRetryable]; ok {
				b, isBool := v.(bool)
				if !isBool {
					return nil, fmt.Errorf("%s on %s: %s must be true or false, not %v", ExtRetryable, e.Name(), ExtRetryable, v)
				}
				e.Retryable = b
			}
			if v, ok := op.ext[ExtTimeout]; ok {
				s, isString := v.(string)
				if !isString {
					return nil, fmt.Errorf("%s on %s: %s must be a duration string such as 500ms or 10s, not %v", ExtTimeout, e.Name(), ExtTimeout, v)
				}
				if d, err := time.ParseDuration(s); err != nil || d < 0 {
					return nil, fmt.Errorf("%s on %s: %q is not a non-negative Go duration (use e.g. 500ms, 10s, 1m30s)", ExtTimeout, e.Name(), s)
				}
				e.Timeout = s
			}
			spec.Endpoints = append(spec.Endpoints, e)
		}
	}
	if len(spec.Endpoints) == 0 {
		return nil, errors.New("the document has no operations under paths")
	}
	return spec, nil
}

// joinBase prefixes p with the base path, as Linkerd's generator does with
// basePath (a trailing slash of the base is not doubled).
func joinBase(base, p string) string {
	if base == "" || base == "/" {
		return p
	}
	out := path.Join(base, p)
	if strings.HasSuffix(p, "/") && !strings.HasSuffix(out, "/") {
		out += "/"
	}
	return out
}
