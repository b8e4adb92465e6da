#!/usr/bin/env bash
# A/B of two builds, or of one build with two settings, on the same data in the same run,
# interleaved class by class so that the machine's drift (±30% from hour to hour) falls on
# both alike: both services run at once on the kept bench cluster (ports 18080 and 18081,
# one loaded at a time), and each class is measured A, B, then B, A (ABBA), DURATION
# seconds each after a WARMUP. Prints, per class, the mean of the two p99s and the
# service's CPU per request for each side, and the difference (this build minus the
# baseline).
#   BASELINE_BINARY=path bash bench/ab.sh               (another build; on a cluster kept
#                                                        by KEEP=1 bench/search.sh)
#   BASELINE_ENV="APP_STATISTICS=false" bash bench/ab.sh  (this build, a setting changed)
#   CLASSES="place_name typo_word" DURATION=20 … bash bench/ab.sh
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
BASELINE_BINARY=${BASELINE_BINARY:-./target/release/therapist-directory}
BASELINE_ENV=${BASELINE_ENV:-}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
[ -d "$OUT/urls" ] || { echo "no URLs in $OUT/urls: run KEEP=1 bench/search.sh first" >&2; exit 1; }
sql "select 1" >/dev/null || { echo "no bench cluster: run KEEP=1 bench/search.sh first" >&2; exit 1; }
cargo build --release --quiet --bin therapist-directory --example loadgen

PIDS=()
stop_both() { for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done; true; }
trap stop_both EXIT
# Starts `binary` on `port` (snapshot and log of its own) with the `VAR=value` settings
# that follow; its PID in PIDS.
start_on() {
  local name=$1 port=$2 binary=$3; shift 3
  port_free "$port"
  env "$@" APP_PORT=$port APP_MAINTENANCE_INTERVAL_SECS=0 APP_LOG=warn APP_MAIL_DIR="$OUT/mail" \
    APP_MIGRATE_ON_START=false APP_SEARCH_SNAPSHOT="$OUT/$name.snapshot" \
    "$binary" serve >"$OUT/api-$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 1500); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return
    sleep 0.2
  done
  echo "$name did not become ready; see $OUT/api-$name.log" >&2; exit 1
}
# A process holds its index as it laid it out: one read from a snapshot is compact and
# quicker to search than one just built (bench/README.md), and two processes of one build
# differ by up to 3 ms p99 for that alone. So each side builds its index, writes its
# snapshot and stops, then starts again from that snapshot; the baseline reads this build's
# snapshot when it is the same build.
rm -f "$OUT/this.snapshot" "$OUT/baseline.snapshot"
start_on this 18080 ./target/release/therapist-directory
stop_both; PIDS=()
start_on this 18080 ./target/release/therapist-directory
if cmp -s "$BASELINE_BINARY" ./target/release/therapist-directory; then
  cp "$OUT/this.snapshot" "$OUT/baseline.snapshot"
else
  start_on baseline 18081 "$BASELINE_BINARY"
  kill -TERM "${PIDS[1]}"; wait "${PIDS[1]}" 2>/dev/null; unset 'PIDS[1]'
fi
# shellcheck disable=SC2086 # BASELINE_ENV is a list of VAR=value words
start_on baseline 18081 "$BASELINE_BINARY" $BASELINE_ENV
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk '/VmRSS/ {printf "%d MB", $2 / 1024}' "/proc/$1/status"; }
echo "resident memory when ready: this $(rss "${PIDS[0]}"), baseline $(rss "${PIDS[1]}")"

# One measurement: "p99 cpu_ms_per_request" of side 0 (this build) or 1 (the baseline).
measure() {
  local side=$1 class=$2 port=$((18080 + $1)) pid=${PIDS[$1]} before after line
  ./target/release/examples/loadgen --base "http://127.0.0.1:$port" --duration "$WARMUP" \
    --group "c:8:$OUT/urls/$class.tsv" >/dev/null
  before=$(ticks "$pid")
  line=$(./target/release/examples/loadgen --base "http://127.0.0.1:$port" --duration "$DURATION" \
    --group "c:8:$OUT/urls/$class.tsv" | tail -n +2)
  after=$(ticks "$pid")
  echo "$line" | awk -v t=$((after - before)) '{printf "%s %.3f\n", $6, t * 10 / $2}'
}

echo "== A/B, ABBA per class, ${DURATION} s each, 8 clients: this build against $BASELINE_BINARY $BASELINE_ENV"
printf '%-28s %10s %10s %10s %12s %12s\n' class "p99 this" "p99 base" "Δ p99 ms" "CPU ms this" "CPU ms base"
for class in $CLASSES; do
  [ -s "$OUT/urls/$class.tsv" ] || continue
  a1=$(measure 0 "$class"); b1=$(measure 1 "$class"); b2=$(measure 1 "$class"); a2=$(measure 0 "$class")
  echo "$class $a1 $b1 $b2 $a2" | awk '{
    pa = ($2 + $8) / 2; pb = ($4 + $6) / 2; ca = ($3 + $9) / 2; cb = ($5 + $7) / 2
    printf "%-28s %10.2f %10.2f %+10.2f %12.2f %12.2f\n", $1, pa, pb, pa - pb, ca, cb }'
done
