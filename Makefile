# kubectl-profiles — build, install and test.
#
#   make install   install kubectl-profiles (+ completion helper) into $(GOBIN) and run it via kubectl
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
# Local builds are stamped from git like releases are (goreleaser does its own).
GIT_VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
GIT_COMMIT := $(shell git rev-parse HEAD 2>/dev/null)
GIT_DATE := $(shell git log -1 --format=%cI 2>/dev/null)
LDFLAGS := -X $(PKG)/plugin/version.Version=$(GIT_VERSION) -X $(PKG)/plugin/version.Commit=$(GIT_COMMIT) -X $(PKG)/plugin/version.Date=$(GIT_DATE)

.PHONY: all build install test testbin vet fmt-check unit e2e release-test bench demo clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/kubectl-profiles ./cmd/kubectl-profiles

# Installs the plugin and its completion helper, then runs it through
# kubectl's plugin discovery to show it works.
install:
	$(GO) install -ldflags "$(LDFLAGS)" ./cmd/kubectl-profiles
	install -m 0755 krew/kubectl_complete-profiles $(GOBIN)/kubectl_complete-profiles
	@PATH="$(GOBIN):$$PATH" kubectl profiles version
	@case ":$$PATH:" in *":$(GOBIN):"*) ;; *) echo "note: add $(GOBIN) to your PATH so kubectl finds the plugin";; esac

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
