package proxy

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

type mKind uint8

const (
	mAll mKind = iota
	mAny
	mNot
	mPath
	mMethod
	mStatus
	mNever // a kept regex Go cannot compile (see Route.Unmatchable)
)

// matcher is a compiled request match (service-profiles/src/http.rs
// RequestMatch::is_match).
type matcher struct {
	kind   mKind
	subs   []*matcher
	method string
	// path: either an exact literal (the anchored regex is plain text) or
	// a Go regexp applied unanchored, as the proxy's Regex::is_match is;
	// the anchors are part of the pattern.
	literal   string
	isLiteral bool
	re        *regexp.Regexp
	// prefix must start every match of re; checking it first avoids
	// running the regexp for most routes.
	prefix string
}

// cost orders the children of all/any: the proxy's conditions have no side
// effects, so checking cheap ones first changes speed, not results.
func (m *matcher) cost() int {
	switch m.kind {
	case mMethod:
		return 0
	case mPath:
		if m.isLiteral {
			return 1
		}
		return 3
	case mNever:
		return 0
	}
	c := 2
	for _, s := range m.subs {
		c += s.cost()
	}
	return c
}

func (m *matcher) match(method, path string) bool {
	switch m.kind {
	case mAll:
		for _, s := range m.subs {
			if !s.match(method, path) {
				return false
			}
		}
		return true // an empty 'all' matches everything
	case mAny:
		for _, s := range m.subs {
			if s.match(method, path) {
				return true
			}
		}
		return false // an empty 'any' matches nothing
	case mNot:
		return !m.subs[0].match(method, path)
	case mPath:
		if m.isLiteral {
			return path == m.literal
		}
		if len(path) < len(m.prefix) || path[:len(m.prefix)] != m.prefix {
			return false
		}
		return m.re.MatchString(path)
	case mMethod:
		return method == m.method
	}
	return false
}

// compilePath compiles an anchored, Rust-accepted regex with Go. A regex
// that is ^literal$ becomes a string comparison.
func compilePath(anchored string) (*matcher, error) {
	re, err := regexp.Compile(anchored)
	if err != nil {
		return nil, err
	}
	prefix, exact := anchoredLiteral(anchored)
	if exact {
		return &matcher{kind: mPath, literal: prefix, isLiteral: true}, nil
	}
	return &matcher{kind: mPath, re: re, prefix: prefix}, nil
}

// anchoredLiteral returns the case-sensitive literal text every match must
// start with when the regex begins with ^ (begin of text), and whether the
// regex is exactly ^literal$.
func anchoredLiteral(anchored string) (prefix string, exact bool) {
	t, err := syntax.Parse(anchored, syntax.Perl)
	if err != nil {
		return "", false
	}
	t = t.Simplify()
	if t.Op != syntax.OpConcat || len(t.Sub) < 2 || t.Sub[0].Op != syntax.OpBeginText {
		return "", false
	}
	l := t.Sub[1]
	if l.Op != syntax.OpLiteral || l.Flags&syntax.FoldCase != 0 {
		return "", false
	}
	exact = len(t.Sub) == 3 && t.Sub[2].Op == syntax.OpEndText
	return string(l.Rune), exact
}

// statusMatcher is a compiled response match.
type statusMatcher struct {
	kind   mKind
	subs   []*statusMatcher
	lo, hi uint16
}

func (m *statusMatcher) match(status uint16) bool {
	switch m.kind {
	case mAll:
		for _, s := range m.subs {
			if !s.match(status) {
				return false
			}
		}
		return true
	case mAny:
		for _, s := range m.subs {
			if s.match(status) {
				return true
			}
		}
		return false
	case mNot:
		return !m.subs[0].match(status)
	case mStatus:
		return m.lo <= status && status <= m.hi
	}
	return false
}

// RequestPath returns what the proxy matches regexes against: the path of
// the request target without query string or fragment (uri.path()). An
// empty result becomes "/", as for an absolute URI without path.
func RequestPath(target string) string {
	if i := strings.IndexAny(target, "?#"); i >= 0 {
		target = target[:i]
	}
	if target == "" {
		return "/"
	}
	return target
}

// Match returns the route the proxy picks for a request: the first kept
// route, in profile order, whose condition matches (route_for_request).
// path may be a raw request target; its query string is ignored. With no
// match it returns -1, "", false: the request gets the implicit default
// route, which has no rt_route label. Match does not allocate.
//
// Match answers as if UsesProfileRoutes were true; check that first.
// Routes marked Unmatchable are skipped, so for profiles that have any the
// answer is a best effort.
func (p *Profile) Match(method, path string) (routeIndex int, name string, ok bool) {
	if p == nil {
		return -1, "", false
	}
	path = RequestPath(path)
	for i := range p.Routes {
		r := &p.Routes[i]
		if r.Unmatchable {
			// Go cannot evaluate its regex faithfully (even inside a
			// 'not'); skip it rather than claim an answer.
			continue
		}
		if r.cond.match(method, path) {
			return r.Index, r.Name, true
		}
	}
	return -1, "", false
}

// Classify says whether the proxy counts a response with this HTTP status
// as a failure on the route with the given original index (-1: default
// route). The first matching response class decides; if none matches, or
// the route has none, the proxy falls back to its default rule, 5xx is a
// failure (app/core/src/classify.rs; the proto comment's "no match =
// success" is not what the proxy does). gRPC status codes are not modelled.
func (p *Profile) Classify(routeIndex int, status int) (failure bool) {
	failure, _, _ = p.ClassifyDetail(routeIndex, status)
	return failure
}

// ClassifyDetail is Classify that also returns which response class decided
// (its index in the route's response_classes) or matched=false for the
// 5xx fallback.
func (p *Profile) ClassifyDetail(routeIndex int, status int) (failure bool, classIndex int, matched bool) {
	fallback := status >= 500 && status <= 599
	if p == nil || status < 0 || status > 0xFFFF {
		return fallback, -1, false
	}
	for i := range p.Routes {
		r := &p.Routes[i]
		if r.Index != routeIndex {
			continue
		}
		for _, rc := range r.ResponseClasses {
			if rc.cond.match(uint16(status)) {
				return rc.IsFailure, rc.Index, true
			}
		}
		break
	}
	return fallback, -1, false
}
