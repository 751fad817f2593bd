package policy

import (
	"context"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/destination"
)

// Flags are the options of commands that ask the policy controller. The
// Linkerd namespace, cluster domain and --timeout are the destination's
// (destination.Flags): one set of control-plane flags per command.
type Flags struct {
	Addr string // --policy-addr
}

// AddFlags registers --policy-addr.
func (f *Flags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.Addr, "policy-addr", "", "dial the policy controller's gRPC API (OutboundPolicies) at HOST:PORT directly instead of port-forwarding to port 8090 of linkerd-destination")
}

// Validate checks the values before anything touches the network.
func (f *Flags) Validate() error {
	return destination.ValidateAddr("--policy-addr", f.Addr)
}

// Connect opens the one policy connection of a run, with the namespace and
// timeout of the destination flags.
func (f *Flags) Connect(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, d *destination.Flags) (*Client, error) {
	return Connect(ctx, cfg, cs, d.LinkerdNS, f.Addr, d.Timeout)
}
