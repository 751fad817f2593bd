package tapclient

import (
	"fmt"
	"sort"
	"strings"
)

// Canonical resource types accepted by the tap API.
const (
	TypeCronJob               = "cronjob"
	TypeDaemonSet             = "daemonset"
	TypeDeployment            = "deployment"
	TypeJob                   = "job"
	TypeNamespace             = "namespace"
	TypePod                   = "pod"
	TypeReplicaSet            = "replicaset"
	TypeReplicationController = "replicationcontroller"
	TypeStatefulSet           = "statefulset"
	TypeService               = "service" // destinations only (linkerd rejects it as a tap target)
)

// friendly maps every accepted spelling (short, singular, plural) to the
// canonical singular type.
var friendly = map[string]string{}

func init() {
	for _, n := range []struct{ short, full string }{
		{"cj", TypeCronJob}, {"ds", TypeDaemonSet}, {"deploy", TypeDeployment},
		{"job", TypeJob}, {"ns", TypeNamespace}, {"po", TypePod},
		{"rs", TypeReplicaSet}, {"rc", TypeReplicationController},
		{"sts", TypeStatefulSet}, {"svc", TypeService},
	} {
		friendly[n.short] = n.full
		friendly[n.full] = n.full
		friendly[n.full+"s"] = n.full
	}
}

// targetTypes are the types a tap may target (linkerd's ValidTargets);
// destinations additionally allow services.
var targetTypes = map[string]bool{
	TypeCronJob: true, TypeDaemonSet: true, TypeDeployment: true, TypeJob: true,
	TypeNamespace: true, TypePod: true, TypeReplicaSet: true,
	TypeReplicationController: true, TypeStatefulSet: true,
}

// Target names what to tap (or, in Request.To, the destination to filter on).
// Type is the canonical singular type; Namespace is empty for namespace targets
// (the namespace is then the Name).
type Target struct {
	Namespace string `json:"namespace,omitempty"`
	Type      string `json:"type"`
	Name      string `json:"name,omitempty"`
}

// String renders the target the way kubectl users type it: "deployment/web",
// "namespace/emojivoto", or just "deployment" when no name is set.
func (t Target) String() string {
	if t.Name == "" {
		return t.Type
	}
	return t.Type + "/" + t.Name
}

// CanonicalType maps a friendly type name (deploy, po, sts, ds, rs, rc, cj,
// job, ns, svc, plurals) to its canonical singular form.
func CanonicalType(s string) (string, bool) {
	t, ok := friendly[strings.ToLower(s)]
	return t, ok
}

// TargetTypes lists the canonical types accepted as a tap target.
func TargetTypes() []string { return sortedKeys(targetTypes) }

// NewTarget canonicalises typ and validates it as a tap target. For a
// namespace target the namespace field is cleared, as linkerd does, and an
// empty name defaults to namespace.
func NewTarget(namespace, typ, name string) (Target, error) {
	return newTarget(namespace, typ, name, false)
}

// NewDestination is NewTarget for the --to destination, which also accepts
// services.
func NewDestination(namespace, typ, name string) (Target, error) {
	return newTarget(namespace, typ, name, true)
}

// ParseTarget accepts kubectl-style arguments: "TYPE", "TYPE/NAME" or
// "TYPE", "NAME".
func ParseTarget(namespace string, args ...string) (Target, error) {
	typ, name, err := splitArgs(args)
	if err != nil {
		return Target{}, err
	}
	return NewTarget(namespace, typ, name)
}

// ParseDestination is ParseTarget for --to (services allowed).
func ParseDestination(namespace string, args ...string) (Target, error) {
	typ, name, err := splitArgs(args)
	if err != nil {
		return Target{}, err
	}
	return NewDestination(namespace, typ, name)
}

func splitArgs(args []string) (typ, name string, err error) {
	joined := strings.Join(args, "/")
	parts := strings.Split(joined, "/")
	switch {
	case len(args) == 0 || len(args) > 2 || joined == "":
		return "", "", fmt.Errorf("expected TYPE, TYPE/NAME or TYPE NAME, got %q", strings.Join(args, " "))
	case len(parts) == 1:
		return parts[0], "", nil
	case len(parts) == 2 && parts[1] != "":
		return parts[0], parts[1], nil
	}
	return "", "", fmt.Errorf("expected TYPE, TYPE/NAME or TYPE NAME, got %q", strings.Join(args, " "))
}

func newTarget(namespace, typ, name string, dest bool) (Target, error) {
	canon, ok := CanonicalType(typ)
	if !ok || (!dest && !targetTypes[canon]) {
		allowed := TargetTypes()
		if dest {
			allowed = append(allowed, TypeService)
			sort.Strings(allowed)
		}
		return Target{}, fmt.Errorf("unsupported resource type %q: use one of %s", typ, strings.Join(allowed, ", "))
	}
	if canon == TypeNamespace {
		// A namespace target names itself; "tap ns" taps the current namespace.
		if name == "" {
			name = namespace
		}
		namespace = ""
	}
	return Target{Namespace: namespace, Type: canon, Name: name}, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
