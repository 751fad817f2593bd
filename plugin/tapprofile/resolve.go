// Package tapprofile answers, for a tapped request, which ServiceProfile
// route the tapped proxy would pick (its rt_route): it works out the profile
// lookup that proxy makes, fetches each distinct lookup once (from the
// destination service, or from ServiceProfile files), converts it the way
// linkerd2-proxy does (diag/proxy) and matches the request against it.
package tapprofile

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// Key is one profile lookup as a proxy makes it: GetProfile for
// <Service>.<Namespace>.svc.<domain>:<Port> with a context token whose ns is
// ClientNamespace. Profiles are cached per Key.
type Key struct {
	Service         string
	Namespace       string
	Port            uint32
	ClientNamespace string
	// Inbound lookups are used by the server-side proxy, which applies
	// routes whenever the profile has some; outbound ones only when the
	// proxy lets the profile override policy (see Classifier).
	Inbound bool
}

// FQDN is the service's profile name.
func (k Key) FQDN(clusterDomain string) string {
	return profile.FQDN(k.Service, k.Namespace, clusterDomain)
}

// Path is the GetProfile path of the lookup.
func (k Key) Path(clusterDomain string) string {
	return k.FQDN(clusterDomain) + ":" + strconv.FormatUint(uint64(k.Port), 10)
}

// canonicalHeader carries the logical destination a meshed client's proxy
// resolved; the server-side proxy prefers it to the authority.
const canonicalHeader = "l5d-dst-canonical"

// Resolver works out the lookup for a request event.
//
// Outbound (the tapped pod is the client): the destination's `service` and
// `namespace` labels, which the client proxy copies from the destination
// controller's metric labels for the Service it resolved; without them, the
// authority. The port is the authority's (default 80): the event's
// destination is the chosen endpoint, whose port is the target port, not
// the service port the proxy looked up. The client namespace is the tapped
// pod's (`namespace` source label, hydrated by viz; else DefaultNamespace).
//
// Inbound (the tapped pod is the server): the proxy discovers the profile
// of the request's logical name, the l5d-dst-canonical header a meshed
// client's proxy adds (so the commands always extract headers), else the
// authority, and only for names under the discovery suffix svc.<domain>:
// a short authority such as "books:7000" from an unmeshed client gets no
// profile. The client namespace is the tapped pod's own (`namespace`
// destination label, else DefaultNamespace).
//
// Authorities that are IP addresses, pod DNS names, two-label names (which
// may as well be external, e.g. example.com) or names outside the cluster
// domain give no lookup.
type Resolver struct {
	ClusterDomain string
	// DefaultNamespace is the namespace of the tap target, used when
	// events lack namespace labels (captures straight from a proxy).
	DefaultNamespace string
}

// Lookup returns the lookup the tapped proxy makes for request event ev.
// Strings in the Key may alias ev's; clone them before keeping the Key.
// It does not allocate.
func (r *Resolver) Lookup(ev *tapclient.Event) (Key, bool) {
	switch ev.Direction {
	case tapclient.DirectionOutbound:
		client := ev.Source.Labels["namespace"]
		if client == "" {
			client = r.DefaultNamespace
		}
		host, port, ok := splitAuthority(ev.Authority)
		if svc, ns := ev.Destination.Labels["service"], ev.Destination.Labels["namespace"]; svc != "" && ns != "" {
			if !ok {
				port = 80
			}
			return Key{Service: svc, Namespace: ns, Port: port, ClientNamespace: client}, true
		}
		if !ok {
			return Key{}, false
		}
		svc, ns, ok := r.serviceName(host, client, false)
		return Key{Service: svc, Namespace: ns, Port: port, ClientNamespace: client}, ok
	case tapclient.DirectionInbound:
		own := ev.Destination.Labels["namespace"]
		if own == "" {
			own = r.DefaultNamespace
		}
		name := ev.Authority
		for i := range ev.Headers {
			if strings.EqualFold(ev.Headers[i].Name, canonicalHeader) && ev.Headers[i].Value != "" {
				name = ev.Headers[i].Value
				break
			}
		}
		host, port, ok := splitAuthority(name)
		if !ok {
			return Key{}, false
		}
		svc, ns, ok := r.serviceName(host, own, true)
		return Key{Service: svc, Namespace: ns, Port: port, ClientNamespace: own, Inbound: true}, ok
	}
	return Key{}, false
}

// splitAuthority splits host[:port]; the port defaults to 80 (plain HTTP:
// the proxy only sees HTTP it can read). ok is false for an empty host or a
// bad port.
func splitAuthority(a string) (host string, port uint32, ok bool) {
	host, port = a, 80
	if strings.HasPrefix(a, "[") { // [v6]:port
		i := strings.IndexByte(a, ']')
		if i < 0 {
			return "", 0, false
		}
		host, a = a[1:i], a[i+1:]
		if a == "" {
			return host, 80, host != ""
		}
		if a[0] != ':' {
			return "", 0, false
		}
		p, err := strconv.ParseUint(a[1:], 10, 16)
		return host, uint32(p), err == nil && p > 0 && host != ""
	}
	if i := strings.LastIndexByte(a, ':'); i >= 0 {
		if strings.IndexByte(a[:i], ':') >= 0 {
			return a, 80, true // a bare IPv6 address
		}
		p, err := strconv.ParseUint(a[i+1:], 10, 16)
		if err != nil || p == 0 {
			return "", 0, false
		}
		host, port = a[:i], uint32(p)
	}
	return host, port, host != ""
}

// serviceName reads a Service name from a host. fqdnOnly accepts just
// svc.ns.svc.<domain> (what the inbound proxy discovers); otherwise
// svc.ns.svc and a single label (relative to the given namespace) are read
// too. IP addresses and other names give ok=false.
func (r *Resolver) serviceName(host, relative string, fqdnOnly bool) (svc, ns string, ok bool) {
	host = strings.TrimSuffix(host, ".")
	if host == "" || isIP(host) {
		return "", "", false
	}
	domain := r.ClusterDomain
	if domain == "" {
		domain = profile.DefaultClusterDomain
	}
	qualified := false
	if rest, found := strings.CutSuffix(host, ".svc."+domain); found {
		host, qualified = rest, true
	} else if rest, found := strings.CutSuffix(host, ".svc"); found && !fqdnOnly {
		host, qualified = rest, true
	}
	if fqdnOnly && !qualified {
		return "", "", false
	}
	svc, ns, two := strings.Cut(host, ".")
	switch {
	case !two && !qualified:
		ns = relative
	case !two:
		return "", "", false // "svc.svc.<domain>" names no namespace
	case !qualified:
		return "", "", false // svc.ns or example.com: ambiguous
	case strings.IndexByte(ns, '.') >= 0:
		return "", "", false // pod DNS names
	}
	return svc, ns, svc != "" && ns != ""
}

func isIP(s string) bool {
	if s == "" || (s[0] < '0' || s[0] > '9') && strings.IndexByte(s, ':') < 0 {
		return false // fast path: names start with a letter
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}
