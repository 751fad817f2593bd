package analyze

import (
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/diag/model"
)

func TestNearMiss(t *testing.T) {
	svc := model.Service{Name: "webapp", Namespace: "books"}
	known := map[model.NamespacedName]bool{{Namespace: "books", Name: "webapp2"}: true}
	tests := []struct {
		name string
		want string // substring; "" = not a near miss
	}{
		{"webapp.books.svc.cluster.local", ""},
		{"webapp.books.svc.cluster.local.", "trailing dot"},
		{"webapp.books.svc", `missing ".cluster.local"`},
		{"webapp.books", `missing ".svc.cluster.local"`},
		{"webapp", "missing"},
		{"webapp.books.svc.mycluster.local", `cluster domain "mycluster.local"`},
		{"webap.books.svc.cluster.local", "1 character(s) away"},
		{"webapp2.books.svc.cluster.local", ""}, // the profile of an existing Service
		{"authors.books.svc.cluster.local", ""},
		{"totally-unrelated", ""},
	}
	for _, tt := range tests {
		got := NearMiss(tt.name, svc, "cluster.local", known, "books")
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("NearMiss(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
