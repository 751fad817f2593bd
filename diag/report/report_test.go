package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	gproto "google.golang.org/protobuf/proto"

	"github.com/kubectl-profiles/kubectl-profiles/diag/expect"
	"github.com/kubectl-profiles/kubectl-profiles/diag/profile"
	"github.com/kubectl-profiles/kubectl-profiles/diag/translate"
)

func codesOf(p PortReport) []string {
	var out []string
	for _, f := range p.Findings {
		out = append(out, f.Code)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestBuildDriftAndSilence(t *testing.T) {
	svc := expect.Service{Name: "web", Namespace: "ns", Ports: []expect.ServicePort{{Port: 80}}}
	sp := &profile.ServiceProfile{}
	sp.Name, sp.Namespace = "web.ns.svc.cluster.local", "ns"
	sp.Spec.Routes = []*profile.RouteSpec{{Name: "r", Condition: &profile.RequestMatch{PathRegex: "/r"}, Timeout: "1s"}}
	cands := []expect.Candidate{{Namespace: "ns", Name: sp.Name, ResourceVersion: "7", Profile: sp}}
	expected, _, err := translate.Profile(sp, translate.Target{
		Service: profile.ServiceRef{Name: "web", Namespace: "ns"}, Port: 80, FQDN: sp.Name})
	if err != nil {
		t.Fatal(err)
	}

	stale := proto(expected)
	stale.Routes[0].Timeout = nil
	tests := []struct {
		name       string
		served     *pb.DestinationProfile
		err        error
		result     string
		drift      int
		wantCode   string
		absentCode string
	}{
		{"matches", proto(expected), nil, ResultServed, 0, "", "served-differs"},
		{"stale timeout", stale, nil, ResultServed, 1, "served-differs", ""},
		{"silent although valid", nil, fmt.Errorf("x: %w", ErrSilent), ResultSilent, 1, "destination-silent", ""},
		{"grpc error", nil, errors.New("Unknown: boom"), ResultError, 0, "", "served-differs"},
		{"empty profile for a port on the Service", &pb.DestinationProfile{}, nil, ResultServed, 5, "port-not-on-service", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Build(Input{Service: svc, Client: Client{Namespace: "ns"}, Candidates: cands,
				Lookups: []PortLookup{{Port: 80, Served: tt.served, Err: tt.err}}})
			p := r.Ports[0]
			if p.Lookup.Result != tt.result || len(p.Drift) != tt.drift {
				t.Fatalf("result %s drift %+v", p.Lookup.Result, p.Drift)
			}
			if p.InEffect.Source != expect.SourceService || p.InEffect.ResourceVersion != "7" {
				t.Errorf("inEffect = %+v", p.InEffect)
			}
			if tt.wantCode != "" && !contains(codesOf(p), tt.wantCode) {
				t.Errorf("missing %s in %v", tt.wantCode, codesOf(p))
			}
			if tt.absentCode != "" && contains(codesOf(p), tt.absentCode) {
				t.Errorf("unexpected %s in %v", tt.absentCode, codesOf(p))
			}
		})
	}
}

func proto(m *pb.DestinationProfile) *pb.DestinationProfile {
	return gproto.Clone(m).(*pb.DestinationProfile)
}

func TestFindingsAndPodAreAlwaysPresentInJSON(t *testing.T) {
	svc := expect.Service{Name: "web", Namespace: "ns", Ports: []expect.ServicePort{{Port: 80}}}
	sp := &profile.ServiceProfile{}
	sp.Name, sp.Namespace = "web.ns.svc.cluster.local", "ns"
	sp.Spec.Routes = []*profile.RouteSpec{{Name: "r", Condition: &profile.RequestMatch{PathRegex: "/r"}}}
	served, _, err := translate.Profile(sp, translate.Target{Service: profile.ServiceRef{Name: "web", Namespace: "ns"}, Port: 80, FQDN: sp.Name})
	if err != nil {
		t.Fatal(err)
	}
	r := Build(Input{Service: svc, Client: Client{Namespace: "ns"},
		Candidates: []expect.Candidate{{Namespace: "ns", Name: sp.Name, Profile: sp}},
		Lookups:    []PortLookup{{Port: 80, Served: served}}})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"findings":[]`, `"drift":[]`, `"pod":""`, `"overrides":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
}
