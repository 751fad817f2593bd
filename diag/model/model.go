// Package model holds the plain facts about a cluster that the fetch layer
// (plugin/kube) fills and the analyzers (diag/analyze) read: Services and
// their ports, ServiceProfiles by namespace, HTTPRoutes attached to
// Services. It has no logic beyond small accessors, so that reading the
// cluster and judging it stay apart.
package model

import "github.com/kubectl-profiles/kubectl-profiles/diag/profile"

// NamespacedName names a namespaced object.
type NamespacedName struct{ Namespace, Name string }

// ServicePort is one port of a Service.
type ServicePort struct {
	Name string
	Port uint32
	// Protocol is TCP, UDP or SCTP; "" reads as TCP (the API default).
	Protocol string
}

// Service is what Linkerd's control plane knows about a Service.
type Service struct {
	Name         string
	Namespace    string
	Ports        []ServicePort
	ExternalName bool
	// OpaquePorts is the opaque-ports annotation; nil when absent (the
	// defaults apply), "" when present but empty (no opaque ports).
	OpaquePorts *string
}

// OpaquePortsAnnotation is the Service annotation that marks ports opaque.
const OpaquePortsAnnotation = "config.linkerd.io/opaque-ports"

// HasPort tells whether port is a service port (not a targetPort).
func (s Service) HasPort(port uint32) bool {
	for _, p := range s.Ports {
		if p.Port == port {
			return true
		}
	}
	return false
}

// ProfileObject is a ServiceProfile read from the cluster or a file, as the
// controller decodes it. DecodeErr is set when the controller could not
// decode it (Profile is then nil).
type ProfileObject struct {
	Namespace       string
	Name            string
	ResourceVersion string
	Profile         *profile.ServiceProfile
	DecodeErr       error
}

// HTTPRoute is an HTTPRoute (policy.linkerd.io or gateway.networking.k8s.io)
// whose parentRefs name a Service.
type HTTPRoute struct {
	Group     string
	Namespace string
	Name      string
	Port      uint32 // parentRef port; 0 = every port
}

// Cluster holds the facts read from a cluster. A namespace missing from
// Listed has unknown Services: analyzers that need them skip it.
type Cluster struct {
	Services   map[NamespacedName]Service
	Listed     map[string]bool
	HTTPRoutes map[NamespacedName][]HTTPRoute // by Service
	// Profiles holds the ServiceProfiles known to exist (namespace, name).
	Profiles map[NamespacedName]bool
	// DefaultOpaquePorts of the control plane; "" for the chart default.
	DefaultOpaquePorts string
}

// NewCluster returns empty facts, ready to be filled.
func NewCluster() *Cluster {
	return &Cluster{
		Services:   map[NamespacedName]Service{},
		Listed:     map[string]bool{},
		HTTPRoutes: map[NamespacedName][]HTTPRoute{},
		Profiles:   map[NamespacedName]bool{},
	}
}
