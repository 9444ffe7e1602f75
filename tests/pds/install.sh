#!/usr/bin/env bash
# Installs the npm packages of the test PDS (tests/pds/package.json and its
# lock file) into a cache outside the clone, and prints the path of their
# node_modules on stdout (npm's own output goes to stderr).
#
#   export SOCIAL_TEST_PDS_DIR="$(bash tests/pds/install.sh)"
#
# The cache is ${SOCIAL_TEST_CACHE:-$HOME/.cache/social-tests}/pds; npm runs
# only when package.json or package-lock.json changed since the last
# successful install (a cold install takes a minute or two).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${SOCIAL_TEST_CACHE:-$HOME/.cache/social-tests}/pds"

die() {
    printf 'tests/pds/install.sh: %s\n' "$*" >&2
    exit 1
}

command -v node >/dev/null 2>&1 ||
    die "node is not installed: the Bluesky PDS tests need Node.js 20 or later and npm"
command -v npm >/dev/null 2>&1 ||
    die "npm is not installed: the Bluesky PDS tests need Node.js 20 or later and npm"
major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$major" -ge 20 ] || die "node $(node --version) is too old: the Bluesky PDS tests need Node.js 20 or later"

mkdir -p "$cache"
# One install at a time (parallel test runs share the cache).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$cache/.lock"
    flock 9
fi

stamp="$cache/.installed"
wanted="$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ] || [ ! -d "$cache/node_modules/@atproto/pds" ]; then
    rm -f "$stamp"
    cp "$here/package.json" "$here/package-lock.json" "$cache/"
    printf 'tests/pds/install.sh: installing the test PDS into %s (takes a minute or two)\n' "$cache" >&2
    (cd "$cache" && npm install --no-audit --no-fund) >&2 ||
        die "npm install failed in $cache"
    [ -d "$cache/node_modules/@atproto/pds" ] || die "npm install left no @atproto/pds in $cache/node_modules"
    printf '%s\n' "$wanted" >"$stamp"
fi

printf '%s\n' "$cache/node_modules"
