#!/usr/bin/env bash
# Statistics benchmark: a therapist's year of statistics (GET /v1/me/stats, 366 days) read
# through the service in release mode, with 8 clients, from a table holding a year of daily
# counts for LISTINGS listings (random counts; every day of the year has a row, the worst
# case), beside SIZE demo listings, from one client and from eight at once. Prints the
# table's size and p50/p95/p99/max.
#   bash bench/stats.sh                          (1M listings, 20k with a year: ~5 minutes)
#   SIZE=100000 LISTINGS=5000 bash bench/stats.sh
#   REUSE=1 bash bench/stats.sh                  (on a cluster kept by KEEP=1 bench/search.sh)
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
[ "${KEEP:-}" = 1 ] || trap cleanup EXIT
SIZE=${SIZE:-1000000}
LISTINGS=${LISTINGS:-20000}
DURATION=${DURATION:-15}

cargo build --release --quiet --bin therapist-directory --example stats_read
if [ "${REUSE:-}" = 1 ] && sql "select 1" >/dev/null 2>&1; then
  echo "== $(sql "select count(*) from listing") listings already loaded"
else
  start_cluster
  ./target/release/therapist-directory migrate >/dev/null
  echo "== loading $SIZE listings"
  ./target/release/therapist-directory seed-demo --count "$SIZE" --seed 1 >/dev/null 2>&1
fi
start_api
# One client (a dashboard opened), then eight at once (the service saturated).
for clients in 1 8; do
  ./target/release/examples/stats_read --base "$BASE" --database "$DATABASE_URL" \
    --listings "$LISTINGS" --clients "$clients" --duration "$DURATION"
done
stop_api
