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
			if strings.Contains(n, "is not installed") || strings.Contains(n, "without v1") {
				e.At(CodeGatewayAPIMissing, nil, "%s; install the Gateway API CRDs at v1 (and restart the policy controller, which only watches kinds present at startup)", n)
			}
		}
	},
})
