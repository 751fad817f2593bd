package tapclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Reason classifies a failed tap so a CLI can pick an exit code and message.
type Reason string

const (
	// ReasonServer: the tap server refused the tap (linkerd-error header),
	// e.g. "no pods to tap for type=... name=...".
	ReasonServer Reason = "TapServer"
	// ReasonForbidden: RBAC (kube-apiserver or the tap server's
	// SubjectAccessReview) denied verb watch on <type>s/tap.
	ReasonForbidden Reason = "Forbidden"
	// ReasonUnauthorized: the API server did not accept the credentials.
	ReasonUnauthorized Reason = "Unauthorized"
	// ReasonNotInstalled: the tap.linkerd.io API group is not served.
	ReasonNotInstalled Reason = "NotInstalled"
	// ReasonUnavailable: the APIService exists but its backend is down.
	ReasonUnavailable Reason = "Unavailable"
	// ReasonBadRequest: the server rejected the request as malformed.
	ReasonBadRequest Reason = "BadRequest"
	// ReasonHTTP: any other unexpected HTTP status.
	ReasonHTTP Reason = "HTTP"
)

// DefaultTapAdminClusterRole is the ClusterRole the linkerd-viz chart
// creates (linkerd-<viz namespace>-tap-admin) for the default namespace.
const DefaultTapAdminClusterRole = "linkerd-linkerd-viz-tap-admin"

// Error is a tap failure reported by the API server or the tap server.
type Error struct {
	Reason Reason
	Code   int // HTTP status; 0 for linkerd-error replies and mid-stream errors
	// Message is what the server said (may span lines, as "no pods to tap"
	// does); Hint says what to do next.
	Message string
	Hint    string
	// Status is the decoded Kubernetes Status, when the body was one.
	Status *metav1.Status
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Code != 0 && e.Reason != ReasonServer {
		fmt.Fprintf(&b, "HTTP %d: ", e.Code)
	}
	b.WriteString(strings.TrimSpace(e.Message))
	if e.Hint != "" {
		b.WriteString(": ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// ErrIdle is returned by Stream.Next when no event arrived within the idle
// timeout. The stream stays usable: call Next again to keep waiting.
var ErrIdle = errors.New("no tap events within the idle timeout")

// errorFromResponse turns a non-200 response body into an *Error. req is
// the tap request, used to name the RBAC rule that is missing.
func errorFromResponse(code int, body []byte, req *Request, vizRole string) *Error {
	e := &Error{Code: code, Reason: ReasonHTTP}
	text := strings.TrimSpace(string(body))

	// A Kubernetes Status (kube-apiserver: RBAC, missing group, ...).
	var st metav1.Status
	detail := text
	if json.Unmarshal(body, &st) == nil && st.Kind == "Status" {
		e.Status = &st
		e.Message = apierrors.FromObject(&st).Error()
		detail = st.Message
		if st.Code != 0 {
			e.Code = int(st.Code)
		}
	} else if msg, ok := jsonErrorBody(body); ok {
		// The tap server's own renderJSONError bodies.
		e.Message, detail = msg, msg
	} else if text != "" {
		e.Message = "unexpected API response: " + firstLine(text, 300)
	} else {
		e.Message = "unexpected API response: " + http.StatusText(code)
	}

	switch e.Code {
	case http.StatusForbidden:
		e.Reason = ReasonForbidden
		e.Hint = rbacHint(req, vizRole)
	case http.StatusUnauthorized:
		e.Reason = ReasonUnauthorized
		e.Hint = "check your kubeconfig credentials (kubectl auth whoami)"
	case http.StatusNotFound:
		// kube-apiserver answers "404 page not found" (or a NotFound Status
		// for discovery) when no APIService serves the group. Only the tap
		// server's own route listing ({"paths": [...]}) means something else.
		if !isPathListing(body) {
			e.Reason = ReasonNotInstalled
			e.Message = "linkerd-viz is not installed (APIService v1alpha1.tap.linkerd.io missing)"
			e.Hint = "install linkerd-viz, or check 'kubectl get apiservice v1alpha1.tap.linkerd.io'"
		}
	case http.StatusServiceUnavailable:
		e.Reason = ReasonUnavailable
		e.Message = "the tap API (APIService v1alpha1.tap.linkerd.io) is unavailable"
		if detail != "" {
			e.Message += ": " + firstLine(detail, 300)
		}
		e.Hint = "check 'kubectl get apiservice v1alpha1.tap.linkerd.io' and the tap pods in the linkerd-viz namespace"
	case http.StatusBadRequest:
		e.Reason = ReasonBadRequest
	}
	return e
}

// rbacHint names the rule the user lacks and a ClusterRole that grants it.
func rbacHint(req *Request, vizRole string) string {
	if vizRole == "" {
		vizRole = DefaultTapAdminClusterRole
	}
	resource, where := "<type>s/tap", ""
	if req != nil {
		if req.Target.Type == TypeNamespace {
			// kube-apiserver sees resource "tap" in the namespace; the tap
			// server's SubjectAccessReview checks namespaces/tap.
			resource = `"tap" and "namespaces/tap"`
			where = " in namespace " + req.Target.Name
		} else {
			resource = `"` + req.Target.Type + `s/tap"`
			where = " in namespace " + req.Target.Namespace
		}
	}
	return fmt.Sprintf("you need verb \"watch\" on apiGroup \"tap.linkerd.io\" resource %s%s; ask an admin to bind ClusterRole %s (or a Role with that rule) to you",
		resource, where, vizRole)
}

func isPathListing(body []byte) bool {
	var v struct {
		Paths []string `json:"paths"`
	}
	return json.Unmarshal(body, &v) == nil && v.Paths != nil
}

func jsonErrorBody(body []byte) (string, bool) {
	var v struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &v) != nil || v.Error == "" {
		return "", false
	}
	return v.Error, true
}

func firstLine(s string, max int) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}
