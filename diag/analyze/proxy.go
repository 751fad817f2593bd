package analyze

import (
	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"

	"github.com/kubectl-profiles/kubectl-profiles/diag/finding"
)

// ProxyDrops reports what linkerd2-proxy drops from a profile it is sent.
// TODO(lead): wire to diag/proxy.Convert when it lands.
func ProxyDrops(dp *pb.DestinationProfile) []finding.Finding {
	return nil
}
