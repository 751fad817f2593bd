package source

import (
	"context"
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

// Loader reads objects from paths (see Load).
type Loader struct {
	// Stdin is what "-" reads.
	Stdin io.Reader
	// Skipped, when set, is told about each directory entry with a matching
	// name that is not a regular file (a named pipe, a socket, a device, a
	// broken link): such entries are never opened, since reading them can
	// block forever.
	Skipped func(path, why string)
}

// LoadPaths reads every object from the given paths with a Loader that
// reads stdin from stdin and does not report skipped entries.
func LoadPaths(paths []string, stdin io.Reader) ([]Document, error) {
	return Loader{Stdin: stdin}.Load(context.Background(), paths)
}

// Load reads every object from the given paths, in order: "-" is stdin
// (read once), a directory is walked recursively (regular files with one of
// Extensions, sorted, hidden entries skipped), anything else is a file
// (named explicitly, it may also be a named pipe or a device: waiting for it
// ends with ctx). All inputs together share one budget (MaxInputBytes,
// MaxElements). It fails on a path that cannot be read or an input over a
// bound, with a one-line error naming it.
func (l Loader) Load(ctx context.Context, paths []string) ([]Document, error) {
	var out []Document
	budget := NewBudget()
	stdinUsed := false
	for _, p := range paths {
		if p == "-" {
			if stdinUsed {
				continue
			}
			stdinUsed = true
			docs, err := load("-", Interruptible(ctx, l.Stdin, "-"), budget)
			if err != nil {
				return nil, err
			}
			out = append(out, docs...)
			continue
		}
		files, err := l.expand(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			docs, err := loadFile(ctx, f, budget)
			if err != nil {
				return nil, err
			}
			out = append(out, docs...)
		}
	}
	return out, nil
}

func (l Loader) expand(p string) ([]string, error) {
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
		if !d.Type().IsRegular() {
			// Links are followed (as kubectl does), to regular files only.
			ok, mode, err := regular(path)
			if !ok {
				why := KindOf(mode)
				if err != nil {
					why = fmt.Sprintf("cannot read it: %v", unwrapPathErr(err))
				}
				if l.Skipped != nil {
					l.Skipped(path, why)
				}
				return nil
			}
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

func loadFile(ctx context.Context, path string, budget *Budget) ([]Document, error) {
	f, err := Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return load(path, f, budget)
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
