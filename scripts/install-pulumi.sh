#!/usr/bin/env bash
# Builds the Pulumi CLI and a Node.js language host from source, at the version pinned in
# scripts/pulumi/version, into a cache folder outside the checkout that every clone on the machine
# shares:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-mailserver/pulumi/<version>/bin
#     pulumi                          the CLI (module github.com/pulumi/pulumi/pkg/v3)
#     pulumi-language-nodejs          our Node.js language host (scripts/pulumi/language-host)
#     pulumi-resource-pulumi-nodejs   our launcher for Node.js dynamic providers
#     pulumi-analyzer-policy          our launcher for Node.js policy packs
#
# Usage: scripts/install-pulumi.sh        (or npm run setup:pulumi)
# When that version is built already it does nothing. Needs Go (the version pkg/v3's go.mod names),
# Node.js, and the Go module proxy (`go env GOPROXY`). docs/pulumi.md explains the choices.
#
# Why wrapper modules: pkg/v3's go.mod replaces sdk/v3 by a sibling folder (`=> ../sdk`), so
# `go install github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@VERSION` refuses it. A small module of
# ours requires matching pkg/v3 and sdk/v3 and repeats their replaces of module versions.
#
# Why our own language host: Pulumi's (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3)
# is not served by the module proxy at any version; the last one inside sdk/v3 (v3.68.0) hides every
# newer ResourceMonitor method, resource hooks included, behind its v3.68.0 monitor proxy.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=${PULUMI_VERSION:-$(tr -d '[:space:]' <"$root/scripts/pulumi/version")}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-mailserver/pulumi/$version
bin=$cache/bin
log=$cache/build.log
pkg=github.com/pulumi/pulumi/pkg/v3
sdk=github.com/pulumi/pulumi/sdk/v3
version_symbol=$sdk/go/common/version.Version

say() { printf 'install-pulumi: %s\n' "$*"; }
fail() {
  printf 'install-pulumi: error: %s\n' "$*" >&2
  exit 1
}

mkdir -p "$cache"
# Two clones (or two test runs) building at once would race on the same folder.
exec 9>"$cache/.lock"
if command -v flock >/dev/null; then
  flock -n 9 || {
    say "another build of pulumi v$version is running; waiting for it"
    flock 9
  }
fi

install_launchers() {
  for launcher in pulumi-resource-pulumi-nodejs pulumi-analyzer-policy; do
    if ! cmp -s "$root/scripts/pulumi/$launcher" "$bin/$launcher"; then
      install -m 0755 "$root/scripts/pulumi/$launcher" "$bin/$launcher"
      say "installed $bin/$launcher"
    fi
  done
}

host_source=$root/scripts/pulumi/language-host/main.go
if [ -f "$cache/build.json" ] && [ -x "$bin/pulumi" ] && [ -x "$bin/pulumi-language-nodejs" ] &&
  cmp -s "$host_source" "$cache/src/language-host/main.go"; then
  install_launchers
  say "pulumi v$version is built: $bin"
  exit 0
fi

command -v go >/dev/null || fail "Go is not installed: the Pulumi CLI is built from source here. Install Go (https://go.dev/doc/install) and run this again."
command -v node >/dev/null || fail "Node.js is not on the PATH (this script and the launchers need it)"

export GOTOOLCHAIN=local GOFLAGS=-mod=mod
: >"$log"
say "building pulumi v$version with $(go env GOVERSION) (log: $log)"
say "modules come from GOPROXY=$(go env GOPROXY); a first build downloads about 400 MB and compiles for minutes"

# Says why a go command failed: the module it could not resolve if that was it, else the log's end.
explain_failure() {
  local what=$1 unresolved
  unresolved=$(grep -E 'reading https?://|not found|unknown revision|no matching versions|invalid version|requires go >=|dial tcp|i/o timeout|checksum mismatch|missing go.sum' "$log" | head -5 || true)
  if [ -n "$unresolved" ]; then
    printf '%s\n' "$unresolved" >&2
    fail "$what: a module could not be resolved (lines above). Check that GOPROXY=$(go env GOPROXY) is reachable and serves it, or pin another version in scripts/pulumi/version."
  fi
  tail -n 20 "$log" >&2
  fail "$what failed (the end of $log is above)"
}

# Writes the wrapper module $cache/src/NAME: it requires MODULES (module@version) with the first
# one's go directive and all their replaces of module versions (a replace by a folder of the
# pulumi repository is left out: the wrapper requires that module instead). SOURCE (a Go file, or
# "-") becomes its main package. Then `go get`s GET (packages or modules) in it.
wrapper_module() {
  local name=$1 source=$2 get=$3
  shift 3
  local dir=$cache/src/$name module download gomod reason facts flags=() go_version=""
  rm -rf "$dir"
  mkdir -p "$dir"
  for module in "$@"; do
    say "  resolving $module"
    download=$(go mod download -json "$module" 2>>"$log" || true)
    printf '%s\n' "$download" >>"$log"
    gomod=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"$download")
    if [ -z "$gomod" ]; then
      # go's JSON names the module and the proxy's answer (403 "not available", lookup disabled, ...).
      reason=$(sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' <<<"$download" | sed 's/\\n\\t/ /g')
      fail "could not resolve $module: ${reason%.}. Check that GOPROXY=$(go env GOPROXY) is reachable and serves it, or pin another version in scripts/pulumi/version."
    fi
    facts=$(go mod edit -json "$gomod" | node "$root/scripts/pulumi/go-mod-facts.mjs")
    [ -n "$go_version" ] || go_version=$(head -n 1 <<<"$facts")
    while IFS= read -r flag; do [ -n "$flag" ] && flags+=("$flag"); done < <(tail -n +2 <<<"$facts")
  done
  [ "$source" = - ] || cp "$source" "$dir/"
  (
    cd "$dir"
    go mod init "pulumi-mailserver.local/$name" >>"$log" 2>&1
    go mod edit -go="$go_version" "${flags[@]}"
    for module in "$@"; do go mod edit -require="$module"; done
    say "  resolving the dependencies of $get"
    go get "$get" "$@" >>"$log" 2>&1
  ) || explain_failure "resolving $get"
}

# Compiles PACKAGE of the wrapper module NAME into $bin.new/OUTPUT, stamped with VERSION.
compile() {
  local name=$1 package=$2 output=$3 stamp=$4
  local dir=$cache/src/$name total started=$SECONDS status
  total=$(cd "$dir" && go list -deps "$package" 2>>"$log" | wc -l) || explain_failure "listing $package"
  say "  compiling $output ($total packages, counted as they compile; packages in Go's build cache are skipped)"
  set +e
  (cd "$dir" && go build -v -trimpath -ldflags "-s -w -X $version_symbol=v$stamp" -o "$bin.new/$output" "$package") 2>&1 |
    tee -a "$log" | {
    count=0
    step=$((total / 10 + 1))
    while IFS= read -r _; do
      count=$((count + 1))
      if [ $((count % step)) -eq 0 ]; then say "    $count/$total packages compiled"; fi
    done
  }
  status=${PIPESTATUS[0]}
  set -e
  [ "$status" -eq 0 ] || explain_failure "compiling $package"
  say "  $output built in $((SECONDS - started)) s"
}

started=$SECONDS
rm -rf "$bin.new"
mkdir -p "$bin.new"

say "1/2 the CLI: $pkg@v$version"
wrapper_module cli - "$pkg/cmd/pulumi@v$version" "$pkg@v$version" "$sdk@v$version"
resolved=$SECONDS
compile cli "$pkg/cmd/pulumi" pulumi "$version"

say "2/2 the Node.js language host (scripts/pulumi/language-host) against $sdk@v$version"
wrapper_module language-host "$host_source" "$sdk@v$version" "$sdk@v$version"
compile language-host . pulumi-language-nodejs "$version"

"$bin.new/pulumi" version >>"$log" 2>&1 || explain_failure "running the new pulumi binary"
rm -rf "$bin"
mv "$bin.new" "$bin"
install_launchers
cat >"$cache/build.json" <<JSON
{
  "cli": "v$version",
  "languageHost": "scripts/pulumi/language-host against sdk/v3@v$version",
  "go": "$(go env GOVERSION)",
  "seconds": $((SECONDS - started)),
  "modulesSeconds": $((resolved - started)),
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
JSON
say "pulumi v$version built in $((SECONDS - started)) s: $bin"
say "use it with: export PATH=\"$bin:\$PATH\""
