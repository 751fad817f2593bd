package template

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
)

// PathRegex turns a template into a ServiceProfile pathRegex: literal text is
// quoted, IDPlaceholder becomes [^/]+ and RestPlaceholder becomes .*. The
// proxy anchors the regex itself (^...$) and matches it against the path
// without the query, so a request matches when the whole path fits.
//
// Whitespace and non-printable characters are written as \x{HEX}: the proxy
// trims the regex before compiling it, which would otherwise eat them at
// either end.
func PathRegex(template string) string {
	var b strings.Builder
	for template != "" {
		i := strings.IndexByte(template, '{')
		if i < 0 {
			writeLiteral(&b, template)
			break
		}
		writeLiteral(&b, template[:i])
		template = template[i:]
		switch {
		case strings.HasPrefix(template, IDPlaceholder):
			b.WriteString("[^/]+")
			template = template[len(IDPlaceholder):]
		case strings.HasPrefix(template, RestPlaceholder):
			b.WriteString(".*")
			template = template[len(RestPlaceholder):]
		default: // a brace Template never writes; keep it literal
			b.WriteString(`\{`)
			template = template[1:]
		}
	}
	return b.String()
}

func writeLiteral(b *strings.Builder, s string) {
	q := regexp.QuoteMeta(s)
	for _, r := range q {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			fmt.Fprintf(b, `\x{%X}`, r)
			continue
		}
		b.WriteRune(r)
	}
}

// Routes turns groups into ServiceProfile routes named "<METHOD> <template>",
// each matching its method and PathRegex(template). The other bucket is
// skipped and duplicates are dropped.
//
// The proxy uses the first route that matches, so routes are ordered by
// specificity rather than by count: templates are compared segment by
// segment and, at the first difference, a literal segment comes before
// "{id}.ext", which comes before "{id}", which comes before "{rest}"; a
// template that ends first comes first. Routes for the same template with a
// method come before one without. With Template's per-segment rules this
// means no route steals an example path of a later route, except that a
// "{rest}" route (paths over MaxPathLen) may lose paths to earlier ones.
func Routes(groups []Group) []*profile.RouteSpec {
	list := ordered(groups)
	routes := make([]*profile.RouteSpec, 0, len(list))
	for _, e := range list {
		routes = append(routes, &profile.RouteSpec{
			Name:      RouteName(e.method, e.template),
			Condition: &profile.RequestMatch{Method: e.method, PathRegex: PathRegex(e.template)},
		})
	}
	return routes
}

type entry struct {
	method, template string
}

// ordered is the (method, template) of every proposed group, without
// duplicates, most specific first (see Routes).
func ordered(groups []Group) []entry {
	seen := make(map[entry]bool, len(groups))
	var list []entry
	for _, g := range groups {
		e := entry{g.Method, g.Template}
		if !proposed(g) || seen[e] {
			continue
		}
		seen[e] = true
		list = append(list, e)
	}
	slices.SortFunc(list, func(a, b entry) int {
		if c := compareTemplates(a.template, b.template); c != 0 {
			return c
		}
		if (a.method == "") != (b.method == "") {
			if a.method == "" {
				return 1
			}
			return -1
		}
		return strings.Compare(a.method, b.method)
	})
	return list
}

// proposed tells whether Routes gives group g a route: not the other
// bucket (its requests have no template), not a catch-all.
func proposed(g Group) bool {
	return !g.IsOther() && !catchAll(g.Template)
}

// Coverage says how many of the requests counted in groups the routes of
// Routes(groups) are made for: Covered are the requests of the groups that
// get a route; Other fell into the other bucket (more distinct templates
// than the Grouper keeps, or overlong methods) and CatchAll have a
// catch-all template (a first path segment longer than MaxPathLen); no
// route is proposed for those two.
type Coverage struct {
	Total, Covered, Other, CatchAll int
}

// CoverageOf computes the Coverage of Routes(groups).
func CoverageOf(groups []Group) Coverage {
	var c Coverage
	for _, g := range groups {
		c.Total += g.Count
		switch {
		case g.IsOther():
			c.Other += g.Count
		case !proposed(g):
			c.CatchAll += g.Count
		default:
			c.Covered += g.Count
		}
	}
	return c
}

// catchAll tells a template that would match every path of its method
// ("/{rest}": a first segment longer than MaxPathLen). As a route it would
// take every request after it, so Routes leaves it out.
func catchAll(template string) bool {
	return template == RestPlaceholder || template == "/"+RestPlaceholder
}

// RouteName is the name Routes gives a group's route: "<METHOD> <template>",
// or just the template when the method is empty. Invisible characters
// (controls, bidi overrides) come from request paths, which are untrusted:
// they are written as \x{HEX}, as in PathRegex, so a name never reorders or
// hides text where it is printed.
func RouteName(method, template string) string {
	name := template
	if method != "" {
		name = method + " " + template
	}
	if strings.IndexFunc(name, func(r rune) bool { return r != ' ' && !unicode.IsPrint(r) }) < 0 {
		return name
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

// Segment kinds in specificity order.
const (
	kindLiteral = iota
	kindIDExt
	kindID
	kindRest
)

func segmentKind(s string) int {
	switch {
	case s == IDPlaceholder:
		return kindID
	case s == RestPlaceholder:
		return kindRest
	case strings.HasPrefix(s, IDPlaceholder):
		return kindIDExt
	}
	return kindLiteral
}

func compareTemplates(a, b string) int {
	for {
		sa, ra, moreA := strings.Cut(a, "/")
		sb, rb, moreB := strings.Cut(b, "/")
		if c := cmp.Or(
			cmp.Compare(segmentKind(sa), segmentKind(sb)),
			strings.Compare(sa, sb)); c != 0 {
			return c
		}
		switch {
		case !moreA && !moreB:
			return 0
		case !moreA:
			return -1
		case !moreB:
			return 1
		}
		a, b = ra, rb
	}
}

// ProfileFor returns a ServiceProfile for Service svc in namespace ns holding
// Routes(groups), named as the destination controller looks it up.
func ProfileFor(svc, ns, clusterDomain string, groups []Group) *profile.ServiceProfile {
	return &profile.ServiceProfile{
		TypeMeta: metav1.TypeMeta{
			APIVersion: profile.Group + "/" + profile.StorageVersion,
			Kind:       profile.Kind,
		},
		ObjectMeta: metav1.ObjectMeta{
			Name:      profile.FQDN(svc, ns, clusterDomain),
			Namespace: ns,
		},
		Spec: profile.Spec{Routes: Routes(groups)},
	}
}
