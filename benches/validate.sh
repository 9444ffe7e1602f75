#!/usr/bin/env bash
# Benchmark: `social validate` on 10,000 generated posts, against just reading
# the same files. Needs hyperfine (apt-get install hyperfine).
#   bash benches/validate.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10000}"
# SOCIAL_BIN: measure another build of the binary instead.
if [ -z "${SOCIAL_BIN:-}" ]; then cargo build --release --quiet; fi
BIN="${SOCIAL_BIN:-$PWD/target/release/social}"
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT
python3 benches/gen_posts.py "$DIR" "$N"
cd "$DIR"
"$BIN" validate --quiet >/dev/null || { echo "generated posts do not validate"; exit 1; }
hyperfine --warmup 3 --runs 20 -N \
  --export-markdown "$DIR/result.md" \
  "$BIN validate --quiet" \
  "find posts -name '*.md' -exec cat {} +" 2>&1
# (`find -exec cat` runs through a shell-less hyperfine; it is the cost of just reading the files.)
cat "$DIR/result.md"
