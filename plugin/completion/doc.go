// Package completion implements `kubectl profiles completion` and the shell
// completion helpers other commands register: resource names read from the
// cluster (services, workloads, namespaces) and kubeconfig names.
//
// kubectl (>= 1.26) completes plugin arguments by running an executable named
// kubectl_complete-profiles from PATH; HelperScript is its content and
// krew/kubectl_complete-profiles ships it in the release archive.
package completion
