#!/usr/bin/env bash
# Benchmark: `social schedule` on a store holding 100,000 targets (25,000
# posts × 4 accounts): the cold sync once, then the no-change runs.
# Needs hyperfine.   bash benches/schedule.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# SOCIAL_BIN: measure another build of the binary instead.
if [ -z "${SOCIAL_BIN:-}" ]; then cargo build --release --quiet; fi
BIN="${SOCIAL_BIN:-$PWD/target/release/social}"
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT
python3 benches/gen_posts.py "$DIR" 25000 4
cd "$DIR"
/usr/bin/time -f "cold: social schedule (sync 25,000 posts into an empty store): %e s, %M KB max RSS" "$BIN" schedule --quiet > /dev/null
"$BIN" status --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)), "targets in the store")'
hyperfine --warmup 2 --runs 10 -N --output=null \
  "$BIN schedule --limit 20" \
  "$BIN schedule" 2>&1 | grep -E "Benchmark|Time|Range"
