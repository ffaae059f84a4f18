#!/bin/sh
# Checks systemd/trendwatch.service: `systemd-analyze verify` clean and
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

sec=$(systemd-analyze security --offline=true "$unit" 2>&1) || true
rating=$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' | tail -1)
if [ -z "$rating" ]; then printf '%s\n' "$sec" >&2; echo "check-unit: no rating found" >&2; exit 1; fi
echo "security: $rating (max $max)"
awk -v r="$rating" -v m="$max" 'BEGIN { exit !(r <= m) }' || { printf '%s\n' "$sec" | grep '✗' >&2; echo "check-unit: rating $rating above $max" >&2; exit 1; }
