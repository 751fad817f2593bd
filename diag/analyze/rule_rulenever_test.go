package analyze

import (
	"strings"
	"testing"
)

// The Gateway API precedence the proxy applies (reference §11): only a
// tie on every request, won by the earlier rule, makes a rule never win.
func TestRuleNeverWinsPrecedence(t *testing.T) {
	for _, c := range []struct {
		name, rules string
		never       bool
	}{
		{"same prefix twice: the later ties and loses", "[{matches: [{path: {type: PathPrefix, value: /a}}]}, {matches: [{path: {type: PathPrefix, value: /a/}}]}]", true},
		{"exact after prefix of the same value: tie", "[{matches: [{path: {type: PathPrefix, value: /a}}]}, {matches: [{path: {type: Exact, value: /a}}]}]", true},
		{"prefix after exact of the same value: wins /a/x", "[{matches: [{path: {type: Exact, value: /a}}]}, {matches: [{path: {type: PathPrefix, value: /a}}]}]", false},
		{"longer prefix later: more specific, wins", "[{matches: [{path: {type: PathPrefix, value: /a}}]}, {matches: [{path: {type: PathPrefix, value: /a/b}}]}]", false},
		{"catch-all first does not hide a longer path", "[{}, {matches: [{path: {type: PathPrefix, value: /a}}]}]", false},
		{"catch-all after catch-all", "[{}, {matches: [{path: {type: PathPrefix, value: /}}]}]", true},
		{"a header match is more specific", "[{matches: [{path: {type: PathPrefix, value: /a}}]}, {matches: [{path: {type: PathPrefix, value: /a}, headers: [{name: x-v, value: one}]}]}]", false},
		{"a method match is more specific", "[{matches: [{path: {type: PathPrefix, value: /a}}]}, {matches: [{path: {type: PathPrefix, value: /a}, method: GET}]}]", false},
		{"same method and path twice", "[{matches: [{path: {type: PathPrefix, value: /a}, method: GET}]}, {matches: [{path: {type: PathPrefix, value: /a}, method: GET}]}]", true},
		{"one of two matches still wins", "[{matches: [{path: {type: PathPrefix, value: /a}}]}, {matches: [{path: {type: PathPrefix, value: /a}}, {path: {type: PathPrefix, value: /b}}]}]", false},
		// A regex ranks by the whole path's length, as an Exact path does.
		{"a regex that matches the later exact path: tie", "[{matches: [{path: {type: RegularExpression, value: /a.*}}]}, {matches: [{path: {type: Exact, value: /ab}}]}]", true},
		{"a regex that does not match it", "[{matches: [{path: {type: RegularExpression, value: /a.*}}]}, {matches: [{path: {type: Exact, value: /b}}]}]", false},
		{"leftmost-first: /a|/ab does not match /ab", "[{matches: [{path: {type: RegularExpression, value: '/a|/ab'}}]}, {matches: [{path: {type: Exact, value: /ab}}]}]", false},
		{"a regex Go reads differently from Rust proves nothing", "[{matches: [{path: {type: RegularExpression, value: '/[a-z&&[^x]]+'}}]}, {matches: [{path: {type: Exact, value: /abc}}]}]", false},
		{"a regex is never used to prove a prefix", "[{matches: [{path: {type: RegularExpression, value: /a.*}}]}, {matches: [{path: {type: PathPrefix, value: /a}}]}]", false},
		{"a regex that matches, but the later exact path has a method", "[{matches: [{path: {type: RegularExpression, value: /a.*}}]}, {matches: [{path: {type: Exact, value: /ab}, method: GET}]}]", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := policyFacts("", "books", "stable-2.20.0", polRoute(gw, "HTTPRoute", "books", "r", "  rules: "+c.rules+"\n", acceptedStatus))()
			got := false
			for _, is := range Run(f) {
				if is.Code == CodeRuleNeverWins {
					got = true
					if !strings.Contains(is.Message, "rule 1 can never win") {
						t.Errorf("message %q", is.Message)
					}
				}
			}
			if got != c.never {
				t.Errorf("never-wins = %v, want %v", got, c.never)
			}
		})
	}
	// gRPC: the same service and method tie; a method is more specific
	// than the whole service.
	for _, c := range []struct {
		name, rules string
		never       bool
	}{
		{"same method twice", "[{matches: [{method: {service: books.Api, method: Get}}]}, {matches: [{method: {service: books.Api, method: Get}}]}]", true},
		{"a method after its service", "[{matches: [{method: {service: books.Api}}]}, {matches: [{method: {service: books.Api, method: Get}}]}]", false},
		{"another method", "[{matches: [{method: {service: books.Api, method: Get}}]}, {matches: [{method: {service: books.Api, method: List}}]}]", false},
		{"the same method with a header", "[{matches: [{method: {service: books.Api, method: Get}}]}, {matches: [{method: {service: books.Api, method: Get}, headers: [{name: x-v, value: one}]}]}]", false},
	} {
		t.Run("grpc "+c.name, func(t *testing.T) {
			f := policyFacts("", "books", "stable-2.20.0", polRoute(gw, "GRPCRoute", "books", "g", "  rules: "+c.rules+"\n", acceptedStatus))()
			got := false
			for _, is := range Run(f) {
				if is.Code == CodeRuleNeverWins {
					got = true
					if !strings.Contains(is.Message, "GRPCRoute books/g rule 1 can never win") || !strings.Contains(is.Message, "a method") {
						t.Errorf("message %q", is.Message)
					}
				}
			}
			if got != c.never {
				t.Errorf("never-wins = %v, want %v", got, c.never)
			}
		})
	}
	// Across routes: the earlier route (creation time, then name) wins ties.
	f := policyFacts("", "books", "stable-2.20.0",
		polRoute(gw, "HTTPRoute", "books", "a-first", "  rules: [{matches: [{path: {type: PathPrefix, value: /x}}]}]\n", acceptedStatus),
		polRoute(gw, "HTTPRoute", "books", "b-second", "  rules: [{matches: [{path: {type: PathPrefix, value: /x}}]}]\n", acceptedStatus))()
	var msgs []string
	for _, is := range Run(f) {
		if is.Code == CodeRuleNeverWins {
			msgs = append(msgs, is.Message)
		}
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], "HTTPRoute books/b-second rule 0 can never win") || !strings.Contains(msgs[0], "books/a-first rule 0") {
		t.Errorf("across routes: %q", msgs)
	}
}
