#!/usr/bin/env bash
# trendwatch `collect` against urlwatch 2.29 on the same 1,000 creator pages of ~280 KB served
# by nginx on loopback, with the same concurrency (urlwatch runs 10 jobs at once, a constant of
# its own: trendwatch gets `concurrency = 10`). Reports wall time and peak RSS of both
# (GNU time), their ratios, and the idle RSS of the trendwatch daemon.
#
#   scripts/bench-vs-urlwatch.sh                 # N=1000 pages, 3 runs each
#   N=200 RUNS=1 scripts/bench-vs-urlwatch.sh
#
# The pages, the nginx server and the trendwatch config come from scripts/bench-collect.sh
# (its setup part is run from here, so both benchmarks read the very same pages). urlwatch is
# installed from PyPI in a throwaway virtualenv; each page is one urlwatch job with a CSS
# filter on the embedded data script, `script#__UNIVERSAL_DATA_FOR_REHYDRATION__`.
# trendwatch does more per page: it also parses the JSON, fetches each creator's video list
# (/api/creator/item_list/, a second request per creator) and stores everything durably.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000}
RUNS=${RUNS:-3}
CONCURRENCY=10
PORT=${PORT:-18081}
PAGE_BYTES=${PAGE_BYTES:-280000}
URLWATCH_VERSION=${URLWATCH_VERSION:-2.29}

if ! command -v nginx >/dev/null || [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "nginx and GNU time are needed: apt-get install nginx time (as root)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nginx time >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

WORK=$(mktemp -d /tmp/trendwatch-vs-urlwatch.XXXXXX)
chmod 755 "$WORK"
DAEMON_PID=
cleanup() {
  if [ -n "$DAEMON_PID" ]; then kill "$DAEMON_PID" 2>/dev/null || true; fi
  if [ -f "$WORK/nginx.pid" ]; then kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The setup part of bench-collect.sh: page generator, nginx config and start, watchlist and
# trendwatch.toml (everything between its "generating" and "building" steps).
SETUP=$(sed -n '/^echo "== generating/,/^echo "== building trendwatch/p' scripts/bench-collect.sh | sed '$d')
if [ -z "$SETUP" ]; then
  echo "cannot find the setup steps in scripts/bench-collect.sh" >&2
  exit 1
fi
eval "$SETUP"

echo "== urlwatch $URLWATCH_VERSION in a throwaway virtualenv"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q "urlwatch==$URLWATCH_VERSION"
python3 - "$WORK" "$N" "$PORT" <<'PY'
import sys
work, n, port = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(work + "/urls.yaml", "w") as f:
    for i in range(n):
        if i:
            f.write("---\n")
        f.write("name: creator%04d\nurl: http://127.0.0.1:%s/@creator%04d\n" % (i, port, i))
        f.write("filter:\n  - css: 'script#__UNIVERSAL_DATA_FOR_REHYDRATION__'\n")
with open(work + "/urlwatch.yaml", "w") as f:
    f.write("display:\n  new: false\n  error: true\n  unchanged: false\n"
            "report:\n  text:\n    details: false\n    footer: false\n    line_length: 75\n"
            "  stdout:\n    enabled: true\n    color: false\n"
            "  email:\n    enabled: false\n")
open(work + "/hooks.py", "w").close()
PY

echo "== building trendwatch (release)"
cargo build --release --quiet --bin trendwatch
BIN="${CARGO_TARGET_DIR:-target}/release/trendwatch"

field() { sed -n "s/.*$1: //p" "$2"; }
# m:ss.ss or h:mm:ss → seconds
secs() { awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }' <<<"$1"; }

tw_wall=() ; tw_rss=() ; uw_wall=() ; uw_rss=()
for run in $(seq "$RUNS"); do
  rm -rf "$WORK/state"
  /usr/bin/time -v "$BIN" -c "$WORK/trendwatch.toml" collect >"$WORK/tw.out" 2>"$WORK/tw.time" || {
    echo "trendwatch run $run failed:"; tail -n 20 "$WORK/tw.out" "$WORK/tw.time"; exit 1; }
  ok=$(grep -c '^tiktok:@creator[0-9]* *ok ' "$WORK/tw.out" || true)
  w=$(secs "$(field 'Elapsed (wall clock) time (h:mm:ss or m:ss)' "$WORK/tw.time")")
  r=$(field 'Maximum resident set size (kbytes)' "$WORK/tw.time")
  tw_wall+=("$w"); tw_rss+=("$r")
  echo "trendwatch run $run: wall ${w}s, peak RSS $((r / 1024)) MB, $ok/$N ok"

  rm -f "$WORK/cache.db"
  /usr/bin/time -v "$WORK/venv/bin/urlwatch" --urls "$WORK/urls.yaml" --config "$WORK/urlwatch.yaml" \
    --hooks "$WORK/hooks.py" --cache "$WORK/cache.db" >"$WORK/uw.out" 2>"$WORK/uw.time" || {
    echo "urlwatch run $run failed:"; tail -n 20 "$WORK/uw.out" "$WORK/uw.time"; exit 1; }
  # Jobs whose filtered data urlwatch stored (the report itself is switched off for new jobs).
  new=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(distinct guid) from CacheEntry where length(data) > 0').fetchone()[0])" "$WORK/cache.db")
  errors=$(grep -cE '^[0-9]+\. ERROR: ' "$WORK/uw.out" || true)
  w=$(secs "$(field 'Elapsed (wall clock) time (h:mm:ss or m:ss)' "$WORK/uw.time")")
  r=$(field 'Maximum resident set size (kbytes)' "$WORK/uw.time")
  uw_wall+=("$w"); uw_rss+=("$r")
  echo "urlwatch   run $run: wall ${w}s, peak RSS $((r / 1024)) MB, $new/$N stored, $errors errors"
done

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
TW_W=$(median "${tw_wall[@]}"); TW_R=$(median "${tw_rss[@]}")
UW_W=$(median "${uw_wall[@]}"); UW_R=$(median "${uw_rss[@]}")

echo "== idle trendwatch daemon"
# Started on an empty store, the daemon makes one catch-up pass over the N pages, then only
# waits (the schedules fire every 3 hours). RSS 40 s after start: after the pass, idle.
idle_rss() {
  rm -rf "$WORK/state"
  env "$@" "$BIN" -c "$WORK/trendwatch.toml" run >"$WORK/daemon.log" 2>&1 &
  DAEMON_PID=$!
  sleep 40
  local kb
  kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status" 2>/dev/null || echo 0)
  if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
    echo "the daemon exited: $(tail -n 3 "$WORK/daemon.log")" >&2
    kb=0
  fi
  kill "$DAEMON_PID" 2>/dev/null || true
  wait "$DAEMON_PID" 2>/dev/null || true
  DAEMON_PID=
  echo "$kb"
}
IDLE_KB=$(idle_rss RUST_LOG=warn)

echo
echo "== medians over $RUNS run(s), $N pages, concurrency $CONCURRENCY"
awk -v tw="$TW_W" -v uw="$UW_W" -v twr="$TW_R" -v uwr="$UW_R" -v idle="$IDLE_KB" 'BEGIN {
  printf "| | wall time | peak RSS |\n| --- | --- | --- |\n"
  printf "| trendwatch collect | %.2f s | %.1f MB |\n", tw, twr / 1024
  printf "| urlwatch 2.29 | %.2f s | %.1f MB |\n", uw, uwr / 1024
  printf "| urlwatch / trendwatch | %.1fx | %.1fx |\n", uw / tw, uwr / twr
  printf "\nidle trendwatch daemon (run, 40 s after start, after one pass): %.1f MB RSS\n", idle / 1024
}'
