#!/usr/bin/env bash
# Installs the pinned Keycloak distribution (org.keycloak:keycloak-quarkus-dist, a zip) for the
# Keycloak tests, the demo and the benchmarks: fetched once with Maven into a cache folder outside
# the checkout, unpacked, and built once (`kc.sh build`, dev-file database), so every later start
# is `kc.sh start --optimized`. Idempotent: a second run only checks and prints where it is.
#
#   scripts/install-keycloak.sh            install (or check) and print the Keycloak home
#   KEYCLOAK_VERSION=26.7.3                the version (default: the pinned one below)
#   PULUMI_MAILSERVER_CACHE=DIR            the cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-mailserver)
#
# Needs java (17, 21 or 25), mvn and unzip. The Keycloak home is printed as the last line of stdout;
# progress goes to stderr.
set -euo pipefail

version="${KEYCLOAK_VERSION:-26.7.3}"
cache_root="${PULUMI_MAILSERVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-mailserver}"
dir="$cache_root/keycloak/$version"
home="$dir/keycloak-$version"
marker="$home/.pulumi-mailserver-built"
# Fixed at build time: the dev-file database, a local cache (no clustering: test servers on one
# machine must never find each other) and the health endpoints on the main HTTP port (no
# management port, so several servers can run at once).
build_options=(--db=dev-file --cache=local --health-enabled=true --http-management-health-enabled=false)

say() { echo "install-keycloak: $*" >&2; }
fail() {
  echo "install-keycloak: $1" >&2
  [ -n "${2:-}" ] && echo "  what to do: $2" >&2
  exit 1
}

if [ -f "$marker" ] && [ "$(cat "$marker")" = "${build_options[*]}" ]; then
  say "Keycloak $version is installed and built at $home"
  echo "$home"
  exit 0
fi

command -v java >/dev/null 2>&1 || fail "java is not on the PATH" "install a Java runtime (17, 21 or 25), e.g. apt-get install openjdk-17-jre-headless"
java_major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
case "$java_major" in
  17 | 21 | 25) ;;
  *) fail "java ${java_major:-(unknown version)} is on the PATH; Keycloak $version runs on Java 17, 21 or 25" "install one of those, e.g. apt-get install openjdk-17-jre-headless" ;;
esac
command -v unzip >/dev/null 2>&1 || fail "unzip is not on the PATH" "apt-get install unzip"

mkdir -p "$dir"
zip="$dir/keycloak-quarkus-dist-$version.zip"
if [ ! -s "$zip" ]; then
  command -v mvn >/dev/null 2>&1 || fail "mvn is not on the PATH (it fetches the Keycloak distribution)" "apt-get install maven"
  say "fetching org.keycloak:keycloak-quarkus-dist:$version:zip with mvn (about 180 MB, once)"
  tmp_out=$(mktemp -d "$dir/fetch.XXXXXX")
  if ! mvn -q -B dependency:copy "-Dartifact=org.keycloak:keycloak-quarkus-dist:$version:zip" "-DoutputDirectory=$tmp_out" >"$tmp_out.log" 2>&1; then
    tail -n 20 "$tmp_out.log" >&2 || true
    rm -rf "$tmp_out" "$tmp_out.log"
    fail "mvn could not fetch org.keycloak:keycloak-quarkus-dist:$version:zip (its output is above)" "check the network or Maven's proxy settings (~/.m2/settings.xml), then run this script again"
  fi
  mv "$tmp_out/keycloak-quarkus-dist-$version.zip" "$zip"
  rm -rf "$tmp_out" "$tmp_out.log"
else
  say "using the cached $zip"
fi

if [ ! -x "$home/bin/kc.sh" ]; then
  say "unpacking into $dir"
  rm -rf "$home" "$dir/unpack"
  unzip -q "$zip" -d "$dir/unpack" || { rm -rf "$dir/unpack"; fail "the cached zip $zip cannot be unpacked" "delete it and run this script again"; }
  mv "$dir/unpack/keycloak-$version" "$home"
  rm -rf "$dir/unpack"
fi

# One build for every start.
say "building Keycloak once (kc.sh build, tens of seconds)"
if ! JAVA_OPTS="${JAVA_OPTS:--Xms64m -Xmx512m}" "$home/bin/kc.sh" build "${build_options[@]}" >"$dir/build.log" 2>&1; then
  tail -n 20 "$dir/build.log" >&2 || true
  fail "kc.sh build failed (the end of its log is above; all of it: $dir/build.log)" "check the Java version, then delete $home and run this script again"
fi
echo "${build_options[*]}" >"$marker"
say "Keycloak $version is installed and built at $home"
echo "$home"
