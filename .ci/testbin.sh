#!/usr/bin/env bash
# Builds the real kube-apiserver and etcd used by the end-to-end tests, from Go
# modules, into a cache outside the repository. Does nothing when both binaries
# are already there. Prints the directory that holds them.
#
# Why a generated module: k8s.io/kubernetes needs replace lines for its staging
# modules, and those must never reach the plugin's own go.mod (go install breaks).
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.34.1}
ETCD_VERSION=${ETCD_VERSION:-v3.5.21}
dir=${KUBECTL_PROFILES_TESTBIN:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-profiles/testbin-${K8S_VERSION}}
mkdir -p "$dir/bin"

if [ -x "$dir/bin/kube-apiserver" ] && [ -x "$dir/bin/etcd" ]; then
  echo "$dir/bin"
  exit 0
fi

minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
staging_version="v0.${K8S_VERSION#v1.}"

if [ ! -x "$dir/bin/kube-apiserver" ]; then
  echo "building kube-apiserver $K8S_VERSION into $dir (first run only, ~10 min on 2 cores)" >&2
  mkdir -p "$dir/kas"
  cd "$dir/kas"
  {
    echo "module kasbuild"
    echo
    echo "go 1.24"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    for m in api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider \
      cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api \
      cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms \
      kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics \
      mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller; do
      echo "replace k8s.io/$m => k8s.io/$m $staging_version"
    done
  } > go.mod
  printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n' > tools.go
  GOFLAGS=-mod=mod go mod tidy >&2
  go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
    -o "$dir/bin/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver >&2
  mv "$dir/bin/kube-apiserver.tmp" "$dir/bin/kube-apiserver"
fi

if [ ! -x "$dir/bin/etcd" ]; then
  echo "building etcd $ETCD_VERSION into $dir" >&2
  mkdir -p "$dir/etcd"
  cd "$dir/etcd"
  printf 'module etcdbuild\n\ngo 1.24\n' > go.mod
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' > main.go
  GOFLAGS=-mod=mod go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
  GOFLAGS=-mod=mod go mod tidy >&2
  go build -trimpath -ldflags "-s -w" -o "$dir/bin/etcd.tmp" . >&2
  mv "$dir/bin/etcd.tmp" "$dir/bin/etcd"
fi

echo "$dir/bin"
