package testenv

import (
	"fmt"
	"os"
	"path/filepath"
)

// KubeVersion is the Kubernetes version .ci/testbin.sh builds by default.
const KubeVersion = "v1.34.1"

// BinDir returns the directory holding kube-apiserver and etcd:
// $KUBECTL_PROFILES_TESTBIN/bin when the variable is set, else the default
// cache directory of .ci/testbin.sh.
func BinDir() (string, error) {
	var dir string
	if root := os.Getenv("KUBECTL_PROFILES_TESTBIN"); root != "" {
		dir = filepath.Join(root, "bin")
	} else {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("testenv: cannot find the test binaries: %v; set KUBECTL_PROFILES_TESTBIN", err)
			}
			cache = filepath.Join(home, ".cache")
		}
		dir = filepath.Join(cache, "kubectl-profiles", "testbin-"+KubeVersion, "bin")
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("testenv: %s not found in %s: run .ci/testbin.sh (or make testbin) to build it, or set KUBECTL_PROFILES_TESTBIN", name, dir)
		}
	}
	return dir, nil
}
