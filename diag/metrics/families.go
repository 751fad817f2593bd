package metrics

import (
	"io"
	"strings"
)

// ParseFamilies is Parse for any Prometheus exposition (e.g. Linkerd's
// control plane, destination-metrics.md): it keeps the families whose name
// is in families instead of the proxy's route families. A histogram family
// keeps its _bucket, _count and _sum samples. Limits apply as in Parse.
func ParseFamilies(r io.Reader, lim Limits, families ...string) (*Snapshot, error) {
	want := make(map[string]bool, len(families))
	for _, f := range families {
		want[f] = true
	}
	return parseSelected(r, lim, func(name string, _ []byte) bool {
		if want[name] {
			return true
		}
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && want[base] {
				return true
			}
		}
		return false
	})
}
