#!/usr/bin/env bash
# One `trendwatch collect` pass over 1,000 creator pages of ~280 KB each, served by nginx on
# loopback with the per-host interval at zero: wall time and peak RSS (GNU time).
#
#   scripts/bench-collect.sh            # N=1000 pages, 3 runs, concurrency 16
#   N=200 RUNS=1 CONCURRENCY=8 scripts/bench-collect.sh
#   KIND=hashtags N=100000 RUNS=1 scripts/bench-collect.sh   # a watchlist of N hashtags
#   KIND=videos N=100 scripts/bench-collect.sh                # a campaign of N sponsored videos
#   KIND=products N=200 scripts/bench-collect.sh              # N TikTok Shop products
#
# After the passes, `trendwatch status` runs on the store the last pass left: its time too.
#
# Installs nginx and GNU time from Debian when missing (needs root for that). Every creator
# page is the realistic profile fixture (tests/fixtures/tiktok/profile_large.html) with its
# own handle and counts; /api/creator/item_list/ answers the item_list fixture.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000}
KIND=${KIND:-creators}
RUNS=${RUNS:-3}
CONCURRENCY=${CONCURRENCY:-16}
PORT=${PORT:-18080}
PAGE_BYTES=${PAGE_BYTES:-280000}

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

WORK=$(mktemp -d /tmp/trendwatch-bench.XXXXXX)
chmod 755 "$WORK"
cleanup() {
  if [ -f "$WORK/nginx.pid" ]; then kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== generating the pages of $N $KIND in $WORK/www"
python3 - "$WORK/www" "$( [ "$KIND" = creators ] && echo "$N" || echo 0)" "$PAGE_BYTES" "$( [ "$KIND" = videos ] && echo "$N" || echo 0)" "$( [ "$KIND" = products ] && echo "$N" || echo 0)" <<'PY'
import os, sys
out, n, target, videos, products = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
shop = open("tests/fixtures/tiktok/shop_product.html", encoding="utf-8").read()
for i in range(products):
    pid = str(1731000000000000000 + i)
    d = os.path.join(out, "shop", "pdp", "produit")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, pid), "w", encoding="utf-8") as f:
        f.write(shop.replace("1731000000000000042", pid).replace('"sold_count":12840', '"sold_count":%d' % (1000 + i)))
video = open("tests/fixtures/tiktok/video_universal.html", encoding="utf-8").read()
for i in range(videos):
    vid = str((1793750400 << 32) + i)
    d = os.path.join(out, "@creator%04d" % i, "video")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, vid), "w", encoding="utf-8") as f:
        f.write(video.replace("7704099305192816647", vid).replace("lea.soinsnaturels", "creator%04d" % i)
                     .replace('"playCount":"250000"', '"playCount":"%d"' % (1000 + i)))
os.makedirs(out + "/api/creator/item_list", exist_ok=True)
page = open("tests/fixtures/tiktok/profile_large.html", encoding="utf-8").read()
# Trim head preload tags until the page is about the target size.
lines = page.split("\n")
while len("\n".join(lines).encode()) > target:
    i = next(i for i, l in enumerate(lines) if 'rel="preload"' in l)
    del lines[i]
page = "\n".join(lines)
for i in range(n):
    handle = "creator%04d" % i
    p = (page.replace("lea.soinsnaturels", handle)
             .replace('"followerCount":"48217"', '"followerCount":"%d"' % (10000 + i))
             .replace("LeaSoinsNaturelsInventedSecUid", "Creator%04dInventedSecUid" % i))
    with open(os.path.join(out, "@" + handle), "w", encoding="utf-8") as f:
        f.write(p)
tag = open("tests/fixtures/tiktok/tag_universal.html", encoding="utf-8").read()
with open(os.path.join(out, "tag.html"), "w", encoding="utf-8") as f:
    f.write(tag)
with open(os.path.join(out, "item_list.json"), "w") as f:
    f.write(open("tests/fixtures/tiktok/item_list.json", encoding="utf-8").read())
print("page size: %d bytes" % len((p if n else (video if videos else tag)).encode()))
PY

cat > "$WORK/nginx.conf" <<CONF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 100000;
  client_body_temp_path $WORK/tmp;
  proxy_temp_path $WORK/tmp;
  fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp;
  scgi_temp_path $WORK/tmp;
  server {
    listen 127.0.0.1:$PORT;
    root $WORK/www;
    default_type text/html;
    location = /api/creator/item_list/ {
      default_type application/json;
      try_files /item_list.json =404;
    }
    # Each tag's page names its own tag (trendwatch stores nothing from a page that shows
    # another one).
    location ~ ^/tag/(?<tagname>[^/]+)\$ {
      sub_filter '"title":"skincarenaturel"' '"title":"\$tagname"';
      sub_filter_once off;
      try_files /tag.html =404;
    }
    location / { try_files \$uri =404; }
  }
}
CONF
mkdir -p "$WORK/tmp"
"$NGINX" -p "$WORK" -c "$WORK/nginx.conf"
for _ in $(seq 50); do
  python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$PORT/tag/x')" 2>/dev/null && break
  sleep 0.1
done

python3 - "$WORK" "$N" "$KIND" <<'PY'
import sys
work, n, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
names = lambda fmt: ", ".join('"' + fmt % i + '"' for i in range(n))
with open(work + "/watchlist.toml", "w") as f:
    if kind == "hashtags":
        f.write("[tiktok]\nhashtags = [%s]\ncreators = []\n" % names("tag%06d"))
    elif kind == "products":
        urls = ",\n".join('  "https://www.tiktok.com/shop/pdp/produit/%d"' % (1731000000000000000 + i) for i in range(n))
        f.write('[shop]\nregion = "FR"\nproducts = [\n%s,\n]\n' % urls)
    elif kind == "videos":
        urls = ",\n".join('  "https://www.tiktok.com/@creator%04d/video/%d"' % (i, (1793750400 << 32) + i) for i in range(n))
        f.write('[[campaign]]\nname = "bench"\nstart = "2026-01-01"\nobjective = "engagement"\nbudget = 1000.0\nvideos = [\n%s,\n]\n' % urls)
    else:
        f.write("[tiktok]\nhashtags = []\ncreators = [%s]\n" % names("creator%04d"))
PY
cat > "$WORK/trendwatch.toml" <<CONF
watchlist = "watchlist.toml"
state_dir = "$WORK/state"
timezone = "Europe/Paris"

[collect]
schedule = "0 0 */3 * * *"
concurrency = $CONCURRENCY
per_host_interval = "0s"
timeout = "20s"
retries = 3
max_body = "8MiB"
user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
tiktok_base_url = "http://127.0.0.1:$PORT"

[detect]
baseline = "14d"
recent = "24h"
min_rate = 1000.0
min_score = 3.0

[digest]
schedule = "0 0 8 * * Mon"
language = "fr"
max_items = 12
cooldown = "7d"
to = ["equipe@example.org"]
from = "trendwatch <trendwatch@example.org>"

[mail]
transport = "file"
CONF

echo "== building trendwatch (release)"
cargo build --release --quiet --bin trendwatch
BIN="${CARGO_TARGET_DIR:-target}/release/trendwatch"

echo "== $RUNS pass(es) over $N $KIND, concurrency $CONCURRENCY, interval 0"
for run in $(seq "$RUNS"); do
  rm -rf "$WORK/state"
  /usr/bin/time -v env ${BENCH_ENV:-} "$BIN" -c "$WORK/trendwatch.toml" collect >"$WORK/out.txt" 2>"$WORK/time.txt" || {
    echo "run $run failed:"; tail -n 20 "$WORK/out.txt"; head -n 5 "$WORK/time.txt"; exit 1; }
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time.txt")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")
  ok=$(grep -c '^tiktok:[@#][a-z]*[0-9]* *ok ' "$WORK/out.txt" || true)
  echo "run $run: wall $wall, peak RSS $((rss / 1024)) MB ($rss kB), $ok/$N ok · $(tail -1 "$WORK/out.txt")"
done
/usr/bin/time -v "$BIN" -c "$WORK/trendwatch.toml" status >/dev/null 2>"$WORK/time.txt"
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time.txt")
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")
echo "status on that store: wall $wall, peak RSS $((rss / 1024)) MB"
