package analyze

import (
	"fmt"
	"strings"

	gproto "google.golang.org/protobuf/proto"

	dpolicy "github.com/kubectl-profiles/kubectl-profiles/diag/policy"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
)

// The empty profile: for a port that is not on the Service, or served for
// one that is (the destination's view of the Service is stale).
var _ = register(Analyzer{
	Name:  "port-not-on-service",
	Codes: []string{CodePortNotOnService},
	Needs: []Scope{Served, PolicyPath},
	Run: func(f *Facts, e *Emitter) {
		if f.Lookup == nil {
			routesOnUndefinedPort(f, e)
			return
		}
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

// routesOnUndefinedPort (check): routes name a port the Service does not
// define: a proxy that dials it gets the undefined-port policy and the
// connection is forbidden (Linkerd 2.19+), so the routes never apply.
func routesOnUndefinedPort(f *Facts, e *Emitter) {
	p := f.PolicyPath
	if p == nil || !p.ServiceKnown || p.Target.Service == nil || p.Target.Port == AnyPort {
		return
	}
	svc := p.Target.Service
	for _, sp := range svc.Spec.Ports {
		if sp.Port == p.Target.Port {
			return
		}
	}
	var names []string
	for _, v := range p.Expected.Routes {
		if v.Reason == dpolicy.ReasonServed {
			names = append(names, v.Kind+" "+v.Namespace+"/"+v.Name)
		}
	}
	if len(names) == 0 {
		return
	}
	var ports []string
	for _, sp := range svc.Spec.Ports {
		ports = append(ports, fmt.Sprint(sp.Port))
	}
	e.At(CodePortNotOnService, nil, "%s names port %d, which is not a port of Service %s/%s (ports: %s): proxies that dial it get the undefined-port policy and the connection is forbidden (Linkerd 2.19+), so the routes never apply; fix the parentRef port or add the port to the Service",
		strings.Join(names, ", "), p.Target.Port, svc.Namespace, svc.Name, strings.Join(ports, ", "))
}
