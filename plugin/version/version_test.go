package version

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-profiles/kubectl-profiles/plugin/cli"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixed is a build as goreleaser stamps it.
var fixed = Info{
	Version:   "v1.2.3",
	Commit:    "0123456789abcdef0123456789abcdef01234567",
	Date:      "2026-03-01T12:00:00Z",
	GoVersion: "go1.26.8",
	Platform:  "linux/arm64",
	ProxyAPI:  "v0.20.0",
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestTextGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, fixed); err != nil {
		t.Fatal(err)
	}
	golden(t, "version.txt", b.Bytes())
}

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, fixed); err != nil {
		t.Fatal(err)
	}
	golden(t, "version.json", b.Bytes())
}

func buildInfo(mainVersion string, settings map[string]string, deps ...*debug.Module) *debug.BuildInfo {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/kubectl-profiles/kubectl-profiles", Version: mainVersion}, Deps: deps}
	for k, v := range settings {
		bi.Settings = append(bi.Settings, debug.BuildSetting{Key: k, Value: v})
	}
	return bi
}

func TestResolve(t *testing.T) {
	proxy := &debug.Module{Path: ProxyAPIModule, Version: "v0.21.0"}
	vcs := map[string]string{"vcs.revision": "abc123", "vcs.time": "2026-02-02T00:00:00Z"}
	tests := []struct {
		name    string
		stamped Info
		bi      *debug.BuildInfo
		want    Info
	}{
		{
			name:    "goreleaser stamp wins over build info",
			stamped: Info{Version: "v1.0.0", Commit: "feed", Date: "2026-01-01T00:00:00Z"},
			bi:      buildInfo("v0.9.0", vcs, proxy),
			want:    Info{Version: "v1.0.0", Commit: "feed", Date: "2026-01-01T00:00:00Z", GoVersion: "go1.26.8", Platform: "linux/amd64", ProxyAPI: "v0.21.0"},
		},
		{
			name: "go install module@version",
			bi:   buildInfo("v0.3.0", nil, proxy),
			want: Info{Version: "v0.3.0", Commit: "unknown", Date: "unknown", GoVersion: "go1.26.8", Platform: "linux/amd64", ProxyAPI: "v0.21.0"},
		},
		{
			name: "local build from a dirty checkout",
			bi:   buildInfo("(devel)", map[string]string{"vcs.revision": "abc123", "vcs.time": "2026-02-02T00:00:00Z", "vcs.modified": "true"}, proxy),
			want: Info{Version: "devel", Commit: "abc123-dirty", Date: "2026-02-02T00:00:00Z", GoVersion: "go1.26.8", Platform: "linux/amd64", ProxyAPI: "v0.21.0"},
		},
		{
			name: "replaced proxy api module",
			bi:   buildInfo("(devel)", vcs, &debug.Module{Path: ProxyAPIModule, Version: "v0.20.0", Replace: &debug.Module{Path: "../fork", Version: "v0.20.1-fork"}}),
			want: Info{Version: "devel", Commit: "abc123", Date: "2026-02-02T00:00:00Z", GoVersion: "go1.26.8", Platform: "linux/amd64", ProxyAPI: "v0.20.1-fork"},
		},
		{
			name: "no dependency list falls back to the pinned proxy api",
			bi:   buildInfo("(devel)", nil),
			want: Info{Version: "devel", Commit: "unknown", Date: "unknown", GoVersion: "go1.26.8", Platform: "linux/amd64", ProxyAPI: fallbackProxyAPI},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resolve(tt.stamped, tt.bi, "linux/amd64")
			if got != tt.want {
				t.Errorf("resolve:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestResolveWithoutBuildInfo(t *testing.T) {
	got := resolve(Info{}, nil, "darwin/arm64")
	if got.Version != "devel" || got.ProxyAPI != fallbackProxyAPI || got.GoVersion == "" || got.Platform != "darwin/arm64" {
		t.Errorf("resolve(nil build info) = %+v", got)
	}
}

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	streams, _, out, _ := genericiooptions.NewTestIOStreams()
	cmd := NewCmd(streams)
	cmd.SetArgs(append([]string{}, args...)) // non-nil: nil would make cobra read os.Args
	cmd.SetOut(out)
	cmd.SetErr(out)
	err := cmd.Execute()
	return out.String(), err
}

func TestCmd(t *testing.T) {
	Version = "v9.9.9"
	t.Cleanup(func() { Version = "" })

	out, err := run(t, "--short")
	if err != nil || out != "v9.9.9\n" {
		t.Errorf("--short: got %q, %v", out, err)
	}
	out, err = run(t)
	if err != nil || !strings.HasPrefix(out, "Version:   v9.9.9\n") || !strings.Contains(out, ProxyAPIModule) {
		t.Errorf("text: got %q, %v", out, err)
	}
	out, err = run(t, "-o", "json")
	if err != nil || !strings.Contains(out, `"version": "v9.9.9"`) {
		t.Errorf("json: got %q, %v", out, err)
	}
	for _, args := range [][]string{{"-o", "yaml"}, {"--short", "-o", "json"}, {"extra"}} {
		_, err = run(t, args...)
		var ce *cli.Error
		if !errors.As(err, &ce) || ce.Code != cli.ExitUsage {
			t.Errorf("%v: want usage error, got %v", args, err)
		}
	}
}
