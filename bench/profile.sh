#!/usr/bin/env bash
# Where a search class spends the service's CPU: `perf record` on the running service
# while one class runs at 8 clients, then the functions by their own share of the samples.
# On the cluster and URLs that `KEEP=1 bench/search.sh` left; the service is started from
# its snapshot (release build).
#   CLASSES="place_name bbox_map" bash bench/profile.sh
#   TOP=30 DURATION=10 bash bench/profile.sh
# Needs `perf` (Debian: linux-perf).
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
DURATION=${DURATION:-8}
TOP=${TOP:-18}
[ -d "$OUT/urls" ] || { echo "no URLs in $OUT/urls: run KEEP=1 bench/search.sh first" >&2; exit 1; }
cargo build --release --quiet --bin therapist-directory --example loadgen
trap stop_api EXIT
start_api env APP_MIGRATE_ON_START=false
for class in $CLASSES; do
  [ -s "$OUT/urls/$class.tsv" ] || continue
  ./target/release/examples/loadgen --base "$BASE" --duration 2 --group "c:8:$OUT/urls/$class.tsv" >/dev/null
  perf record -q -F 999 -g -p "$API_PID" -o "$OUT/perf-$class.data" -- sleep "$DURATION" >/dev/null 2>&1 &
  perf_pid=$!
  ./target/release/examples/loadgen --base "$BASE" --duration "$DURATION" --group "c:8:$OUT/urls/$class.tsv" | tail -n +2
  wait "$perf_pid" || true
  echo "== $class: functions by their own share of the service's samples"
  perf report -q -i "$OUT/perf-$class.data" --no-children --sort symbol --percent-limit 0.8 -g none 2>/dev/null \
    | grep -v "^$" | cut -c1-110 | sed -E "s/[[:space:]]+$//" | head -n "$TOP"
done
