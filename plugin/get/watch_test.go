package get

import (
	"strings"
	"testing"
	"time"

	pb "github.com/linkerd/linkerd2-proxy-api/go/destination"
	"github.com/linkerd/linkerd2-proxy-api/go/meta"
	"google.golang.org/protobuf/types/known/durationpb"
)

func watchRoute(name string, timeout time.Duration) *pb.Route {
	return &pb.Route{MetricsLabels: map[string]string{"route": name}, Timeout: durationpb.New(timeout)}
}

func watchProfile(ns string, routes ...*pb.Route) *pb.DestinationProfile {
	p := &pb.DestinationProfile{Routes: routes, ProfileRef: &meta.Metadata{Kind: &meta.Metadata_Resource{Resource: &meta.Resource{Group: "linkerd.io"}}}}
	if ns != "" {
		p.ProfileRef = &meta.Metadata{Kind: &meta.Metadata_Resource{Resource: &meta.Resource{Group: "linkerd.io", Kind: "ServiceProfile", Namespace: ns, Name: "web." + ns + ".svc.cluster.local"}}}
	}
	return p
}

// TestDescribeChanges: what a push changed, said route by route.
func TestDescribeChanges(t *testing.T) {
	a := watchProfile("books", watchRoute("GET /books", time.Second), watchRoute("POST /books", 0))
	tests := []struct {
		name     string
		prev, to *pb.DestinationProfile
		want     string
	}{
		{"timeout", a, watchProfile("books", watchRoute("GET /books", 2*time.Second), watchRoute("POST /books", 0)), "route GET /books timeout 1s -> 2s"},
		{"route added", a, watchProfile("books", watchRoute("GET /books", time.Second), watchRoute("POST /books", 0), watchRoute("DELETE /books", 0)), "route DELETE /books added"},
		{"deleted: the default profile", a, watchProfile(""), "profile ServiceProfile books/web.books.svc.cluster.local -> default profile; route GET /books removed; route POST /books removed"},
		{"override", a, watchProfile("foobar", watchRoute("GET /books", time.Second), watchRoute("POST /books", 0)), "profile ServiceProfile books/web.books.svc.cluster.local -> ServiceProfile foobar/web.foobar.svc.cluster.local"},
		{"same content", a, watchProfile("books", watchRoute("GET /books", time.Second), watchRoute("POST /books", 0)), "same content (a new version of the same object, e.g. a metadata-only edit)"},
	}
	for _, tt := range tests {
		if got := strings.Join(describeChanges(tt.prev, tt.to), "; "); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
