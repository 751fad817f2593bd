package analyze

import dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"

// With user routes and no catch-all rule, a request no rule matches is
// answered 404 by the proxy itself (reference §11, "No match").
var _ = register(Analyzer{
	Name:  "route-no-catch-all",
	Codes: []string{CodeNoCatchAll},
	Needs: []Scope{PolicyPath},
	Run: func(f *Facts, e *Emitter) {
		pol := f.PolicyPath.Expected.Policy
		if pol == nil || len(pol.Routes) == 0 {
			return
		}
		var names []string
		for _, r := range pol.Routes {
			if r.Default != "" {
				return // the synthetic http route matches everything
			}
			names = append(names, routeLabel(r.Kind, r.Namespace, r.Name, r.Default))
			if len(r.Hosts) > 0 {
				continue
			}
			for _, rule := range r.Rules {
				if len(rule.Matches) == 0 {
					return
				}
				for _, m := range rule.Matches {
					if catchAll(m) {
						return
					}
				}
			}
		}
		answer := "HTTP 404"
		if pol.Protocol == dpolicy.GRPC {
			answer = "gRPC NOT_FOUND"
		}
		e.At(CodeNoCatchAll, nil, "no rule of %s on %s matches every request: requests that match none get %s from the proxy itself (never reaching the Service, without route metrics); add a rule without matches (or PathPrefix /) if that is not intended",
			joinAnd(names), f.PolicyPath.port(), answer)
	},
})

func catchAll(m dpolicy.Match) bool {
	if len(m.Headers) > 0 || len(m.QueryParams) > 0 || m.Method != "" {
		return false
	}
	if m.RPC != nil {
		return m.RPC.Service == "" && m.RPC.Method == ""
	}
	return m.Path == "" || m.Path == "prefix:/"
}

func joinAnd(ss []string) string {
	switch len(ss) {
	case 0:
		return ""
	case 1:
		return ss[0]
	}
	out := ss[0]
	for _, s := range ss[1 : len(ss)-1] {
		out += ", " + s
	}
	return out + " and " + ss[len(ss)-1]
}
