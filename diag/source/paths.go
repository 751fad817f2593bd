package source

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Extensions read when walking a directory (files named explicitly are
// read whatever their name).
var Extensions = []string{".yaml", ".yml", ".json"}

// LoadPaths reads every object from the given paths, in order: "-" is
// stdin (read once), a directory is walked recursively (files with one of
// Extensions, sorted, hidden entries skipped), anything else is a file.
// It fails on a path that cannot be read, with a one-line error naming it.
func LoadPaths(paths []string, stdin io.Reader) ([]Document, error) {
	var out []Document
	stdinUsed := false
	for _, p := range paths {
		if p == "-" {
			if stdinUsed {
				continue
			}
			stdinUsed = true
			docs, err := Load("-", stdin)
			if err != nil {
				return nil, err
			}
			out = append(out, docs...)
			continue
		}
		files, err := expand(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			docs, err := loadFile(f)
			if err != nil {
				return nil, err
			}
			out = append(out, docs...)
		}
	}
	return out, nil
}

func expand(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", p, unwrapPathErr(err))
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("cannot read %s: %v", path, unwrapPathErr(err))
		}
		if path != p && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !hasExt(d.Name()) {
			return nil
		}
		files = append(files, path)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	return files, nil
}

func hasExt(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	for _, e := range Extensions {
		if ext == e {
			return true
		}
	}
	return false
}

func loadFile(path string) ([]Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", path, unwrapPathErr(err))
	}
	defer f.Close()
	return Load(path, f)
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
