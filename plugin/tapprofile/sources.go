package tapprofile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"

	"github.com/kubectl-profiles/kubectl-profiles/diag/analyze"
	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/source"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
	"github.com/kubectl-profiles/kubectl-profiles/plugin/destination"
)

// Destination answers lookups from a destination service, exactly as the
// tapped proxy asks: the service FQDN and port, with a context token
// holding the client namespace (so client-namespace overrides apply).
type Destination struct {
	Client        *destination.Client
	ClusterDomain string
	// Timeout bounds one lookup; silence after it is ErrSilent. When zero,
	// ctx's deadline does.
	Timeout time.Duration
}

// Profile implements Source. Silence is reported as an error wrapping
// report.ErrSilent.
func (d *Destination) Profile(ctx context.Context, k Key) (*pb.DestinationProfile, string, error) {
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
		if deadline, ok := ctx.Deadline(); ok {
			timeout = timeUntil(deadline)
		}
	}
	dp, err := d.Client.GetProfile(ctx, k.Path(d.ClusterDomain), destination.Token{Namespace: k.ClientNamespace}, timeout)
	return dp, "", err
}

// Files answers lookups from ServiceProfile files instead of the cluster,
// with the destination's precedence (diag/expect, as `get` uses it): a
// profile in the client namespace wins over one in the service's
// namespace. Services no file names are treated as having no
// ServiceProfile (the files stand for the whole cluster); that is reported
// once per service. Ports are not checked and no port is opaque (there is
// no Service to read them from).
type Files struct {
	ClusterDomain string
	// byName: profile name -> one candidate per namespace.
	byName map[string][]expect.Candidate
}

// LoadFiles reads ServiceProfiles the way `check -f` does (diag/source:
// multi-document YAML or JSON, List objects, directories, "-" for stdin)
// and decodes each as the destination controller does. Objects of other
// kinds are skipped; a document that does not parse, or a second profile
// with the same name and namespace, is an error, as is a set of files
// holding no ServiceProfile at all. Each profile is translated once to
// reject, up front, one the destination would refuse to serve.
func LoadFiles(ctx context.Context, paths []string, stdin io.Reader, clusterDomain string, defaultNS string) (*Files, error) {
	docs, err := source.Loader{Stdin: stdin}.Load(ctx, paths)
	if err != nil {
		return nil, fmt.Errorf("--profile: %v", err)
	}
	f := &Files{ClusterDomain: clusterDomain, byName: map[string][]expect.Candidate{}}
	n := 0
	for i := range docs {
		d := &docs[i]
		at := d.File
		if d.Line > 0 {
			at = fmt.Sprintf("%s:%d", d.File, d.Line)
		}
		if d.Err != nil {
			return nil, fmt.Errorf("--profile %s: %v", at, d.Err)
		}
		if d.Kind() != profile.Kind {
			continue // a Service or a Deployment next to the profile, as check -f skips them
		}
		if !analyze.IsServiceProfile(d) {
			return nil, fmt.Errorf("--profile %s: kind %s with apiVersion %q: want %s/<version>", at, profile.Kind, d.APIVersion(), profile.Group)
		}
		sp, err := profile.FromJSONObject(d.Object)
		if err != nil {
			return nil, fmt.Errorf("--profile %s: not a ServiceProfile the destination can read: %v", at, err)
		}
		if sp.Namespace == "" {
			sp.Namespace = defaultNS
		}
		ref, ok := profile.ParseFQDN(sp.Name, clusterDomain)
		if !ok {
			return nil, fmt.Errorf("--profile %s: name %q is not <service>.<namespace>.svc.%s, so the destination never serves it",
				at, sp.Name, domainOr(clusterDomain))
		}
		if _, _, err := translate.Profile(sp, translate.Target{Service: ref, Port: 80, FQDN: sp.Name, ProfileNS: sp.Namespace}); err != nil {
			return nil, fmt.Errorf("--profile %s: the destination would not serve this profile: %v", at, err)
		}
		for _, c := range f.byName[sp.Name] {
			if c.Namespace == sp.Namespace {
				return nil, fmt.Errorf("--profile %s: a second profile %s in namespace %s", at, sp.Name, sp.Namespace)
			}
		}
		f.byName[sp.Name] = append(f.byName[sp.Name], expect.Candidate{Namespace: sp.Namespace, Name: sp.Name, Profile: sp})
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("--profile %s: no ServiceProfile (kind %s, apiVersion %s/...) in it", strings.Join(paths, ", "), profile.Kind, profile.Group)
	}
	return f, nil
}

// noOpaque: Files has no Service annotation to read; no port is opaque.
var noOpaque = ""

// outcome answers k as the destination would from the files alone.
func (f *Files) outcome(k Key) expect.Outcome {
	return expect.Expect(expect.Lookup{
		Service: expect.Service{Name: k.Service, Namespace: k.Namespace,
			Ports: []expect.ServicePort{{Port: k.Port}}, OpaquePorts: &noOpaque},
		Port:            k.Port,
		ClientNamespace: k.ClientNamespace,
		ClusterDomain:   f.ClusterDomain,
		Candidates:      f.byName[k.FQDN(f.ClusterDomain)],
	})
}

// Profile implements Source.
func (f *Files) Profile(_ context.Context, k Key) (*pb.DestinationProfile, string, error) {
	out := f.outcome(k)
	switch {
	case out.Rejected != nil:
		return nil, "", errors.New(out.Rejected.Reason)
	case out.Unserved != nil:
		return nil, "", out.Unserved
	case out.InEffect == nil:
		return out.Expected, fmt.Sprintf("no --profile file for %s: treating it as having no ServiceProfile", out.FQDN), nil
	}
	return out.Expected, "", nil
}

// InEffect returns the file's profile the lookup k is answered from (the
// client namespace's, else the service namespace's), or nil.
func (f *Files) InEffect(k Key) *profile.ServiceProfile {
	if c := f.outcome(k).InEffect; c != nil {
		return c.Profile
	}
	return nil
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
