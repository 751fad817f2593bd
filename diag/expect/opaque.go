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
	if value == "" {
		return set, nil
	}
	// As the controller reads it (pkg/util GetPortRanges, ParsePortRange):
	// one trailing comma dropped, items trimmed, bounds read by strconv.Atoi
	// (0 and "+80" accepted, inner spaces not).
	for _, part := range strings.Split(strings.TrimSuffix(value, ","), ",") {
		p := strings.TrimSpace(part)
		// Names first: port names often contain '-' ("tcp-db") and must not
		// be read as ranges. Names are compared as they are, so an empty
		// item ("80,,") stands for an unnamed port of the Service.
		named := false
		for _, sp := range ports {
			if sp.Name == p {
				set[sp.Port] = true
				named = true
			}
		}
		if named || p == "" {
			continue
		}
		if lo, hi, ok := strings.Cut(p, "-"); ok {
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil || a < 0 || b > 65535 || a > b {
				problems = append(problems, fmt.Sprintf("%q is not a valid port range", p))
				continue
			}
			for n := a; n <= b; n++ {
				set[uint32(n)] = true
			}
			continue
		}
		if n, err := strconv.Atoi(p); err == nil && n >= 0 && n <= 65535 {
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
