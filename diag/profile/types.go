// Package profile holds the ServiceProfile resource as the Linkerd control
// plane decodes it, and the naming rules that decide whether it is ever used.
//
// The Go shapes follow the destination controller's v1alpha2 types, not the
// CRD schema: where the two disagree (request-level `not`, `opaquePorts`), an
// object that the API server accepts can still fail to decode in the
// controller, and Decode reports exactly that.
package profile

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Group, versions and resource of the ServiceProfile CRD.
const (
	Group          = "linkerd.io"
	StorageVersion = "v1alpha2"
	Kind           = "ServiceProfile"
	Resource       = "serviceprofiles"
)

// ServiceProfile is a linkerd.io/v1alpha2 ServiceProfile.
type ServiceProfile struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              Spec `json:"spec"`
}

// Spec is the ServiceProfile spec.
type Spec struct {
	Routes       []*RouteSpec   `json:"routes,omitempty"`
	RetryBudget  *RetryBudget   `json:"retryBudget,omitempty"`
	DstOverrides []*WeightedDst `json:"dstOverrides,omitempty"`
	// OpaquePorts is a map in the controller's Go type although the CRD
	// declares a string array; Decode turns that mismatch into an error.
	OpaquePorts map[uint32]struct{} `json:"opaquePorts,omitempty"`
}

// RouteSpec is one route.
type RouteSpec struct {
	Name            string           `json:"name"`
	Condition       *RequestMatch    `json:"condition,omitempty"`
	ResponseClasses []*ResponseClass `json:"responseClasses,omitempty"`
	IsRetryable     bool             `json:"isRetryable,omitempty"`
	Timeout         string           `json:"timeout,omitempty"`
}

// RequestMatch is a request condition. Not is a single object in the
// controller (an array in the CRD schema).
type RequestMatch struct {
	All       []*RequestMatch `json:"all,omitempty"`
	Not       *RequestMatch   `json:"not,omitempty"`
	Any       []*RequestMatch `json:"any,omitempty"`
	PathRegex string          `json:"pathRegex,omitempty"`
	Method    string          `json:"method,omitempty"`
}

// ResponseClass classifies responses of a route.
type ResponseClass struct {
	Condition *ResponseMatch `json:"condition"`
	IsFailure bool           `json:"isFailure,omitempty"`
}

// ResponseMatch is a response condition.
type ResponseMatch struct {
	All    []*ResponseMatch `json:"all,omitempty"`
	Not    *ResponseMatch   `json:"not,omitempty"`
	Any    []*ResponseMatch `json:"any,omitempty"`
	Status *Range           `json:"status,omitempty"`
}

// Range is an inclusive HTTP status range; 0 means "unset".
type Range struct {
	Min uint32 `json:"min,omitempty"`
	Max uint32 `json:"max,omitempty"`
}

// RetryBudget bounds retries across all routes.
type RetryBudget struct {
	RetryRatio          float32 `json:"retryRatio"`
	MinRetriesPerSecond uint32  `json:"minRetriesPerSecond"`
	TTL                 string  `json:"ttl"`
}

// WeightedDst is a traffic-split target.
type WeightedDst struct {
	Authority string            `json:"authority"`
	Weight    resource.Quantity `json:"weight"`
}
