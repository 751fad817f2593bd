package completion

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// fakeAPIServer answers list requests the way kube-apiserver answers the
// metadata client: a PartialObjectMetadataList of names per path.
func fakeAPIServer(t *testing.T, names map[string][]string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/slow" {
			return
		}
		list, ok := names[r.URL.Path]
		if !ok {
			http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`, http.StatusNotFound)
			return
		}
		type item struct {
			Metadata map[string]string `json:"metadata"`
		}
		body := struct {
			Kind       string `json:"kind"`
			APIVersion string `json:"apiVersion"`
			Items      []item `json:"items"`
		}{Kind: "PartialObjectMetadataList", APIVersion: "meta.k8s.io/v1"}
		for _, n := range list {
			body.Items = append(body.Items, item{Metadata: map[string]string{"name": n}})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// flagsFor returns kubectl config flags pointing at server, namespace ns.
func flagsFor(server, ns string) *genericclioptions.TestConfigFlags {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["fake"] = &clientcmdapi.Cluster{Server: server}
	cfg.AuthInfos["me"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["fake"] = &clientcmdapi.Context{Cluster: "fake", AuthInfo: "me", Namespace: ns}
	cfg.Contexts["other"] = &clientcmdapi.Context{Cluster: "fake", AuthInfo: "me"}
	cfg.CurrentContext = "fake"
	return genericclioptions.NewTestConfigFlags().
		WithClientConfig(clientcmd.NewDefaultClientConfig(*cfg, &clientcmd.ConfigOverrides{}))
}

var cluster = map[string][]string{
	"/api/v1/namespaces/shop/services":            {"webapp", "web-db", "books"},
	"/api/v1/namespaces/shop/pods":                {"webapp-7d9-abcde"},
	"/apis/apps/v1/namespaces/shop/deployments":   {"webapp", "books"},
	"/apis/apps/v1/namespaces/shop/statefulsets":  {"web-db"},
	"/apis/batch/v1/namespaces/shop/cronjobs":     {"nightly"},
	"/apis/linkerd.io/v1alpha2/namespaces/shop/x": {"never-asked"},
	"/api/v1/namespaces":                          {"shop", "linkerd", "linkerd-viz"},
}

func TestCompleteResources(t *testing.T) {
	srv, _ := fakeAPIServer(t, cluster)
	f := flagsFor(srv.URL, "shop")
	tests := []struct {
		name       string
		kinds      []string
		args       []string
		toComplete string
		want       []string
		directive  cobra.ShellCompDirective
	}{
		{"one kind: KIND/NAME (a bare name would be read as a type), sorted", Services, nil, "", []string{"svc/books", "svc/web-db", "svc/webapp"}, cobra.ShellCompDirectiveNoFileComp},
		{"one kind: the start of svc/", Services, nil, "sv", []string{"svc/books", "svc/web-db", "svc/webapp"}, cobra.ShellCompDirectiveNoFileComp},
		{"one kind: a bare name completes nothing (shells filter by prefix)", Services, nil, "web", nil, cobra.ShellCompDirectiveNoFileComp},
		{"one kind: kind/name form keeps the typed kind", Services, nil, "svc/w", []string{"svc/web-db", "svc/webapp"}, cobra.ShellCompDirectiveNoFileComp},
		{"several kinds: kind prefixes first", Workloads, nil, "", []string{"deployment/", "statefulset/", "daemonset/", "replicaset/", "replicationcontroller/", "job/", "cronjob/", "pod/"}, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace},
		{"several kinds: kind prefix filter", Workloads, nil, "d", []string{"deployment/", "daemonset/"}, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace},
		{"several kinds: short kind and name", Workloads, nil, "deploy/", []string{"deploy/books", "deploy/webapp"}, cobra.ShellCompDirectiveNoFileComp},
		{"several kinds: plural kind", Workloads, nil, "statefulsets/w", []string{"statefulsets/web-db"}, cobra.ShellCompDirectiveNoFileComp},
		{"several kinds: kind word then name", Workloads, []string{"cj"}, "", []string{"nightly"}, cobra.ShellCompDirectiveNoFileComp},
		{"kind not allowed for this command", Services, nil, "deploy/", nil, cobra.ShellCompDirectiveNoFileComp},
		{"unknown kind", Workloads, nil, "widget/", nil, cobra.ShellCompDirectiveNoFileComp},
		{"empty list from the cluster", Workloads, nil, "ds/", nil, cobra.ShellCompDirectiveNoFileComp},
		{"cluster-scoped kind", []string{"ns"}, nil, "ns/link", []string{"ns/linkerd", "ns/linkerd-viz"}, cobra.ShellCompDirectiveNoFileComp},
		{"no known kinds at all", []string{"widgets"}, nil, "", nil, cobra.ShellCompDirectiveNoFileComp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dir := CompleteResources(f, tt.kinds...)(&cobra.Command{}, tt.args, tt.toComplete)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("completions = %q, want %q", got, tt.want)
			}
			if dir != tt.directive {
				t.Errorf("directive = %v, want %v", dir, tt.directive)
			}
		})
	}
}

func TestCompleteResourcesFailsQuietly(t *testing.T) {
	// A server that never answers: completion must give up after Timeout.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(hang.Close)
	saved := Timeout
	Timeout = 200 * time.Millisecond
	t.Cleanup(func() { Timeout = saved })

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	for name, f := range map[string]genericclioptions.RESTClientGetter{
		"hanging server":     flagsFor(hang.URL, "shop"),
		"refused connection": flagsFor(closed.URL, "shop"),
		"nil getter":         nil,
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			got, dir := CompleteResources(f, "services")(nil, nil, "")
			if got != nil || dir != cobra.ShellCompDirectiveNoFileComp {
				t.Errorf("got %q %v, want nothing", got, dir)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v, want about Timeout", d)
			}
		})
	}
}

func TestCompleteNamespacesAndKubeconfig(t *testing.T) {
	srv, _ := fakeAPIServer(t, cluster)
	f := flagsFor(srv.URL, "shop")
	got, _ := CompleteNamespaces(f)(nil, nil, "linkerd")
	if !reflect.DeepEqual(got, []string{"linkerd", "linkerd-viz"}) {
		t.Errorf("namespaces = %q", got)
	}
	got, _ = kubeconfigNames(f, func(v kubeconfigView) []string { return v.contexts })(nil, nil, "")
	if !reflect.DeepEqual(got, []string{"fake", "other"}) {
		t.Errorf("contexts = %q", got)
	}
}
