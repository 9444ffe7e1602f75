#!/usr/bin/env bash
# Benchmarks of the publishing engine against loopback fake Mastodon servers:
#  1. one post to 4 accounts whose servers answer after 0.2, 0.3, 0.4 and 0.5 s:
#     concurrency means the total is close to the slowest (0.5 s), not the sum (1.4 s);
#  2. 1,000 due posts through `social publish --due` (one server, no delay).
# Needs hyperfine (apt-get install hyperfine).   bash benches/publish.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# SOCIAL_BIN: measure another build of the binary instead.
if [ -z "${SOCIAL_BIN:-}" ]; then cargo build --release --quiet; fi
BIN="${SOCIAL_BIN:-$PWD/target/release/social}"
DIR="$(mktemp -d)"
PIDS=()
cleanup() { kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
start_fake() { # NAME DELAY
  python3 benches/fake_mastodon.py "$DIR/$1.port" "$2" & PIDS+=($!)
  while [ ! -s "$DIR/$1.port" ]; do sleep 0.05; done
}

# 1. Fan-out to four accounts.
mkdir -p "$DIR/fan/posts"
printf 'timezone = "UTC"\n' > "$DIR/fan/social.toml"
for i in 1 2 3 4; do
  start_fake "m$i" "0.$((i + 1))"
  printf '[accounts.m%s]\nplatform = "mastodon"\ninstance = "http://127.0.0.1:%s"\n' "$i" "$(cat "$DIR/m$i.port")" >> "$DIR/fan/social.toml"
done
printf -- '---\nid: fan\nto: [m1, m2, m3, m4]\n---\nOne post, four accounts. #bench\n' > "$DIR/fan/posts/fan.md"
cd "$DIR/fan"
export SOCIAL_M1_TOKEN=x SOCIAL_M2_TOKEN=x SOCIAL_M3_TOKEN=x SOCIAL_M4_TOKEN=x
hyperfine --warmup 1 --runs 10 -N --prepare "rm -rf $DIR/fan/.social $DIR/fan/published.toml" \
  "$BIN post posts/fan.md --quiet" 2>&1 | grep -E "Time|Range"
echo "(server delays 0.2 + 0.3 + 0.4 + 0.5 s: sequential would take 1.4 s, the slowest alone 0.5 s)"

# 2. 1,000 due posts.
cd - >/dev/null
start_fake bulk 0
mkdir -p "$DIR/bulk/posts"
printf 'timezone = "UTC"\ncatch_up = "2d"\n[accounts.m]\nplatform = "mastodon"\ninstance = "http://127.0.0.1:%s"\n' "$(cat "$DIR/bulk.port")" > "$DIR/bulk/social.toml"
# Due just now: the on-time path (a target more than 3 minutes late and unknown here
# is first read back from the platform, in case another machine published it).
AT=$(date -u -d '-20 seconds' +%Y-%m-%dT%H:%M:%SZ)
for i in $(seq -w 1 1000); do
  printf -- '---\nid: due-%s\nat: %s\nto: [m]\n---\nDue post number %s\n' "$i" "$AT" "$i" > "$DIR/bulk/posts/due-$i.md"
done
cd "$DIR/bulk"
export SOCIAL_M_TOKEN=x
hyperfine --runs 5 -N --prepare "rm -rf $DIR/bulk/.social $DIR/bulk/published.toml" \
  "$BIN publish --due --quiet" 2>&1 | grep -E "Time|Range"
echo "(1,000 posts: sync, claims in batches of 32, POST, records group-committed, one ledger write)"
