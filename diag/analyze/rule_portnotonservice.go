package analyze

import (
	"fmt"
	"strings"

	gproto "google.golang.org/protobuf/proto"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
)

// The empty profile: for a port that is not on the Service, or served for
// one that is (the destination's view of the Service is stale).
var _ = register(Analyzer{
	Name:  "port-not-on-service",
	Codes: []string{CodePortNotOnService},
	Needs: []Scope{Served},
	Run: func(f *Facts, e *Emitter) {
		l := f.Lookup
		svc := l.Service
		if l.Outcome.Source == expect.SourceNone {
			then := "proxies use policy routes"
			if p := f.PolicyPath; p != nil && !p.Target.Authority {
				then = "the policy controller serves the undefined-port policy, so the proxy forbids the connection (Linkerd 2.19+)"
			}
			e.At(CodePortNotOnService, nil, "port %d is not a port of Service %s/%s (ports: %s): the destination sends an empty profile and %s; pass --port with a service port",
				l.Port, svc.Namespace, svc.Name, portList(svc), then)
			return
		}
		if l.Served != nil && l.Outcome.Source != expect.SourceRejected && gproto.Equal(l.Served, translate.PortNotOnService()) {
			e.At(CodePortNotOnService, nil, "the destination sent an empty profile, which it sends for a port that is not on the Service, although port %d is on Service %s/%s: its view of the Service is stale (check the linkerd-destination logs, or restart it)",
				l.Port, svc.Namespace, svc.Name)
		}
	},
})

func portList(s model.Service) string {
	var ps []string
	for _, p := range s.Ports {
		ps = append(ps, fmt.Sprint(p.Port))
	}
	if len(ps) == 0 {
		return "none"
	}
	return strings.Join(ps, ", ")
}
