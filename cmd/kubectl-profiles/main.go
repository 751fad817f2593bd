// Command kubectl-profiles is the kubectl plugin that shows what Linkerd
// really does with ServiceProfiles. All logic lives in package plugin.
package main

import (
	"os"

	"github.com/kubectl-profiles/kubectl-profiles/plugin"
)

func main() {
	os.Exit(plugin.Main(os.Args[1:]))
}
