package expect

import (
	"fmt"
	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
	"strconv"
	"strings"
)

// OpaquePortsAnnotation is the Service annotation that marks ports opaque.
const OpaquePortsAnnotation = model.OpaquePortsAnnotation

// DefaultOpaquePorts is the control plane chart's default for Services
// without the annotation.
const DefaultOpaquePorts = "25,587,3306,4444,5432,6379,9300,11211"

// OpaquePorts parses an opaque-ports value: port numbers, ranges (a-b) and
// names of the Service's ports, comma separated. Unknown names and bad
// entries are returned as problems, not errors: the controller skips them.
func OpaquePorts(value string, ports []ServicePort) (set map[uint32]bool, problems []string) {
	set = map[uint32]bool{}
	for _, part := range strings.Split(value, ",") {
		p := strings.TrimSpace(part)
		if p == "" {
			continue
		}
		// Names first: port names often contain '-' ("tcp-db") and must not
		// be read as ranges.
		named := false
		for _, sp := range ports {
			if sp.Name != "" && sp.Name == p {
				set[sp.Port] = true
				named = true
			}
		}
		if named {
			continue
		}
		if lo, hi, ok := strings.Cut(p, "-"); ok {
			a, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
			b, err2 := strconv.ParseUint(strings.TrimSpace(hi), 10, 16)
			if err1 != nil || err2 != nil || a == 0 || a > b {
				problems = append(problems, fmt.Sprintf("%q is not a valid port range", p))
				continue
			}
			for n := a; n <= b; n++ {
				set[uint32(n)] = true
			}
			continue
		}
		if n, err := strconv.ParseUint(p, 10, 16); err == nil && n > 0 {
			set[uint32(n)] = true
			continue
		}
		problems = append(problems, fmt.Sprintf("%q is neither a port number, a range nor a port name of the Service", p))
	}
	return set, problems
}

// IsOpaque tells whether port is opaque for svc, and why.
func IsOpaque(svc Service, port uint32, defaults string) (opaque bool, reason string) {
	if svc.OpaquePorts != nil {
		set, _ := OpaquePorts(*svc.OpaquePorts, svc.Ports)
		if set[port] {
			return true, fmt.Sprintf("the Service's %s annotation (%q) lists it", OpaquePortsAnnotation, *svc.OpaquePorts)
		}
		return false, ""
	}
	set, _ := OpaquePorts(defaults, nil)
	if set[port] {
		return true, fmt.Sprintf("it is one of the control plane's default opaque ports (%s) and the Service has no %s annotation", defaults, OpaquePortsAnnotation)
	}
	return false, ""
}
