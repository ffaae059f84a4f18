#!/usr/bin/env bash
# End-to-end mail run against a real SMTP server (Debian's python3-aiosmtpd) on loopback:
# import a small history with one emerging hashtag, `trendwatch digest --send` over SMTP
# (tls none on 127.0.0.1), and check exactly one message arrived with the expected subject
# and an inline PNG chart. Exits non-zero otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
  apt-get install -y -qq --no-install-recommends python3-aiosmtpd >/dev/null
fi

work=$(mktemp -d)
smtp_pid=""
cleanup() {
  if [ -n "$smtp_pid" ]; then kill "$smtp_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/mail"
cat > "$work/sink.py" <<'PY'
import sys, time, pathlib
from aiosmtpd.controller import Controller

out = pathlib.Path(sys.argv[2])

class Sink:
    async def handle_DATA(self, server, session, envelope):
        n = len(list(out.iterdir()))
        (out / f"{n:04d}.eml").write_bytes(envelope.original_content or envelope.content)
        return "250 OK"

c = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
try:
    while True:
        time.sleep(1)
finally:
    c.stop()
PY
/usr/bin/python3 "$work/sink.py" "$port" "$work/mail" > "$work/sink.log" 2>&1 &
smtp_pid=$!
for _ in $(seq 50); do grep -q ready "$work/sink.log" 2>/dev/null && break; sleep 0.2; done
grep -q ready "$work/sink.log" || { echo "aiosmtpd did not start"; cat "$work/sink.log"; exit 1; }

cat > "$work/watchlist.toml" <<'TOML'
[tiktok]
hashtags = ["mushroomcoffee"]
TOML
cat > "$work/trendwatch.toml" <<TOML
watchlist = "watchlist.toml"
state_dir = "$work/state"
timezone = "Europe/Paris"

[digest]
language = "en"
to = ["team@example.org"]
from = "trendwatch <trendwatch@example.org>"

[mail]
transport = "smtp"
host = "127.0.0.1"
port = $port
tls = "none"
TOML

# 20 days of 3-hourly samples: a steady 3,000 views/hour, then 40,000/hour over the last 2 days.
end=1795420800   # 2026-11-23T08:00:00Z
/usr/bin/python3 - "$end" > "$work/history.csv" <<'PY'
import sys
end = int(sys.argv[1]); step = 3 * 3600; n = 20 * 8
print("entity,timestamp,metric,value")
v = 1_000_000.0
for i in range(n):
    t = end - (n - 1 - i) * step
    rate = 40_000 if t > end - 2 * 86400 else 3_000
    v += rate * 3 + (i * 7919 % 500)
    print(f"tiktok:#mushroomcoffee,{t},views,{v:.0f}")
PY

# The binary `cargo test` already built, if there is one: no second build for one message.
bin="${CARGO_TARGET_DIR:-target}/debug/trendwatch"
[ -x "$bin" ] || cargo build --quiet
"$bin" -c "$work/trendwatch.toml" import "$work/history.csv"
"$bin" -c "$work/trendwatch.toml" digest --send --at "$end"

count=$(find "$work/mail" -name '*.eml' | wc -l)
[ "$count" -eq 1 ] || { echo "expected 1 message, got $count"; exit 1; }
msg=$(find "$work/mail" -name '*.eml')
/usr/bin/python3 - "$msg" <<'PY'
import sys, email
from email import policy
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=policy.default)
subject = str(m["subject"])
assert subject.startswith("trendwatch · 1 emerging hashtag — week of 23 November 2026"), subject
assert m.get_content_type() == "multipart/alternative", m.get_content_type()
text, related = m.get_payload()
assert text.get_content_type() == "text/plain"
assert related.get_content_type() == "multipart/related"
html = related.get_payload()[0]
pngs = [p for p in related.get_payload()[1:] if p.get_content_type() == "image/png"]
assert pngs, "no inline PNG"
body = html.get_content()
for p in pngs:
    cid = p["Content-ID"].strip("<>")
    assert f"cid:{cid}" in body, cid
    assert p.get_content()[:4] == b"\x89PNG"
assert "mushroomcoffee" in body
print(f"ok: one message, subject {subject!r}, {len(pngs)} inline PNG")
PY
# Nothing pending, and a second flush sends nothing more.
"$bin" -c "$work/trendwatch.toml" outbox --flush
count=$(find "$work/mail" -name '*.eml' | wc -l)
[ "$count" -eq 1 ] || { echo "a flush sent the digest again ($count messages)"; exit 1; }
echo "smtp e2e: ok"
