# kubectl-profiles — build, install and test.
#
#   make install   build and install kubectl-profiles (+ completion helper) into $(GOBIN)
#   make test      everything CI runs: vet, gofmt, unit + end-to-end tests on a real
#                  kube-apiserver (built from Go modules on first run, cached in
#                  ~/.cache/kubectl-profiles), then the release/krew install test.
#                  QUICK=1 skips the release test.
#   make bench     the Go benchmarks with figures
#   make demo      try the plugin without a Linkerd cluster (local stand-in control plane)

SHELL := /bin/bash
GO ?= go
GOBIN ?= $(shell $(GO) env GOPATH)/bin
PKG := github.com/kubectl-profiles/kubectl-profiles

.PHONY: all build install test testbin vet fmt-check unit e2e release-test bench demo clean

all: build

build:
	$(GO) build -o bin/kubectl-profiles ./cmd/kubectl-profiles

install:
	$(GO) install ./cmd/kubectl-profiles
	install -m 0755 krew/kubectl_complete-profiles $(GOBIN)/kubectl_complete-profiles

# Builds kube-apiserver and etcd from Go modules into the cache when missing.
testbin:
	@./.ci/testbin.sh >/dev/null

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

test: testbin vet fmt-check
	KUBECTL_PROFILES_TESTBIN=$$(dirname $$(./.ci/testbin.sh)) $(GO) test -count=1 -timeout 20m ./...
ifneq ($(QUICK),1)
	./.ci/release-test.sh
endif

# Try the plugin with no Linkerd cluster: a local API server, sample data and
# the stand-in control plane. DEMO_ARGS=-keep keeps it running.
demo: testbin
	KUBECTL_PROFILES_TESTBIN=$$(dirname $$(./.ci/testbin.sh)) $(GO) run ./cmd/profiles-demo $(DEMO_ARGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin dist
