package destination

import (
	"context"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

// Flags are the options of every command that asks the destination
// service: where it is and how long a lookup may take.
type Flags struct {
	Addr          string        // --destination-addr
	LinkerdNS     string        // --linkerd-namespace
	ClusterDomain string        // --cluster-domain
	Timeout       time.Duration // --timeout, per lookup
}

// AddFlags registers the flags; timeoutHelp says what --timeout bounds.
func (f *Flags) AddFlags(fs *pflag.FlagSet, timeoutHelp string) {
	ns := os.Getenv("LINKERD_NAMESPACE")
	if ns == "" {
		ns = "linkerd"
	}
	fs.StringVar(&f.Addr, "destination-addr", "", "dial the destination gRPC API at HOST:PORT directly instead of port-forwarding")
	fs.StringVar(&f.LinkerdNS, "linkerd-namespace", ns, "namespace of the Linkerd control plane (env LINKERD_NAMESPACE)")
	fs.StringVar(&f.ClusterDomain, "cluster-domain", profile.DefaultClusterDomain, "the cluster's DNS domain, as configured in Linkerd")
	fs.DurationVar(&f.Timeout, "timeout", 5*time.Second, timeoutHelp)
}

// Validate checks the values before anything touches the network.
func (f *Flags) Validate() error {
	if f.Timeout <= 0 {
		return cli.Usagef("--timeout must be positive")
	}
	if f.ClusterDomain == "" {
		return cli.Usagef("--cluster-domain must not be empty")
	}
	return ValidateAddr("--destination-addr", f.Addr)
}

// ValidateAddr checks that a HOST:PORT flag value (flag is its name) is
// empty or has a host and a port in 1..65535.
func ValidateAddr(flag, addr string) error {
	if addr == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	n, perr := strconv.Atoi(port)
	if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		return cli.Usagef("%s %q is not HOST:PORT with a port in 1..65535", flag, addr)
	}
	return nil
}

// Connect opens the one connection of a run (see Connect).
func (f *Flags) Connect(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface) (*Client, error) {
	return Connect(ctx, cfg, cs, f.LinkerdNS, f.Addr, f.Timeout)
}
