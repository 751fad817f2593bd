package policy

import "fmt"

// ProxyRejects lists why a proxy cannot convert a served policy (reference
// §4): it then logs "Client policy misconfigured" and substitutes an
// invalid policy, so every HTTP request to the target fails and every
// opaque connection is refused. The two controller outputs known to do
// this are a gRPC match without an RPC match (a GRPCRoute match with only
// headers) and a filter without a kind (a GRPCRoute ResponseHeaderModifier).
// Empty when the proxy accepts the policy.
func ProxyRejects(p *Policy) []string {
	if p == nil {
		return nil
	}
	var out []string
	check := func(list string, rs []Route) {
		for i, r := range rs {
			for j, rule := range r.Rules {
				at := fmt.Sprintf("%s[%d] (%s) rules[%d]", list, i, routeLabel(r), j)
				if p.Protocol == GRPC {
					for k, m := range rule.Matches {
						if m.RPC == nil {
							out = append(out, fmt.Sprintf("%s matches[%d]: a gRPC match without method (missing RPC match)", at, k))
						}
					}
				}
				for k, f := range rule.Filters {
					if f.Kind == FilterUnknown {
						out = append(out, fmt.Sprintf("%s filters[%d]: a filter without kind", at, k))
					}
				}
				for k, b := range rule.Backends {
					for l, f := range b.Filters {
						if f.Kind == FilterUnknown {
							out = append(out, fmt.Sprintf("%s backends[%d] filters[%d]: a filter without kind", at, k, l))
						}
					}
				}
			}
		}
	}
	check("routes", p.Routes)
	check("http2Routes", p.HTTP2Routes)
	return out
}

func routeLabel(r Route) string {
	if r.Default != "" {
		return "default " + r.Default
	}
	return fmt.Sprintf("%s %s/%s", r.Kind, r.Namespace, r.Name)
}
