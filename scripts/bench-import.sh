#!/usr/bin/env bash
# Peak memory and time of `trendwatch import` on two large files (BENCHMARKS.md, "Import"):
# 10 M rows (10,000 tags × 1,000 hourly samples, 396 MB) and 100,000 entities × 10 samples.
# Usage: scripts/bench-import.sh [BINARY]   (default target/release/trendwatch)
set -euo pipefail
bin=$(realpath "${1:-target/release/trendwatch}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
awk 'BEGIN { print "entity,timestamp,metric,value";
  for (t = 0; t < 10000; t++) { v = 1000;
    for (h = 0; h < 1000; h++) { v += (t * 7 + h * 13) % 50;
      printf "tiktok:#tag%05d,%d,views,%d\n", t, 1767225600 + h * 3600, v } } }' > rows10m.csv
awk 'BEGIN { print "entity,timestamp,metric,value";
  for (t = 0; t < 100000; t++) for (h = 0; h < 10; h++)
    printf "tiktok:#ent%06d,%d,views,%d\n", t, 1767225600 + h * 3600, 1000 + h * 7 }' > ent100k.csv
for f in rows10m ent100k; do
  mkdir -p "$f"
  printf 'watchlist = "w.toml"\nstate_dir = "%s/state"\n' "$f" > "$f/c.toml"
  printf '[tiktok]\nhashtags = ["a"]\n' > "$f/w.toml"
  /usr/bin/time -f "$f: %e s wall, peak RSS %M kB" "$bin" -c "$f/c.toml" import "$f.csv"
done
