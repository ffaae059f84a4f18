#!/usr/bin/env bash
# Renders the digest preview of the demo history (examples/digest_demo.rs) and takes
# headless-Chromium screenshots at phone (390 px) and desktop (1280 px) widths. Fails when a
# page is blank or wider than the window (a reader would have to scroll sideways).
#
#   bash scripts/digest-screenshot.sh            # check only, images in a temporary directory
#   bash scripts/digest-screenshot.sh --update   # also refresh docs/digest-*.png for README
#
# Needs Debian's `chromium` and python3. Uses the debug build `cargo test` made.
set -euo pipefail
cd "$(dirname "$0")/.."

update=false
[ "${1:-}" = "--update" ] && update=true
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "digest-screenshot: chromium is not installed (apt-get install chromium)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build -q --bin trendwatch --example digest_demo
target=${CARGO_TARGET_DIR:-target}
"$target/debug/examples/digest_demo" "$work/demo" fr >/dev/null
at=1796025600 # 2026-11-30T08:00:00Z, the demo's Monday
"$target/debug/trendwatch" -c "$work/demo/trendwatch.toml" digest --at "$at" \
  --preview "$work/digest.html" 2>/dev/null

# A page that lays the preview out in a frame of each width and records how wide it got:
# headless windows have a minimum width, a frame does not.
probe() {
  cat >"$work/probe-$1.html" <<HTML
<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="digest.html" width="$1" height="2400" style="border:0"></iframe>
<script>
document.getElementById('f').addEventListener('load', function () {
  var w = this.contentWindow, d = w.document;
  document.body.setAttribute('data-probe', 'w=' + w.innerWidth + ';sw=' +
    d.documentElement.scrollWidth + ';text=' + d.body.innerText.length);
});
</script></body></html>
HTML
}

flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
  --disable-component-update --disable-sync --no-first-run --hide-scrollbars
  --user-data-dir="$work/profile" --virtual-time-budget=3000 --allow-file-access-from-files)

status=0
for spec in phone:390 desktop:1280; do
  name=${spec%%:*}
  width=${spec##*:}
  shot="$work/digest-$name.png"
  timeout 120 "$browser" "${flags[@]}" --window-size="$width,2400" \
    --screenshot="$shot" "file://$work/digest.html" >/dev/null 2>&1
  probe "$width"
  timeout 120 "$browser" "${flags[@]}" --window-size=1400,2400 \
    --dump-dom "file://$work/probe-$width.html" 2>/dev/null >"$work/dom-$name.html"
  if ! python3 - "$shot" "$work/dom-$name.html" "$name" <<'EOF'
import re, struct, sys, zlib

shot, dom, name = sys.argv[1:4]
data = open(shot, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, width, height, bpp = 8, b"", 0, 0, 0
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, color = struct.unpack(">IIBB", body[:10])
        bpp = {2: 3, 6: 4}[color]
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
raw = zlib.decompress(idat)
stride = width * bpp
prev = bytearray(stride)
inked = 0
for y in range(height):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp * 4):
        if sum(line[x:x + 3]) < 600:
            inked += 1
    prev = line
share = inked / (width * height / 4)
m = re.search(r'data-probe="w=(\d+);sw=(\d+);text=(\d+)"', open(dom, encoding="utf-8").read())
assert m, f"{name}: the page did not finish loading"
w, sw, text = map(int, m.groups())
print(f"{name}: {width}x{height} px, {share:.1%} inked, layout {sw}px in a {w}px window, {text} characters")
assert share > 0.02, f"{name}: the page is blank"
assert text > 500, f"{name}: the page has almost no text"
assert sw <= w, f"{name}: the page is {sw}px wide in a {w}px window"
EOF
  then
    status=1
  fi
done

if $update && [ "$status" = 0 ]; then
  mkdir -p docs
  # Phone width, cropped to what a reader sees first, is what README shows.
  cp "$work/digest-phone.png" docs/digest-phone.png
  cp "$work/digest-desktop.png" docs/digest-desktop.png
  echo "docs/digest-phone.png and docs/digest-desktop.png updated"
fi
exit "$status"
