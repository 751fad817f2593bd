#!/usr/bin/env bash
# Release dry run, fully offline: goreleaser snapshot for the host platform,
# both krew manifests (goreleaser's generated one and the krew-release-bot
# template krew/profiles.yaml) validated and installed with krew into a
# temporary KREW_ROOT, then `kubectl profiles version` run through kubectl's
# plugin discovery.
#
#   .ci/release-test.sh                   run it
#   QUICK=1 .ci/release-test.sh           skip (exit 0), e.g. from `make test`
#   SKIP_RELEASE_TEST=1 ...               same
#   KEEP=1 .ci/release-test.sh            keep the work directory for inspection
#   .ci/release-test.sh tools-dir         only build the tools; print their directory
#                                         (real release: "$(.ci/release-test.sh tools-dir)/goreleaser" release --clean)
#
# It releases the committed HEAD: goreleaser runs in a fresh clone of the
# repository (a real release builds a commit, and goreleaser needs a clean
# tree with a remote to know its commit and date). Commit changes to
# .goreleaser.yaml or krew/ before testing them.
#
# The tools (goreleaser, krew, validate-krew-manifest, pinned in
# .ci/tools/go.mod) are built once into a cache outside the repository,
# keyed by a hash of .ci/tools/go.mod + go.sum. Cold: several minutes.
set -euo pipefail

mode=${1:-test}
case "$mode" in
  test | tools-dir) ;;
  *) echo "usage: $0 [tools-dir]" >&2; exit 2 ;;
esac

if [ "$mode" = test ] && { [ "${QUICK:-}" = 1 ] || [ "${SKIP_RELEASE_TEST:-}" = 1 ]; }; then
  echo "release-test: skipped (QUICK=1 or SKIP_RELEASE_TEST=1)"
  exit 0
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

start=$(date +%s)
last=$start
step() { # step NAME: print the time the previous step took, announce the next
  [ "$mode" = test ] || return 0
  local now; now=$(date +%s)
  [ -n "${current:-}" ] && printf 'release-test: %-44s %4ss\n' "$current" "$((now - last))"
  current=$1; last=$now
}
fail() { echo "release-test: FAIL: $*" >&2; exit 1; }

# --- tools -------------------------------------------------------------------
step "tools"
key=$(cat .ci/tools/go.mod .ci/tools/go.sum | sha256sum | cut -c1-16)
tools=${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-profiles/tools-$key
if [ ! -x "$tools/goreleaser" ] || [ ! -x "$tools/krew" ] || [ ! -x "$tools/validate-krew-manifest" ]; then
  echo "release-test: building goreleaser and krew into $tools (first run only, several minutes)" >&2
  mkdir -p "$(dirname "$tools")"
  tmp=$(mktemp -d "$tools.tmp.XXXXXX")
  (cd .ci/tools && GOFLAGS=-mod=readonly go build -trimpath -o "$tmp/" tool) ||
    { rm -rf "$tmp"; fail "building the tools in .ci/tools failed (see above)"; }
  # Atomic: a concurrent run either sees no directory or a complete one.
  mv -T "$tmp" "$tools" 2>/dev/null || rm -rf "$tmp"
fi
if [ "$mode" = tools-dir ]; then
  echo "$tools"
  exit 0
fi

goos=$(go env GOOS)
goarch=$(go env GOARCH)
case "$goos/$goarch" in
  linux/amd64 | linux/arm64 | darwin/amd64 | darwin/arm64 | windows/amd64 | windows/arm64) ;;
  *) fail "host platform $goos/$goarch is not one the release builds" ;;
esac
ext=tar.gz
[ "$goos" = windows ] && ext=zip

work=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-profiles-release.XXXXXX")
if [ "${KEEP:-}" = 1 ]; then
  echo "release-test: work directory $work (KEEP=1: not removed)"
else
  trap 'rm -rf "$work"' EXIT
fi
dist=$work/dist

# The krew-template renderer is tiny; build it every time (cached by go).
(cd .ci/tools && go build -o "$work/krew-template" ./krew-template) || fail "building .ci/tools/krew-template failed"

# --- goreleaser --------------------------------------------------------------
step "clone + goreleaser check"
head=$(git rev-parse --verify --quiet HEAD 2>/dev/null) ||
  fail "goreleaser needs a git repository with at least one commit"
git clone -q "file://$repo" "$work/src" || fail "git clone of $repo"
(cd "$work/src" && "$tools/goreleaser" check) >"$work/check.log" 2>&1 || { cat "$work/check.log" >&2; fail "goreleaser check"; }

step "goreleaser snapshot ($goos/$goarch)"
# Host platform only, separate dist: narrow the one-line goos/goarch lists.
sed -e "s|^    goos: \[linux, darwin, windows\]\$|    goos: [$goos]|" \
    -e "s|^    goarch: \[amd64, arm64\]\$|    goarch: [$goarch]|" "$work/src/.goreleaser.yaml" >"$work/goreleaser.yaml"
grep -q "^    goos: \[$goos\]\$" "$work/goreleaser.yaml" && grep -q "^    goarch: \[$goarch\]\$" "$work/goreleaser.yaml" ||
  fail "could not narrow the goos/goarch lines of .goreleaser.yaml (keep them one-line lists)"
printf '\ndist: %s\n' "$dist" >>"$work/goreleaser.yaml"
(cd "$work/src" && "$tools/goreleaser" release --snapshot --clean --skip=publish -f "$work/goreleaser.yaml") >"$work/goreleaser.log" 2>&1 ||
  { tail -40 "$work/goreleaser.log" >&2; fail "goreleaser release --snapshot"; }

gen=$dist/krew/profiles.yaml
[ -f "$gen" ] || fail "goreleaser wrote no krew manifest ($gen)"
version=$(sed -n 's/^  version: //p' "$gen")
tag=$(grep -o '"tag":"[^"]*"' "$dist/metadata.json" | cut -d'"' -f4)
archive=$dist/kubectl-profiles_${tag}_${goos}_${goarch}.$ext
[ -f "$archive" ] || fail "expected archive $archive; dist has: $(ls "$dist")"
echo "release-test: version $version, tag $tag, $(basename "$archive") $(du -h "$archive" | cut -f1)"

# The archive holds exactly the binary, LICENSE and the completion helper.
bin=kubectl-profiles
[ "$goos" = windows ] && bin=kubectl-profiles.exe
if [ "$ext" = zip ]; then
  contents=$(unzip -Z1 "$archive" | sort | tr '\n' ' ')
else
  contents=$(tar -tzf "$archive" | sort | tr '\n' ' ')
fi
want=$(printf '%s\n' LICENSE kubectl_complete-profiles "$bin" | sort | tr '\n' ' ')
[ "$contents" = "$want" ] || fail "archive holds [$contents], want [$want]"
grep -q "sha256: $(sha256sum "$archive" | cut -d' ' -f1)" "$gen" || fail "generated manifest's sha256 is not the archive's"

# --- manifests ---------------------------------------------------------------
step "validate manifests"
"$tools/validate-krew-manifest" -manifest "$gen" -skip-install >"$work/validate.log" 2>&1 ||
  { cat "$work/validate.log" >&2; fail "validate-krew-manifest on goreleaser's $gen"; }
mkdir -p "$work/rendered"
rendered=$work/rendered/profiles.yaml # file name must match metadata.name
"$work/krew-template" -template "$work/src/krew/profiles.yaml" -tag "$tag" -dist "$dist" -missing-ok -same-text-as "$gen" >"$rendered" 2>"$work/render.log" ||
  { cat "$work/render.log" >&2; fail "rendering krew/profiles.yaml"; }
"$tools/validate-krew-manifest" -manifest "$rendered" -skip-install >"$work/validate.log" 2>&1 ||
  { cat "$work/validate.log" >&2; fail "validate-krew-manifest on the rendered krew/profiles.yaml"; }
[ "$(grep -c 'uri: ' "$rendered")" = 6 ] || fail "rendered krew/profiles.yaml does not list 6 platforms"
grep -q "sha256: $(sha256sum "$archive" | cut -d' ' -f1)" "$rendered" ||
  fail "rendered krew/profiles.yaml does not name the host archive (URL template and archive name_template differ?)"

# --- krew install ------------------------------------------------------------
export KREW_ROOT=$work/krew KREW_NO_UPGRADE_CHECK=1 KREW_OS=$goos KREW_ARCH=$goarch
# kubectl must not reach any real cluster from here.
export KUBECONFIG=$work/no-kubeconfig
# krew list/uninstall want an index; an empty git repository is enough offline.
mkdir -p "$KREW_ROOT/index/default/plugins"
git -C "$KREW_ROOT/index/default" init -q

check_install() { # check_install STORE_VERSION: files landed, binary runs, kubectl finds it
  local v=$version store=$KREW_ROOT/store/profiles/$1
  [ -f "$store/LICENSE" ] || fail "LICENSE not installed in $store"
  [ -x "$store/kubectl_complete-profiles" ] || fail "completion helper not installed (or not executable) in $store"
  [ -x "$KREW_ROOT/bin/kubectl-profiles" ] || fail "krew did not link $KREW_ROOT/bin/kubectl-profiles"
  "$tools/krew" list </dev/null 2>/dev/null | grep -Eq '^(detached/)?profiles$' || fail "krew list does not show profiles"
  local out
  if command -v kubectl >/dev/null; then
    out=$(PATH=$KREW_ROOT/bin:$PATH kubectl profiles version 2>&1) || fail "kubectl profiles version: $out"
  else
    echo "release-test: WARNING: kubectl not found, running the installed binary directly"
    out=$("$KREW_ROOT/bin/kubectl-profiles" version 2>&1) || fail "kubectl-profiles version: $out"
  fi
  grep -qx "Version: *$v" <<<"$out" || fail "version prints [$out], want version $v"
  grep -qx "Commit: *$head" <<<"$out" || fail "version prints [$out], want commit $head"
  grep -q '^Proxy API: *github.com/linkerd/linkerd2-proxy-api v' <<<"$out" || fail "version prints no proxy API version: [$out]"
}

step "krew install (goreleaser manifest)"
"$tools/krew" install --manifest="$gen" --archive="$archive" </dev/null >"$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; fail "krew install --manifest=$gen"; }
check_install "$version"

if command -v kubectl >/dev/null; then
  step "kubectl completion via helper"
  # The caveats' step: put the helper on PATH next to krew's links.
  cp "$KREW_ROOT/store/profiles/$version/kubectl_complete-profiles" "$KREW_ROOT/bin/"
  out=$(PATH=$KREW_ROOT/bin:$PATH kubectl __complete profiles "" 2>/dev/null) || fail "kubectl __complete profiles: $out"
  grep -q '^version' <<<"$out" && grep -q '^completion' <<<"$out" ||
    fail "kubectl __complete profiles \"\" did not offer the plugin's commands: [$out]"
  out=$(PATH=$KREW_ROOT/bin:$PATH kubectl __complete profiles completion z 2>/dev/null)
  grep -qx 'zsh' <<<"$out" || fail "kubectl __complete profiles completion z: [$out]"
  rm "$KREW_ROOT/bin/kubectl_complete-profiles"
fi

step "krew uninstall + install (template manifest)"
"$tools/krew" uninstall profiles </dev/null >"$work/uninstall.log" 2>&1 ||
  { cat "$work/uninstall.log" >&2; fail "krew uninstall profiles"; }
[ ! -e "$KREW_ROOT/bin/kubectl-profiles" ] || fail "krew uninstall left $KREW_ROOT/bin/kubectl-profiles"
"$tools/krew" install --manifest="$rendered" --archive="$archive" </dev/null >"$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; fail "krew install --manifest=<rendered krew/profiles.yaml>"; }
# The template's spec.version is the tag (v0.0.0 for a snapshot); the binary
# still says goreleaser's snapshot version. On a real release both are the tag.
check_install "$tag"

step ""
echo "release-test: OK in $(($(date +%s) - start))s"
