package tapprofile

import (
	"context"
	"fmt"
	"os"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"

	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/destination"
)

// Destination answers lookups from a destination service, exactly as the
// tapped proxy asks: the service FQDN and port, with a context token
// holding the client namespace (so client-namespace overrides apply).
type Destination struct {
	Client        *destination.Client
	ClusterDomain string
}

// Profile implements Source. The lookup ends when ctx does (the
// Classifier's timeout); silence is reported as an error.
func (d *Destination) Profile(ctx context.Context, k Key) (*pb.DestinationProfile, string, error) {
	deadline, ok := ctx.Deadline()
	timeout := DefaultTimeout
	if ok {
		timeout = timeUntil(deadline)
	}
	dp, err := d.Client.GetProfile(ctx, k.Path(d.ClusterDomain), destination.Token{Namespace: k.ClientNamespace}, timeout)
	return dp, "", err
}

// Files answers lookups from ServiceProfile files instead of the cluster,
// with the destination's rules: a profile in the client namespace wins
// over one in the service's namespace. Services no file names are treated
// as having no ServiceProfile (the files stand for the whole cluster);
// that is reported once per service. Ports are not checked (there is no
// Service to check them against).
type Files struct {
	ClusterDomain string
	// byName: profile name -> namespace -> profile.
	byName map[string]map[string]*profile.ServiceProfile
}

// LoadFiles reads and decodes ServiceProfile files. Each profile is
// translated once to reject, up front, one the destination would refuse
// to serve.
func LoadFiles(paths []string, clusterDomain string, defaultNS string) (*Files, error) {
	f := &Files{ClusterDomain: clusterDomain, byName: map[string]map[string]*profile.ServiceProfile{}}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("--profile: %v", err)
		}
		sp, err := profile.Decode(data)
		if err != nil {
			return nil, fmt.Errorf("--profile %s: not a ServiceProfile the destination can read: %v", p, err)
		}
		if sp.Kind != "" && sp.Kind != profile.Kind {
			return nil, fmt.Errorf("--profile %s: kind is %q, want %s", p, sp.Kind, profile.Kind)
		}
		if sp.Namespace == "" {
			sp.Namespace = defaultNS
		}
		ref, ok := profile.ParseFQDN(sp.Name, clusterDomain)
		if !ok {
			return nil, fmt.Errorf("--profile %s: name %q is not <service>.<namespace>.svc.%s, so the destination never serves it",
				p, sp.Name, domainOr(clusterDomain))
		}
		if _, _, err := translate.Profile(sp, translate.Target{Service: ref, Port: 80, FQDN: sp.Name, ProfileNS: sp.Namespace}); err != nil {
			return nil, fmt.Errorf("--profile %s: the destination would not serve this profile: %v", p, err)
		}
		if f.byName[sp.Name] == nil {
			f.byName[sp.Name] = map[string]*profile.ServiceProfile{}
		}
		if f.byName[sp.Name][sp.Namespace] != nil {
			return nil, fmt.Errorf("--profile %s: a second profile %s in namespace %s", p, sp.Name, sp.Namespace)
		}
		f.byName[sp.Name][sp.Namespace] = sp
	}
	return f, nil
}

// Profile implements Source.
func (f *Files) Profile(_ context.Context, k Key) (*pb.DestinationProfile, string, error) {
	fqdn := k.FQDN(f.ClusterDomain)
	t := translate.Target{Service: profile.ServiceRef{Name: k.Service, Namespace: k.Namespace}, Port: k.Port, FQDN: fqdn}
	byNS := f.byName[fqdn]
	sp := byNS[k.ClientNamespace]
	if sp == nil {
		sp = byNS[k.Namespace]
	}
	if sp == nil {
		return translate.Default(t), fmt.Sprintf("no --profile file for %s: treating it as having no ServiceProfile", fqdn), nil
	}
	t.ProfileNS = sp.Namespace
	dp, _, err := translate.Profile(sp, t)
	return dp, "", err
}

// Find returns the loaded profile named name in namespace ns, or nil.
func (f *Files) Find(name, ns string) *profile.ServiceProfile {
	return f.byName[name][ns]
}

func domainOr(d string) string {
	if d == "" {
		return profile.DefaultClusterDomain
	}
	return d
}

func timeUntil(t time.Time) time.Duration {
	d := time.Until(t)
	if d <= 0 {
		return time.Millisecond
	}
	return d
}
