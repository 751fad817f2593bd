// Package version implements `kubectl profiles version`: what this binary is,
// where it came from and which Linkerd proxy API it speaks. It never touches
// the cluster, so it stays fast and works without a kubeconfig.
package version

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// Stamped at release time by goreleaser:
//
//	-X github.com/kubectl-profiles/kubectl-profiles/plugin/version.Version=v1.2.3
//	-X github.com/kubectl-profiles/kubectl-profiles/plugin/version.Commit=<sha>
//	-X github.com/kubectl-profiles/kubectl-profiles/plugin/version.Date=<RFC 3339>
//
// Left empty, they are filled from the Go build info (go install, go build).
var (
	Version string
	Commit  string
	Date    string
)

// ProxyAPIModule is the Go module whose protobuf API the plugin speaks to the
// Linkerd destination and tap services.
const ProxyAPIModule = "github.com/linkerd/linkerd2-proxy-api"

// fallbackProxyAPI is used when the build info has no dependency list (for
// example a binary built with -buildvcs=false and stripped module data).
// Keep it in step with go.mod.
const fallbackProxyAPI = "v0.20.0"

// unknown is shown for anything neither stamped nor recorded by the toolchain.
const unknown = "unknown"

// Info describes one build of the plugin. The JSON field names are a stable,
// documented output format.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
	ProxyAPI  string `json:"linkerd2ProxyAPI"`
}

// Get returns the running binary's build information.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return resolve(Info{Version: Version, Commit: Commit, Date: Date}, bi, runtime.GOOS+"/"+runtime.GOARCH)
}

// resolve fills what was not stamped from the build info; bi may be nil.
// Stamped values win: goreleaser knows the tag, the build info only knows the
// module version (which is "(devel)" for a local build).
func resolve(stamped Info, bi *debug.BuildInfo, platform string) Info {
	out := stamped
	out.Platform = platform
	out.GoVersion = runtime.Version()
	out.ProxyAPI = fallbackProxyAPI
	if bi != nil {
		if bi.GoVersion != "" {
			out.GoVersion = bi.GoVersion
		}
		if out.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			out.Version = bi.Main.Version // go install module@vX.Y.Z
		}
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		if out.Commit == "" && settings["vcs.revision"] != "" {
			out.Commit = settings["vcs.revision"]
			if settings["vcs.modified"] == "true" {
				out.Commit += "-dirty"
			}
		}
		if out.Date == "" {
			out.Date = settings["vcs.time"]
		}
		for _, d := range bi.Deps {
			if d.Path != ProxyAPIModule {
				continue
			}
			out.ProxyAPI = d.Version
			if d.Replace != nil && d.Replace.Version != "" {
				out.ProxyAPI = d.Replace.Version
			}
		}
	}
	if out.Version == "" {
		out.Version = "devel"
	}
	if out.Commit == "" {
		out.Commit = unknown
	}
	if out.Date == "" {
		out.Date = unknown
	}
	return out
}

// WriteText prints the human form, one "Key: value" per line.
func WriteText(w io.Writer, i Info) error {
	rows := [][2]string{
		{"Version", i.Version},
		{"Commit", i.Commit},
		{"Built", i.Date},
		{"Go", i.GoVersion},
		{"Platform", i.Platform},
		{"Proxy API", ProxyAPIModule + " " + i.ProxyAPI},
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%-10s %s\n", r[0]+":", r[1])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints Info as indented JSON.
func WriteJSON(w io.Writer, i Info) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(i)
}
