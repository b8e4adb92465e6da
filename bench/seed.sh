#!/usr/bin/env bash
# seed-demo from empty: each size is loaded into a fresh database of a throwaway cluster
# (release build), and timed from the command's start to its exit (the load, the
# directory entries written with it, and ANALYZE). The load's own time per table is
# printed from its debug log, in the order of src/demo/mod.rs's TABLES.
#   bash bench/seed.sh                   (10k, 100k and 1M: about 3 minutes)
#   SIZES="100000" bash bench/seed.sh    (one size)
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
trap cleanup EXIT
SIZES=${SIZES:-"10000 100000 1000000"}
# The demo portraits go to a store of their own.
export APP_MEDIA_STORE="$PWD/$OUT/seed-media"

cargo build --release --quiet --bin therapist-directory
start_cluster
for size in $SIZES; do
  db="seed_$size"
  psql -q -h 127.0.0.1 -p "$BENCH_PG_PORT" -U postgres -c "create database $db" postgres
  url="postgres://postgres@127.0.0.1:${BENCH_PG_PORT}/$db"
  DATABASE_URL=$url ./target/release/therapist-directory migrate >/dev/null 2>&1
  started=$(date +%s.%N)
  DATABASE_URL=$url APP_LOG=debug ./target/release/therapist-directory seed-demo --count "$size" --seed 1 2>&1 \
    | sed 's/\x1b\[[0-9;]*m//g' | grep -oE "per_table=\[[^]]*\]|load_ms=[0-9]+" | sed 's/^/  /'
  ended=$(date +%s.%N)
  echo "$size listings from empty: $(awk -v a="$started" -v b="$ended" 'BEGIN {printf "%.1f", b - a}') s"
  psql -q -h 127.0.0.1 -p "$BENCH_PG_PORT" -U postgres -c "drop database $db" postgres
done
