// Package kube reads the cluster facts the diagnoses need (Services,
// ServiceProfiles, HTTPRoutes, pods) and port-forwards to the control plane.
// It never writes to the cluster.
package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
)

// Explain turns API errors into one line that says what to do next.
// what describes the request, e.g. "list serviceprofiles.linkerd.io in namespace books".
func Explain(err error, what string) error {
	if err == nil {
		return nil
	}
	switch {
	case kerrors.IsForbidden(err):
		return fmt.Errorf("forbidden: cannot %s (RBAC refused it: %s); ask an admin for the read-only ClusterRole in krew/rbac.yaml", what, statusMessage(err))
	case kerrors.IsUnauthorized(err):
		return fmt.Errorf("unauthorized: cannot %s: your credentials were rejected; check --kubeconfig/--context or log in again", what)
	case meta.IsNoMatchError(err):
		return fmt.Errorf("cannot %s: the API server does not serve that resource: %v", what, err)
	case kerrors.IsTimeout(err) || kerrors.IsServerTimeout(err):
		return fmt.Errorf("cannot %s: the API server timed out; retry or raise --request-timeout", what)
	case errors.Is(err, context.DeadlineExceeded) || isNetTimeout(err):
		// The bound may be --request-timeout (default 30s) or the
		// command's own --timeout, whichever came first.
		return fmt.Errorf("cannot %s: the API server did not answer in time (--request-timeout, or the command's --timeout); check --context/--kubeconfig and that the cluster is reachable", what)
	case isConnRefused(err):
		return fmt.Errorf("cannot %s: the API server refused the connection (%v); check --context/--kubeconfig", what, err)
	}
	var se *kerrors.StatusError
	if errors.As(err, &se) {
		return fmt.Errorf("cannot %s: %s", what, se.ErrStatus.Message)
	}
	return fmt.Errorf("cannot %s: %v", what, err)
}

func statusMessage(err error) string {
	var se *kerrors.StatusError
	if errors.As(err, &se) {
		return se.ErrStatus.Message
	}
	return err.Error()
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isConnRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}
