#!/bin/bash
# Idle daemon benchmark: RSS and CPU of `trendwatch run` watching 500 entities, and the time
# from start to READY=1 with a large store.
#
#   scripts/bench-daemon.sh [IDLE_SECONDS=180] [IMPORT_ROWS=20000000]
#
# The store is filled with `trendwatch import` of a generated CSV (1,000 hashtags × views,
# hourly). Collection points at a closed loopback port, so the start-up catch-up pass fails
# fast per entity and no site is contacted. Needs python3 (for the notify socket).
set -euo pipefail
cd "$(dirname "$0")/.."
IDLE=${1:-180}
ROWS=${2:-20000000}
cargo build --release -q
BIN=$(realpath -m "${CARGO_TARGET_DIR:-target}")/release/trendwatch
W=$(mktemp -d)
trap 'kill $(cat "$W/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$W"' EXIT

cat > "$W/trendwatch.toml" <<TOML
watchlist = "watchlist.toml"
state_dir = "$W/state"
timezone = "Europe/Paris"
[collect]
schedule = "0 0 */3 * * *"
timeout = "2s"
retries = 0
per_host_interval = "0s"
tiktok_base_url = "http://127.0.0.1:9"
[digest]
schedule = "0 0 8 * * Mon"
to = ["equipe@example.org"]
from = "trendwatch <trendwatch@example.org>"
[mail]
transport = "file"
TOML
{
    printf '[tiktok]\nhashtags = ['
    for i in $(seq 1 250); do printf '"tag%d",' "$i"; done
    printf ']\ncreators = ['
    for i in $(seq 1 250); do printf '"creator%d",' "$i"; done
    printf ']\n'
} > "$W/watchlist.toml"

ready_ms() { # prints ms from spawn to READY=1, leaves the daemon running, pid in $W/pid
    python3 - "$BIN" "$W" <<'PY'
import os, socket, subprocess, sys, time
bin, w = sys.argv[1], sys.argv[2]
path = os.path.join(w, "notify.sock")
if os.path.exists(path): os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(path)
env = dict(os.environ, NOTIFY_SOCKET=path, RUST_LOG="warn")
t0 = time.monotonic()
p = subprocess.Popen([bin, "-c", os.path.join(w, "trendwatch.toml"), "run"], env=env,
                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(w, "log"), "w"))
while True:
    msg = s.recv(4096).decode()
    if "READY=1" in msg.splitlines(): break
print(f"{(time.monotonic() - t0) * 1000:.0f}")
open(os.path.join(w, "pid"), "w").write(str(p.pid))
PY
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
stop() { kill -TERM "$(cat "$W/pid")"; while kill -0 "$(cat "$W/pid")" 2>/dev/null; do sleep 0.1; done; }

echo "== idle: 500 entities, ${IDLE}s"
ms=$(ready_ms); PID=$(cat "$W/pid")
sleep 30 # let the start-up catch-up pass finish
t0=$(cpu_ticks "$PID"); sleep "$IDLE"; t1=$(cpu_ticks "$PID")
HZ=$(getconf CLK_TCK)
grep -E 'VmRSS|VmHWM' "/proc/$PID/status"
awk -v a="$t0" -v b="$t1" -v hz="$HZ" -v s="$IDLE" \
    'BEGIN { printf "CPU while idle: %.3f s over %d s = %.3f s per idle hour\n", (b-a)/hz, s, (b-a)/hz*3600/s }'
echo "READY after ${ms} ms (empty store)"
stop

[ "$ROWS" -gt 0 ] || exit 0
echo "== READY with a big store (${ROWS} samples imported)"
awk -v n="$ROWS" 'BEGIN { print "entity,timestamp,metric,value"; t0 = 1700000000;
    for (i = 0; i < n; i++) { e = i % 1000; h = int(i / 1000);
        printf "tiktok:#bulk%d,%d,views,%d\n", e, t0 + h * 3600, h * 100 + e } }' > "$W/big.csv"
"$BIN" -c "$W/trendwatch.toml" import "$W/big.csv" >/dev/null
rm -f "$W/big.csv"
echo "store: $(du -sh "$W/state" | cut -f1)"
for i in 1 2 3; do ms=$(ready_ms); echo "READY after ${ms} ms"; stop; done
