#!/bin/sh
# Checks systemd/trendwatch.service: `systemd-analyze verify` clean, alone and with the
# SMTP password drop-in, no credential that must exist for the bare unit to start, and
# `systemd-analyze security --offline=true` rating at most 1.5.
#
# verify refuses a unit whose ExecStart binary does not exist, and this machine has no
# /usr/local/bin/trendwatch: it verifies a copy whose ExecStart points at the built binary
# (target/release or target/debug), every other line unchanged.
set -eu
cd "$(dirname "$0")/.."
unit=systemd/trendwatch.service
max=1.5

target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
bin=""
for b in "$target_dir/release/trendwatch" "$target_dir/debug/trendwatch"; do
    if [ -x "$b" ]; then bin="$b"; break; fi
done
if [ -z "$bin" ]; then cargo build -q; bin="$target_dir/debug/trendwatch"; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s#^ExecStart=/usr/local/bin/trendwatch #ExecStart=$bin #" "$unit" > "$tmp/trendwatch.service"
grep -q "^ExecStart=$bin " "$tmp/trendwatch.service" || { echo "check-unit: ExecStart not found in $unit" >&2; exit 1; }

out=$(systemd-analyze verify "$tmp/trendwatch.service" 2>&1) || { echo "$out" >&2; echo "check-unit: verify failed" >&2; exit 1; }
if [ -n "$out" ]; then echo "$out" >&2; echo "check-unit: verify is not clean" >&2; exit 1; fi
echo "verify: clean"

# The bare unit must start on a machine with no password file (file or sendmail transport).
if grep -q '^LoadCredential=' "$unit"; then
    echo "check-unit: $unit loads a credential file that may not exist" >&2; exit 1
fi
# Each drop-in of systemd/ verifies clean on top of the unit.
for dropin in systemd/*.conf; do
    name=$(basename "$dropin")
    rm -rf "$tmp/trendwatch.service.d" && mkdir "$tmp/trendwatch.service.d"
    cp "$dropin" "$tmp/trendwatch.service.d/"
    out=$(cd "$tmp" && systemd-analyze verify trendwatch.service 2>&1) || { echo "$out" >&2; echo "check-unit: verify with $name failed" >&2; exit 1; }
    if [ -n "$out" ]; then echo "$out" >&2; echo "check-unit: verify with $name is not clean" >&2; exit 1; fi
    echo "verify with $name: clean"
done
rm -rf "$tmp/trendwatch.service.d"

sec=$(systemd-analyze security --offline=true "$unit" 2>&1) || true
rating=$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' | tail -1)
if [ -z "$rating" ]; then printf '%s\n' "$sec" >&2; echo "check-unit: no rating found" >&2; exit 1; fi
echo "security: $rating (max $max)"
awk -v r="$rating" -v m="$max" 'BEGIN { exit !(r <= m) }' || { printf '%s\n' "$sec" | grep '✗' >&2; echo "check-unit: rating $rating above $max" >&2; exit 1; }

# The drop-ins loosen the sandbox as little as their program needs: sendmail.conf for
# Postfix's set-gid queue, browser.conf for Chromium. Their exposure, measured on a copy of
# the unit with the drop-in's settings in place, stays at most 2.0.
exposure_with() {
    awk 'FNR==NR { if ($0 !~ /^\[|^#/ && NF) extra = extra $0 "\n"; next }
         /^\[Install\]/ { printf "%s\n", extra } { print }' "$1" "$unit" > "$tmp/trendwatch.service"
    sec=$(systemd-analyze security --offline=true "$tmp/trendwatch.service" 2>&1) || true
    rating=$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' | tail -1)
    echo "security with $(basename "$1"): $rating (max 2.0)"
    awk -v r="$rating" 'BEGIN { exit !(r != "" && r <= 2.0) }' || { echo "check-unit: $1 exposure $rating above 2.0" >&2; exit 1; }
}
exposure_with systemd/sendmail.conf
exposure_with systemd/browser.conf
