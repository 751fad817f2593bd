package analyze

import dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"

// Gateway HTTPRoute rules[].timeouts are honoured only from Linkerd 2.20
// (reference §7.2, §12): before, they are ignored.
var _ = register(Analyzer{
	Name:  "rule-timeouts-ignored",
	Codes: []string{CodeRuleTimeoutsIgnored, CodeControlPlaneUnknown},
	Needs: []Scope{PolicyPath},
	Run: func(f *Facts, e *Emitter) {
		p := f.PolicyPath
		if p.Cluster == nil {
			return
		}
		served := map[[2]string]bool{}
		for _, v := range p.Expected.Routes {
			if v.Kind == "HTTPRoute" && v.Group == dpolicy.GroupGateway && v.Reason == dpolicy.ReasonServed {
				served[[2]string{v.Namespace, v.Name}] = true
			}
		}
		honoured, known := dpolicy.HonoursGatewayRuleTimeouts(p.ControlPlane.Version)
		for _, r := range p.Cluster.HTTPRoutes {
			if r.HTTPRoute == nil || r.Group != dpolicy.GroupGateway || !served[[2]string{r.Namespace, r.Name}] {
				continue
			}
			with := 0
			for _, rule := range r.Spec.Rules {
				if rule.Timeouts != nil && (rule.Timeouts.Request != nil || rule.Timeouts.BackendRequest != nil) {
					with++
				}
			}
			if with == 0 {
				continue
			}
			switch {
			case known && !honoured:
				e.At(CodeRuleTimeoutsIgnored, nil, "HTTPRoute %s/%s (gateway.networking.k8s.io) has rules[].timeouts in %d rule(s), but the control plane (%s, from %s) predates Linkerd 2.20 and ignores them: use the timeout.linkerd.io/request annotation on the route, or upgrade",
					r.Namespace, r.Name, with, p.ControlPlane.Version, p.ControlPlane.From)
			case !known:
				why := "it could not be read"
				if p.ControlPlane.Version != "" {
					why = "\"" + p.ControlPlane.Version + "\" is not a release name"
				} else if !p.VersionAsked {
					why = "it is not known offline"
				}
				e.At(CodeControlPlaneUnknown, nil, "HTTPRoute %s/%s (gateway.networking.k8s.io) has rules[].timeouts: only Linkerd 2.20 (edge-25.11.3) and later honour them, and the control plane's version is unknown (%s); check `linkerd version`, or use the timeout.linkerd.io/request route annotation",
					r.Namespace, r.Name, why)
			}
		}
	},
})
