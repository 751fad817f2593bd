package analyze

import "strings"

// Gateway API route CRDs absent, or without v1: such routes are not read
// by the policy controller (reference §12: v1 only).
var _ = register(Analyzer{
	Name:  "gateway-api-missing",
	Codes: []string{CodeGatewayAPIMissing},
	Needs: []Scope{PolicyPath},
	Run: func(f *Facts, e *Emitter) {
		for _, n := range f.PolicyPath.Notes {
			if !strings.Contains(n, ".gateway.networking.k8s.io") {
				continue
			}
			// GRPCRoutes not installed: none can exist, nothing is lost.
			if strings.Contains(n, "without v1") || strings.Contains(n, "is not installed") && strings.HasPrefix(n, "httproutes.") {
				e.At(CodeGatewayAPIMissing, nil, "%s; install the Gateway API CRDs at v1 (and restart the policy controller, which only watches kinds present at startup)", n)
			}
		}
	},
})

// PolicyNotesWorthSaying drops the notes that lose nothing (a route kind
// that is not installed cannot have objects, except the Gateway HTTPRoute
// Linkerd's docs rely on): what is left is said on stderr.
func PolicyNotesWorthSaying(notes []string) []string {
	var out []string
	for _, n := range notes {
		if strings.Contains(n, "is not installed") && !strings.HasPrefix(n, "httproutes.gateway.networking.k8s.io") {
			continue
		}
		out = append(out, n)
	}
	return out
}
