package template

import (
	"cmp"
	"slices"
	"strings"
)

// Defaults for zero (or negative) Options fields.
const (
	DefaultMaxTemplates   = 1000
	DefaultMaxExamples    = 3
	DefaultMaxStatusCodes = 8
)

// MaxMethodLen bounds the method strings that get their own group; requests
// with longer (non-standard) methods are counted in the other bucket.
const MaxMethodLen = 32

// The other bucket collects requests that did not get a group of their own.
const (
	OtherMethod   = "*"
	OtherTemplate = "(other)"
)

// Options bounds a Grouper's memory.
type Options struct {
	// MaxTemplates is the number of distinct (method, template) groups kept;
	// requests for further templates are counted in the other bucket.
	MaxTemplates int
	// MaxExamples is the number of distinct example paths kept per group.
	MaxExamples int
	// MaxStatusCodes is the number of distinct status codes counted per
	// group; further codes are counted in Group.OtherStatus.
	MaxStatusCodes int
}

func (o Options) withDefaults() Options {
	if o.MaxTemplates <= 0 {
		o.MaxTemplates = DefaultMaxTemplates
	}
	if o.MaxExamples <= 0 {
		o.MaxExamples = DefaultMaxExamples
	}
	if o.MaxStatusCodes <= 0 {
		o.MaxStatusCodes = DefaultMaxStatusCodes
	}
	return o
}

// StatusCount is how many responses of a group had one status code. Code 0
// means no response was seen.
type StatusCount struct {
	Code  int
	Count int
}

// Group is the requests that share a method and path template.
type Group struct {
	Method   string
	Template string
	Count    int
	// Examples are the first distinct paths seen (query dropped, cut to
	// MaxPathLen bytes), in arrival order.
	Examples []string
	// StatusCodes is sorted by code.
	StatusCodes []StatusCount
	// OtherStatus counts responses whose code was not tracked because
	// MaxStatusCodes distinct codes already were.
	OtherStatus int
}

// IsOther reports whether g is the other bucket.
func (g Group) IsOther() bool {
	return g.Method == OtherMethod && g.Template == OtherTemplate
}

// Grouper counts requests by method and path template in bounded memory:
// at most MaxTemplates groups (plus the other bucket), each holding at most
// MaxExamples paths of at most MaxPathLen bytes and MaxStatusCodes counters.
// Adding a request to an existing group with a known status code does not
// allocate. With the default options the worst case (every cap filled with
// the longest strings) is about 6 MiB of live heap; realistic traffic needs
// well under 1 MiB. A Grouper is not safe for concurrent use.
type Grouper struct {
	opts   Options
	index  map[string]*group // key: len(method) byte, method, template
	groups []*group
	other  group
	total  int
	buf    []byte
}

type group struct {
	method, template string
	count            int
	examples         []string
	codes            []StatusCount
	otherStatus      int
}

// NewGrouper returns an empty Grouper.
func NewGrouper(opts Options) *Grouper {
	return &Grouper{
		opts:  opts.withDefaults(),
		index: make(map[string]*group),
		other: group{method: OtherMethod, template: OtherTemplate},
		buf:   make([]byte, 0, 1+MaxMethodLen+MaxPathLen+2*len(RestPlaceholder)),
	}
}

// Add counts one request. status is the response's HTTP status, or 0 when
// no response was seen.
func (g *Grouper) Add(method, path string, status int) {
	g.total++
	if len(method) > MaxMethodLen {
		g.other.add(path, status, &g.opts)
		return
	}
	g.buf = append(g.buf[:0], byte(len(method)))
	g.buf = append(g.buf, method...)
	g.buf = appendTemplate(g.buf, path)
	gr := g.index[string(g.buf)] // no allocation: the compiler special-cases this lookup
	if gr == nil {
		if len(g.groups) >= g.opts.MaxTemplates {
			g.other.add(path, status, &g.opts)
			return
		}
		key := string(g.buf)
		gr = &group{method: key[1 : 1+len(method)], template: key[1+len(method):]}
		g.index[key] = gr
		g.groups = append(g.groups, gr)
	}
	gr.add(path, status, &g.opts)
}

func (gr *group) add(path string, status int, o *Options) {
	gr.count++
	gr.addStatus(status, o.MaxStatusCodes)
	if len(gr.examples) < o.MaxExamples {
		ex := examplePath(path)
		if !slices.Contains(gr.examples, ex) {
			// Clone so a kept example never pins the caller's (maybe larger) buffer.
			gr.examples = append(gr.examples, strings.Clone(ex))
		}
	}
}

func (gr *group) addStatus(code, maxCodes int) {
	for i := range gr.codes {
		if gr.codes[i].Code == code {
			gr.codes[i].Count++
			return
		}
	}
	if len(gr.codes) >= maxCodes {
		gr.otherStatus++
		return
	}
	gr.codes = append(gr.codes, StatusCount{Code: code, Count: 1})
}

// Groups returns a copy of the groups sorted by count (descending), then
// method, then template, followed by the other bucket when it counted
// anything.
func (g *Grouper) Groups() []Group {
	out := make([]Group, 0, len(g.groups)+1)
	for _, gr := range g.groups {
		out = append(out, gr.snapshot())
	}
	slices.SortFunc(out, func(a, b Group) int {
		return cmp.Or(
			cmp.Compare(b.Count, a.Count),
			strings.Compare(a.Method, b.Method),
			strings.Compare(a.Template, b.Template))
	})
	if g.other.count > 0 {
		out = append(out, g.other.snapshot())
	}
	return out
}

func (gr *group) snapshot() Group {
	codes := slices.Clone(gr.codes)
	slices.SortFunc(codes, func(a, b StatusCount) int { return cmp.Compare(a.Code, b.Code) })
	return Group{
		Method:      gr.method,
		Template:    gr.template,
		Count:       gr.count,
		Examples:    slices.Clone(gr.examples),
		StatusCodes: codes,
		OtherStatus: gr.otherStatus,
	}
}
