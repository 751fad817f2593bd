package policy

import (
	"fmt"
	"regexp"
	"strconv"
)

// ControlPlane is what the plugin knows of the control plane's release.
type ControlPlane struct {
	// Version is the release as read (linkerdVersion of the linkerd-config
	// ConfigMap, or the destination image's tag); "" when unknown.
	Version string
	// From says where Version was read.
	From string
}

var (
	stableRe = regexp.MustCompile(`^(?:stable|enterprise|version)-2\.(\d+)(?:\.\d+)?`)
	edgeRe   = regexp.MustCompile(`^edge-(\d+)\.(\d+)\.(\d+)`)
	semverRe = regexp.MustCompile(`^v?2\.(\d+)\.\d+`)
)

// HonoursGatewayRuleTimeouts tells whether a control plane of this release
// honours gateway.networking.k8s.io HTTPRoute rules[].timeouts (reference
// §7.2: only since #14750, edge-25.11.3, stable 2.20). known is false when
// the version cannot be read (empty, a custom tag, a digest).
func HonoursGatewayRuleTimeouts(version string) (honoured, known bool) {
	if m := stableRe.FindStringSubmatch(version); m != nil {
		minor, _ := strconv.Atoi(m[1])
		return minor >= 20, true
	}
	if m := semverRe.FindStringSubmatch(version); m != nil {
		minor, _ := strconv.Atoi(m[1])
		return minor >= 20, true
	}
	if m := edgeRe.FindStringSubmatch(version); m != nil {
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		n, _ := strconv.Atoi(m[3])
		return fmt.Sprintf("%03d.%03d.%03d", y, mo, n) >= "025.011.003", true
	}
	return false, false
}
