package tapsession

import (
	"strings"

	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

// RedactedValue replaces the value of a credential header in every output
// and capture, unless --show-credentials is given.
const RedactedValue = "<redacted>"

// credentialHeaders are the headers whose values are credentials (request
// and response), compared case-insensitively.
var credentialHeaders = []string{
	"authorization", "proxy-authorization", "cookie", "set-cookie",
	"x-api-key", "api-key", "x-auth-token", "x-access-token", "x-amz-security-token",
	"x-csrf-token", "x-xsrf-token", "x-goog-iap-jwt-assertion", "l5d-client-id",
}

// IsCredential tells whether header name carries a credential.
func IsCredential(name string) bool {
	for _, c := range credentialHeaders {
		if strings.EqualFold(name, c) {
			return true
		}
	}
	return false
}

// Redact returns ev itself when it carries no credential header, else a
// copy whose credential headers and trailers have their values replaced by
// RedactedValue (ev is left as it is: classification may still read it).
func Redact(ev *tapclient.Event) *tapclient.Event {
	if !hasCredential(ev.Headers) && !hasCredential(ev.Trailers) {
		return ev
	}
	cp := *ev
	cp.Headers, cp.Trailers = redact(ev.Headers), redact(ev.Trailers)
	return &cp
}

func hasCredential(hs []tapclient.Header) bool {
	for i := range hs {
		if IsCredential(hs[i].Name) {
			return true
		}
	}
	return false
}

func redact(hs []tapclient.Header) []tapclient.Header {
	if !hasCredential(hs) {
		return hs
	}
	out := make([]tapclient.Header, len(hs))
	for i, h := range hs {
		if IsCredential(h.Name) {
			h = tapclient.Header{Name: h.Name, Value: RedactedValue}
		}
		out[i] = h
	}
	return out
}
