package tapprofile

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-profiles/kubectl-profiles/tapclient"
)

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sp(name, ns, route string) string {
	return `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: ` + name + `, namespace: ` + ns + `}
spec:
  routes:
  - {name: ` + route + `, condition: {method: GET, pathRegex: /` + route + `}}
`
}

// --profile reads files as `check -f` does: every document of a
// multi-document file, List items, other kinds skipped; and the profile in
// effect follows the destination's precedence (client namespace first).
func TestLoadFilesMultiDocumentAndList(t *testing.T) {
	multi := writeFile(t, "multi.yaml", `apiVersion: v1
kind: Service
metadata: {name: webapp, namespace: booksapp}
spec: {ports: [{port: 7000}]}
---
`+sp("books.booksapp.svc.cluster.local", "booksapp", "books")+`---
`+sp("webapp.booksapp.svc.cluster.local", "booksapp", "server"))
	list := writeFile(t, "list.json", `{"apiVersion": "v1", "kind": "List", "items": [
	  {"apiVersion": "linkerd.io/v1alpha2", "kind": "ServiceProfile",
	   "metadata": {"name": "webapp.booksapp.svc.cluster.local", "namespace": "client"},
	   "spec": {"routes": [{"name": "client", "condition": {"method": "GET", "pathRegex": "/client"}}]}}]}`)
	f, err := LoadFiles(context.Background(), []string{multi, list}, nil, "cluster.local", "default")
	if err != nil {
		t.Fatal(err)
	}
	c := &Classifier{Source: f}
	ctx := context.Background()
	classify := func(svc, clientNS, path string) Result {
		ev := &tapclient.Event{Direction: tapclient.DirectionOutbound, Kind: tapclient.KindRequest, Method: "GET", Path: path,
			Authority:   svc + ".booksapp.svc.cluster.local:7000",
			Source:      tapclient.Endpoint{Labels: map[string]string{"namespace": clientNS}},
			Destination: tapclient.Endpoint{Labels: map[string]string{"service": svc, "namespace": "booksapp"}}}
		return c.Classify(ctx, ev)
	}
	for _, tt := range []struct {
		svc, clientNS, path, route string
	}{
		{"books", "booksapp", "/books", "books"},    // the first profile of the file
		{"webapp", "booksapp", "/server", "server"}, // the second one, no longer ignored
		{"webapp", "client", "/client", "client"},   // the List's: the client namespace's wins
		{"webapp", "other", "/server", "server"},    // no override there: the service namespace's
	} {
		if got := classify(tt.svc, tt.clientNS, tt.path); got.Status != Matched || got.Route != tt.route {
			t.Errorf("%s from %s %s: %+v, want route %q", tt.svc, tt.clientNS, tt.path, got, tt.route)
		}
	}
	k := Key{Service: "webapp", Namespace: "booksapp", Port: 7000, ClientNamespace: "client"}
	if p := f.InEffect(k); p == nil || p.Namespace != "client" {
		t.Errorf("InEffect(%+v) = %v, want the client namespace's", k, p)
	}
	k.ClientNamespace = "booksapp"
	if p := f.InEffect(k); p == nil || p.Namespace != "booksapp" {
		t.Errorf("InEffect(%+v) = %v, want the service namespace's", k, p)
	}
}

func TestLoadFilesErrors(t *testing.T) {
	for _, tt := range []struct {
		name, text, want string
	}{
		{"no profile", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n", "no ServiceProfile"},
		{"no apiVersion", "kind: ServiceProfile\nmetadata: {name: webapp.booksapp.svc.cluster.local}\n", `kind ServiceProfile with apiVersion ""`},
		{"bad document", sp("webapp.booksapp.svc.cluster.local", "booksapp", "a") + "---\n{ not: [yaml\n", "not valid YAML"},
		{"duplicate", sp("webapp.booksapp.svc.cluster.local", "booksapp", "a") + "---\n" + sp("webapp.booksapp.svc.cluster.local", "booksapp", "b"),
			"a second profile webapp.booksapp.svc.cluster.local in namespace booksapp"},
		{"bad name", sp("webapp", "booksapp", "a"), `name "webapp" is not <service>.<namespace>.svc.cluster.local`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, "sp.yaml", tt.text)
			_, err := LoadFiles(context.Background(), []string{p}, nil, "cluster.local", "booksapp")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "--profile ") {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	// stdin, as check -f -.
	f, err := LoadFiles(context.Background(), []string{"-"}, strings.NewReader(sp("webapp.booksapp.svc.cluster.local", "booksapp", "a")), "cluster.local", "x")
	if err != nil || f.InEffect(Key{Service: "webapp", Namespace: "booksapp", Port: 80}) == nil {
		t.Fatalf("stdin: %v", err)
	}
}
