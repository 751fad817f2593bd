// Package gen turns API descriptions (OpenAPI 2 and 3, protobuf service
// definitions, recorded traffic) into routes: ServiceProfile routes and Gateway
// API HTTPRoute/GRPCRoute rules, ordered so that no route takes the requests of
// another, and verified with the proxy's own matching rules. It is pure: no
// network, no files (callers pass bytes).
package gen

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Endpoint is one operation of an API: a method and a path template whose
// parameters are written {name}, as OpenAPI writes them.
type Endpoint struct {
	// Method is the HTTP method ("" matches any method).
	Method string
	// Path is the path template, e.g. /books/{id}.
	Path string
	// Retryable comes from x-linkerd-retryable.
	Retryable bool
	// Timeout comes from x-linkerd-timeout (a Go duration as written).
	Timeout string
	// Service and RPC are set for gRPC methods (Path is /Service/RPC).
	Service, RPC string
}

// Name is the route name Linkerd's generators use: "METHOD /path/{param}".
// Invisible characters are written \x{HEX} (paths come from untrusted files).
func (e Endpoint) Name() string {
	name := e.Path
	if e.Method != "" {
		name = e.Method + " " + e.Path
	}
	var b strings.Builder
	for _, r := range name {
		if r != ' ' && !unicode.IsPrint(r) {
			fmt.Fprintf(&b, `\x{%X}`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Literal reports whether the path has no parameter.
func (e Endpoint) Literal() bool { return !strings.ContainsAny(e.Path, "{}") }

// Sample is a concrete path for the template: each parameter becomes
// "p<N>" (N counts parameters from 1), so samples of different templates
// differ from each other and from ordinary literal segments (see Witness
// for when they do not).
func (e Endpoint) Sample() string {
	var b strings.Builder
	n := 0
	s := e.Path
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			break
		}
		n++
		b.WriteString(s[:i])
		fmt.Fprintf(&b, "p%d", n)
		s = s[i+j+1:]
	}
	return b.String()
}

// AnyMethod is the method of sample requests for endpoints without a
// method: a valid token no API uses, so that it meets only the routes that
// match any method.
const AnyMethod = "SAMPLE"

// SampleMethod is the method of the endpoint's sample request.
func (e Endpoint) SampleMethod() string {
	if e.Method == "" {
		return AnyMethod
	}
	return e.Method
}

// Spec is what a reader found: the endpoints in the order of the file and
// notes about what it could not use.
type Spec struct {
	Endpoints []Endpoint
	// Notes are things the reader skipped or changed, one line each.
	Notes []string
}

// Methods in the order Linkerd's generator lists them for a path.
var httpMethods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}

func methodRank(m string) int {
	if i := slices.Index(httpMethods, m); i >= 0 {
		return i
	}
	return len(httpMethods)
}

// checkPath validates a path template from a spec.
func checkPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("path %q does not start with /", p)
	}
	depth := 0
	for _, r := range p {
		switch r {
		case '{':
			depth++
			if depth > 1 {
				return fmt.Errorf("path %q has nested braces", p)
			}
		case '}':
			depth--
			if depth < 0 {
				return fmt.Errorf("path %q has an unmatched }", p)
			}
		case '?', '#':
			return fmt.Errorf("path %q holds %q: a path template has no query or fragment", p, r)
		}
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return fmt.Errorf("path %q holds a space or an invisible character", p)
		}
	}
	if depth != 0 {
		return fmt.Errorf("path %q has an unmatched {", p)
	}
	if strings.Contains(p, "{}") {
		return fmt.Errorf("path %q has an empty parameter {}", p)
	}
	return nil
}

// TemplateSpec is the starting point of --template: typical REST routes of
// one collection to rename and edit.
func TemplateSpec() *Spec {
	return &Spec{Endpoints: []Endpoint{
		{Method: "GET", Path: "/items"},
		{Method: "POST", Path: "/items"},
		{Method: "GET", Path: "/items/{id}", Retryable: true, Timeout: "1s"},
		{Method: "PUT", Path: "/items/{id}"},
		{Method: "DELETE", Path: "/items/{id}"},
		{Method: "GET", Path: "/items/search"},
	}}
}
