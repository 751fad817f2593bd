// Command krew-template renders a krew-release-bot manifest template
// (krew/profiles.yaml) offline, the way the bot does on a release: Go
// text/template with .TagName and .Version, and {{addURIAndSha URL .TagName}}
// expanding to "uri: URL" plus "sha256: HASH" on the next line (4-space
// indent). The bot downloads each URL to hash it; here the asset is looked up
// by file name in -dist instead.
//
// Usage:
//
//	krew-template -template krew/profiles.yaml -tag v0.1.0 -dist dist [-missing-ok] [-same-text-as dist/krew/profiles.yaml] > profiles.yaml
//
// With -missing-ok, assets not in -dist (a host-only snapshot builds one
// platform) get a clearly fake sha256 so the result still validates; each is
// reported on stderr. -same-text-as fails unless the homepage, descriptions
// and caveats equal those of another manifest (goreleaser's, whose text lives
// in .goreleaser.yaml), versions aside.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"sigs.k8s.io/yaml"
)

func main() {
	tmplPath := flag.String("template", "krew/profiles.yaml", "krew-release-bot template")
	tag := flag.String("tag", "", "release tag, e.g. v0.1.0 (required)")
	dist := flag.String("dist", "dist", "directory holding the release archives")
	missingOK := flag.Bool("missing-ok", false, "use a fake sha256 for archives not in -dist")
	sameAs := flag.String("same-text-as", "", "manifest whose homepage, descriptions and caveats must match")
	flag.Parse()
	if *tag == "" {
		fmt.Fprintln(os.Stderr, "krew-template: -tag is required")
		os.Exit(2)
	}
	out, err := render(*tmplPath, *tag, *dist, *missingOK, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "krew-template: %v\n", err)
		os.Exit(1)
	}
	if *sameAs != "" {
		if err := sameText(out, *sameAs); err != nil {
			fmt.Fprintf(os.Stderr, "krew-template: %v\n", err)
			os.Exit(1)
		}
	}
	os.Stdout.Write(out)
}

// manifestText is the human text of a krew manifest.
type manifestText struct {
	Spec struct {
		Version          string `json:"version"`
		Homepage         string `json:"homepage"`
		ShortDescription string `json:"shortDescription"`
		Description      string `json:"description"`
		Caveats          string `json:"caveats"`
	} `json:"spec"`
}

// sameText compares the text of the rendered manifest with the one in path.
// Both versions are replaced by a placeholder first: a snapshot's tag
// (v0.0.0) and version (v0.0.0-SNAPSHOT-abc) differ, a release's do not.
func sameText(rendered []byte, path string) error {
	other, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var a, b manifestText
	if err := yaml.Unmarshal(rendered, &a); err != nil {
		return fmt.Errorf("rendered template: %v", err)
	}
	if err := yaml.Unmarshal(other, &b); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	versions := []string{a.Spec.Version, b.Spec.Version}
	sort.Slice(versions, func(i, j int) bool { return len(versions[i]) > len(versions[j]) })
	norm := func(s string) string {
		for _, v := range versions {
			if v != "" {
				s = strings.ReplaceAll(s, v, "<version>")
			}
		}
		return s
	}
	fields := []struct{ name, a, b string }{
		{"homepage", a.Spec.Homepage, b.Spec.Homepage},
		{"shortDescription", a.Spec.ShortDescription, b.Spec.ShortDescription},
		{"description", a.Spec.Description, b.Spec.Description},
		{"caveats", a.Spec.Caveats, b.Spec.Caveats},
	}
	for _, f := range fields {
		if norm(f.a) != norm(f.b) {
			return fmt.Errorf("%s differs between the template and %s (keep krew/profiles.yaml and .goreleaser.yaml krews in step):\n--- template\n%s\n--- %s\n%s", f.name, path, norm(f.a), path, norm(f.b))
		}
	}
	return nil
}

// values are what the bot passes to the template.
type values struct {
	TagName string
	Version string
}

func valuesFor(tag string) values {
	v := regexp.MustCompile(`\d+(\.\d+)+`).FindString(tag)
	if v == "" {
		v = tag
	}
	return values{TagName: tag, Version: v}
}

func render(tmplPath, tag, dist string, missingOK bool, notes io.Writer) ([]byte, error) {
	src, err := os.ReadFile(tmplPath)
	if err != nil {
		return nil, err
	}
	var firstErr error
	funcs := template.FuncMap{
		"addURIAndSha": func(rawURL, tag string) string {
			u, err := execute("url", rawURL, valuesFor(tag))
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return ""
			}
			sum, err := sha256File(filepath.Join(dist, path.Base(u)))
			if err != nil {
				if !missingOK {
					if firstErr == nil {
						firstErr = fmt.Errorf("asset for %s: %v", u, err)
					}
					return ""
				}
				// Obviously fake, but valid hex (never all digits: YAML
				// would read that as a number).
				sum = strings.Repeat("f", 64)
				fmt.Fprintf(notes, "krew-template: %s not in %s, fake sha256\n", path.Base(u), dist)
			}
			return fmt.Sprintf("uri: %s\n    sha256: %s", u, sum)
		},
		"indent": func(n int, s string) string {
			s = strings.ReplaceAll(s, "    sha256:", "sha256:")
			pad := strings.Repeat(" ", n)
			return strings.TrimSpace(pad + strings.ReplaceAll(s, "\n", "\n"+pad))
		},
	}
	t, err := template.New(filepath.Base(tmplPath)).Funcs(funcs).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, valuesFor(tag)); err != nil {
		return nil, err
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return b.Bytes(), nil
}

func execute(name, text string, v values) (string, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

func sha256File(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
