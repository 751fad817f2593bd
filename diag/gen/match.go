package gen

import (
	"regexp"
	"strings"
	"sync"

	"github.com/kubectl-profiles/kubectl-profiles/diag/policy"
)

// Request is one request replayed through policy routes.
type Request struct {
	Method, Host, Path string
	// Headers are lower-case names with their values.
	Headers map[string][]string
}

// Hit is the rule a request gets: Route and Rule index the policy's routes.
type Hit struct {
	Route, Rule int
}

// MatchPolicy returns the rule the proxy picks for req among routes (the
// HTTP routes of a diag/policy Policy, in the controller's order), with the
// proxy's precedence (policy-api.md §11): per route the rule with the best
// matching match, then across routes the best (host rank, match summary);
// ties keep the earlier route and, within a route, the earlier rule. A rule
// without matches matches everything like prefix "/". ok is false when no
// rule matches: the proxy answers 404 itself. GRPC routes (matches with an
// RPC) are ranked by service then method characters, then headers.
func MatchPolicy(routes []policy.Route, req Request) (hit Hit, ok bool) {
	var best score
	for ri, r := range routes {
		hr, hostOK := hostRank(r.Hosts, req.Host)
		if !hostOK {
			continue
		}
		for ui, rule := range r.Rules {
			s, m := ruleScore(rule, req)
			if !m {
				continue
			}
			s.host = hr
			if !ok || s.better(best) {
				best, hit, ok = s, Hit{ri, ui}, true
			}
		}
	}
	return hit, ok
}

// score is a candidate's rank; larger fields win in order.
type score struct {
	host    [2]int // kind (0 none, 1 suffix, 2 exact), pattern length
	grpc    bool
	pathLen int // HTTP: path match length; gRPC: service characters
	second  int // HTTP: header count; gRPC: method characters
	third   int // HTTP: query-param count; gRPC: header count
	method  bool
}

func (a score) better(b score) bool {
	if a.host != b.host {
		return a.host[0] > b.host[0] || a.host[0] == b.host[0] && a.host[1] > b.host[1]
	}
	for _, c := range [][2]int{{a.pathLen, b.pathLen}, {a.second, b.second}, {a.third, b.third}} {
		if c[0] != c[1] {
			return c[0] > c[1]
		}
	}
	return a.method && !b.method
}

func hostRank(hosts []string, host string) ([2]int, bool) {
	if len(hosts) == 0 {
		return [2]int{}, true
	}
	h := strings.ToLower(host)
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	found, best := false, [2]int{}
	for _, pat := range hosts {
		p := strings.ToLower(pat)
		hh := h
		if !strings.HasSuffix(p, ".") {
			hh = strings.TrimSuffix(hh, ".")
		}
		var r [2]int
		switch {
		case strings.HasPrefix(p, "*."):
			suffix := p[1:]
			if !strings.HasSuffix(hh, suffix) || len(hh) <= len(suffix) {
				continue
			}
			r = [2]int{1, len(p)}
		case hh == p:
			r = [2]int{2, len(p)}
		default:
			continue
		}
		if !found || r[0] > best[0] || r[0] == best[0] && r[1] > best[1] {
			found, best = true, r
		}
	}
	return best, found
}

func ruleScore(rule policy.Rule, req Request) (score, bool) {
	if len(rule.Matches) == 0 {
		return score{pathLen: 1}, true
	}
	var best score
	ok := false
	for _, m := range rule.Matches {
		s, hit := matchScore(m, req)
		if hit && (!ok || s.better(best)) {
			best, ok = s, true
		}
	}
	return best, ok
}

func matchScore(m policy.Match, req Request) (score, bool) {
	if m.RPC != nil {
		if req.Method != "POST" {
			return score{}, false
		}
		parts := strings.Split(req.Path, "/")
		if len(parts) < 3 || parts[0] != "" {
			return score{}, false
		}
		if m.RPC.Service != "" && m.RPC.Service != parts[1] || m.RPC.Method != "" && m.RPC.Method != parts[2] {
			return score{}, false
		}
		if !headersMatch(m.Headers, req.Headers) {
			return score{}, false
		}
		return score{grpc: true, pathLen: len(m.RPC.Service), second: len(m.RPC.Method), third: len(m.Headers)}, true
	}
	n, ok := pathLen(m.Path, req.Path)
	if !ok || !headersMatch(m.Headers, req.Headers) || len(m.QueryParams) > 0 {
		// Replayed requests carry no query string: a query-parameter
		// match never holds.
		return score{}, false
	}
	if m.Method != "" && m.Method != req.Method {
		return score{}, false
	}
	return score{pathLen: n, second: len(m.Headers), method: m.Method != ""}, true
}

func pathLen(pm, path string) (int, bool) {
	kind, val, _ := strings.Cut(pm, ":")
	switch kind {
	case "":
		return 1, true
	case "exact":
		return len(val), path == val
	case "prefix":
		v := strings.TrimRight(val, "/")
		if v == "" {
			return 1, true
		}
		p := strings.TrimRight(path, "/")
		if p == v || strings.HasPrefix(path, v+"/") {
			return len(v), true
		}
		return 0, false
	case "regex":
		re := compiled(val)
		if re == nil {
			return 0, false
		}
		loc := re.FindStringIndex(path)
		return len(path), loc != nil && loc[0] == 0 && loc[1] == len(path)
	}
	return 0, false
}

func headersMatch(ms []policy.ValueMatch, hs map[string][]string) bool {
	for _, m := range ms {
		found := false
		for _, v := range hs[strings.ToLower(m.Name)] {
			if m.Kind == "regex" {
				re := compiled(m.Value)
				loc := []int(nil)
				if re != nil {
					loc = re.FindStringIndex(v)
				}
				found = loc != nil && loc[0] == 0 && loc[1] == len(v)
			} else {
				found = v == m.Value
			}
			if found {
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

var regexCache sync.Map // string -> *regexp.Regexp (nil when Go cannot compile it)

// compiled compiles a Rust regex with Go's leftmost-first engine (the
// routes this package writes and checks use the syntax both share; the
// controller has already rejected what Rust cannot compile).
func compiled(re string) *regexp.Regexp {
	if v, ok := regexCache.Load(re); ok {
		return v.(*regexp.Regexp)
	}
	r, err := regexp.Compile(re)
	if err != nil {
		r = nil
	}
	regexCache.Store(re, r)
	return r
}
