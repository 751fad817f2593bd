package analyze

import "google.golang.org/grpc/status"

// A lookup that failed says nothing about what proxies get.
var _ = register(Analyzer{
	Name:  "lookup-failed",
	Codes: []string{CodeLookupFailed},
	Needs: []Scope{Served},
	Run: func(f *Facts, e *Emitter) {
		if p := f.PolicyPath; p != nil && p.Asked && p.Err != nil && !p.NoPolicy {
			e.At(CodeLookupFailed, nil, "the policy lookup failed (%v): which routes, retries and timeouts proxies get on the policy path for port %d is unknown; check --policy-addr or the port-forward to port 8090 of linkerd-destination, then run again",
				p.Err, f.Lookup.Port)
		}
		l := f.Lookup
		// The error the Service calls for (ExternalName) is service-rejected;
		// any other error, even for such a Service, is a failed lookup.
		if l.Err == nil || l.Silent || (l.Outcome.Rejected != nil && status.Code(l.Err) == l.Outcome.Rejected.Code) {
			return
		}
		e.At(CodeLookupFailed, nil, "the lookup failed (%v): what proxies get for port %d is unknown; check the connection to the destination and the linkerd-destination logs, then run again",
			l.Err, l.Port)
	},
})
