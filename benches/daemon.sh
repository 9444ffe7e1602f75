#!/usr/bin/env bash
# Benchmark of `social daemon`: fire delay (scheduled time → request received
# by a loopback fake Mastodon), CPU time over 60 s of idle with 10,000
# scheduled posts, and resident memory.   bash benches/daemon.sh [IDLE_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
IDLE="${1:-60}"
# SOCIAL_BIN: measure another build of the binary instead.
if [ -z "${SOCIAL_BIN:-}" ]; then cargo build --release --quiet; fi
BIN="${SOCIAL_BIN:-$PWD/target/release/social}"
DIR="$(mktemp -d)"
cleanup() { kill "$FAKE" "$DAEMON" 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
python3 benches/fake_mastodon.py "$DIR/port" & FAKE=$!
while [ ! -s "$DIR/port" ]; do sleep 0.05; done
PORT="$(cat "$DIR/port")"
# 10,000 posts scheduled in 2027 (never due during the run).
python3 benches/gen_posts.py "$DIR/p" 10000
cat >> "$DIR/p/social.toml" <<TOML
[accounts.bench]
platform = "mastodon"
instance = "http://127.0.0.1:$PORT"
TOML
# Five posts due 3, 4, 5, 6 and 7 seconds after the daemon starts.
NOW=$(date +%s)
for i in 3 4 5 6 7; do
  AT=$(date -u -d "@$((NOW + i + 2))" +%Y-%m-%dT%H:%M:%SZ)
  printf -- '---\nid: fire-%s\nat: %s\nto: [bench]\n---\nfire %s\n' "$i" "$AT" "$AT" > "$DIR/p/posts/fire-$i.md"
done
cd "$DIR/p"
SOCIAL_BENCH_TOKEN=x "$BIN" daemon -q & DAEMON=$!
sleep 10
echo "fire delay (request received − scheduled time), 5 posts:"
python3 - "$DIR/port.log" <<'PY'
import sys, datetime
d = []
for line in open(sys.argv[1]):
    t, text = line.split(" ", 1)
    at = text.strip().split(" ", 1)[1]
    sched = datetime.datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
    d.append((float(t) - sched) * 1000)
print("  " + ", ".join(f"{x:.1f} ms" for x in d), f"(max {max(d):.1f} ms)")
PY
ticks() { awk '{print $14 + $15}' "/proc/$DAEMON/stat"; }
HZ=$(getconf CLK_TCK)
before=$(ticks)
sleep "$IDLE"
after=$(ticks)
echo "idle CPU over ${IDLE}s with 10,000 scheduled posts: $(( (after - before) * 1000 / HZ )) ms (user+system, ${HZ} Hz ticks)"
grep -E 'VmRSS|VmHWM' "/proc/$DAEMON/status" | sed 's/^/  /'
