package testenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// APIServiceNamespace holds the ExternalName Services RegisterAPIService
// creates. It always exists.
const APIServiceNamespace = "kube-system"

var apiServiceGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// RegisterAPIService routes /apis/<group>/<version> of the apiserver to an
// HTTPS server listening on localhost:port, through an ExternalName Service
// (externalName: localhost) and an APIService with insecureSkipTLSVerify,
// and waits until the APIService is Available. The server must answer
// GET /apis/<group>/<version> with an APIResourceList; see ServerTLSConfig.
// Call UnregisterAPIService before the server goes away when the Env is
// shared, or discovery reports the group as failing.
func (e *Env) RegisterAPIService(ctx context.Context, group, version string, port int) error {
	if group == "" || version == "" || port <= 0 || port > 65535 {
		return fmt.Errorf("testenv: RegisterAPIService(%q, %q, %d): need a group, a version and a port", group, version, port)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	svc := serviceName(group, version)
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  type: ExternalName
  externalName: localhost
  ports:
  - name: https
    port: %[3]d
    protocol: TCP
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: %[5]s.%[4]s
spec:
  group: %[4]s
  version: %[5]s
  groupPriorityMinimum: 1000
  versionPriority: 100
  insecureSkipTLSVerify: true
  service:
    name: %[1]s
    namespace: %[2]s
    port: %[3]d
`, svc, APIServiceNamespace, port, group, version)
	if err := e.Apply(ctx, manifest); err != nil {
		return err
	}
	name := version + "." + group
	err := poll(ctx, func() error {
		live, err := e.Dynamic.Resource(apiServiceGVR).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		reason, status, msg := condition(live, "Available")
		if status != "True" {
			return fmt.Errorf("Available=%s %s: %s", status, reason, msg)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("testenv: APIService %s not available (does https://localhost:%d answer GET /apis/%s/%s?): %w", name, port, group, version, err)
	}
	return nil
}

// UnregisterAPIService removes what RegisterAPIService created.
func (e *Env) UnregisterAPIService(ctx context.Context, group, version string) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	err := e.Dynamic.Resource(apiServiceGVR).Delete(ctx, version+"."+group, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("testenv: deleting APIService %s.%s: %w", version, group, err)
	}
	err = e.Clientset.CoreV1().Services(APIServiceNamespace).Delete(ctx, serviceName(group, version), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("testenv: deleting Service for %s.%s: %w", version, group, err)
	}
	return nil
}

// serviceName is a DNS-1035 label derived from group and version.
func serviceName(group, version string) string {
	n := "testenv-" + strings.ReplaceAll(version+"-"+group, ".", "-")
	n = strings.ToLower(n)
	if len(n) > 63 {
		n = n[:63]
	}
	return strings.TrimRight(n, "-")
}

// ServerTLSConfig is a TLS config for a test extension API server on
// loopback: a serving certificate for localhost/127.0.0.1/::1 signed by
// CAData, and verification of the aggregator's front-proxy client
// certificate when one is presented (see RemoteUser).
func (e *Env) ServerTLSConfig() (*tls.Config, error) {
	kp, err := newCert("testenv-extension-server", e.certs.serverCA, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, loopbackHosts, nil)
	if err != nil {
		return nil, err
	}
	cert, err := kp.tlsCertificate()
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(e.certs.frontCA.cert)
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   tls.VerifyClientCertIfGiven,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// RemoteUser returns the user and groups the aggregation layer forwarded
// with r. ok is false unless r came over TLS with a verified front-proxy
// client certificate (use ServerTLSConfig): only then are the X-Remote-*
// headers trustworthy.
func RemoteUser(r *http.Request) (user string, groups []string, ok bool) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return "", nil, false
	}
	if r.TLS.VerifiedChains[0][0].Subject.CommonName != frontProxyClientName {
		return "", nil, false
	}
	return r.Header.Get("X-Remote-User"), r.Header.Values("X-Remote-Group"), true
}
