#!/usr/bin/env bash
# Search benchmark: loads demo listings with seed-demo in steps (10k → 100k → 1M) and at
# each size measures, with the service in release mode against a throwaway cluster:
#   - seed time, cold start (process start to /readyz 200, the index built from
#     PostgreSQL) and resident memory;
#   - every query class from a separate load generator at 8 concurrent clients for
#     DURATION seconds: p50/p95/p99, requests per second and the service's CPU time per
#     request (from /proc), with URLs drawn at random (bench/search_urls.py);
#   - which statements the searches ran in PostgreSQL (pg_stat_statements);
#   - change-to-visible latency: a listing renamed in PostgreSQL, polled by search;
#   - the first minute after a restart: every class mixed, from a cold process.
#   bash bench/search.sh                  (about 30 minutes; needs PostgreSQL's binaries)
#   SIZES="10000" bash bench/search.sh    (one size only)
#   KEEP=1 bash bench/search.sh           (leave the cluster running afterwards)
#   REUSE=1 SIZES=1000000 bash bench/search.sh   (measure again on a kept cluster)
#   BASELINE_BINARY=path bash bench/search.sh    (also run that build at each size: cold
#                                                 start, memory and every class, A/B on the
#                                                 same data in the same run)
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
if [ "${KEEP:-}" = 1 ]; then trap stop_api EXIT; else trap cleanup EXIT; fi
SIZES=${SIZES:-"10000 100000 1000000"}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
export PGHOST=127.0.0.1 PGPORT=$BENCH_PG_PORT PGUSER=postgres PGDATABASE=bench

cpu_ticks() { awk '{print $14 + $15}' "/proc/$API_PID/stat"; }
rss_mb() { awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$API_PID/status"; }

# Starts the service; STARTED_IN is the seconds until it was ready (its index built).
timed_start() {
  local started ended
  started=$(date +%s.%N)
  start_api "$@"
  ended=$(date +%s.%N)
  STARTED_IN=$(awk -v a="$started" -v b="$ended" 'BEGIN {printf "%.1f", b - a}')
}

# Every class from its own load generator, after an unrecorded warm-up: one table row each.
run_classes() {
  local class before after line
  for class in $CLASSES; do
    ./target/release/examples/loadgen --base "$BASE" --duration "$WARMUP" --group "c:8:$OUT/urls/$class.tsv" >/dev/null
  done
  printf '%-28s %9s %9s %9s %9s %9s %7s %12s\n' class requests "req/s" "p50 ms" "p95 ms" "p99 ms" "non-2xx" "CPU ms/req"
  for class in $CLASSES; do
    before=$(cpu_ticks)
    line=$(./target/release/examples/loadgen --base "$BASE" --duration "$DURATION" --group "c:8:$OUT/urls/$class.tsv" | tail -n +2)
    after=$(cpu_ticks)
    echo "$line" | awk -v t=$((after - before)) '{printf "%-28s %9s %9s %9s %9s %9s %7s %12.2f\n", $1, $2, $3, $4, $5, $6, $8, t * 10 / $2}'
  done
}

cargo build --release --quiet --bin therapist-directory --example loadgen
if [ "${REUSE:-}" = 1 ] && sql "select 1" >/dev/null 2>&1; then
  loaded=$(sql "select count(*) from directory_entry")
else
  start_cluster
  loaded=0
fi
sql "create extension if not exists pg_stat_statements"
seed=$((loaded / 1000 + 1))
for size in $SIZES; do
  add=$((size - loaded))
  if [ "$add" -le 0 ]; then
    echo "== $loaded listings already loaded"
  else
  echo "== loading $add listings (total $size)"
  # The whole run, and the load's own part (the rest is ANALYZE) from its log.
  APP_LOG=info /usr/bin/time -f "seed-demo: %e s" ./target/release/therapist-directory seed-demo --count "$add" --seed "$seed" 2>&1 \
    | sed 's/\x1b\[[0-9;]*m//g' | grep -E "seed-demo:|with their directory entries" \
    | sed -E 's/.*(load_ms[^ ,}]*).*/  \1/'
  loaded=$size; seed=$((seed + 1))
  sql "vacuum (analyze) directory_entry, directory_office"
  fi
  stop_api
  if [ -n "${BASELINE_BINARY:-}" ]; then
    # The commit before, on the same data in the same run: cold start and memory A/B.
    API_BINARY=$BASELINE_BINARY timed_start env APP_MIGRATE_ON_START=false
    echo "baseline ($BASELINE_BINARY): cold start $STARTED_IN s, resident memory $(rss_mb) MB"
    stop_api
  fi
  # From the database: no snapshot yet (this start writes one).
  rm -f "$OUT/search-index.snapshot"
  timed_start
  echo "cold start without a snapshot (process start to ready, index built from PostgreSQL, snapshot written): $STARTED_IN s"
  echo "resident memory after start: $(rss_mb) MB"

  python3 bench/search_urls.py "$OUT/urls" "$size"
  : >"$OUT/urls/walk_5_pages.tsv"
  while read -r url; do
    for page in 1 2 3 4 5; do
      printf 'walk_5_pages\tGET\t%s\n' "$url" >>"$OUT/urls/walk_5_pages.tsv"
      cursor=$(curl -fsS "$BASE$url" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"] or "")')
      [ -z "$cursor" ] && break
      url="${url%%&cursor=*}&cursor=$cursor"
    done
  done <"$OUT/urls/walk_seeds.txt"

  echo "== $size listings: 8 concurrent clients per class, ${DURATION} s each (release build; CPU is the service's own, per request)"
  sql "select pg_stat_statements_reset()" >/dev/null
  run_classes | tee "$OUT/api-$size.txt"
  echo "resident memory after the classes: $(rss_mb) MB"
  echo "-- statements PostgreSQL ran during the classes (pg_stat_statements, by calls)"
  sql "select calls, round(mean_exec_time::numeric, 3) as mean_ms, left(regexp_replace(query, '\s+', ' ', 'g'), 110)
       from pg_stat_statements where dbid = (select oid from pg_database where datname = 'bench')
       and query not like '%pg_stat_statements%' order by calls desc limit 8"

  if [ -n "${BASELINE_BINARY:-}" ]; then
    echo "-- the same classes against the baseline ($BASELINE_BINARY), same data, same run"
    stop_api
    API_BINARY=$BASELINE_BINARY start_api env APP_MIGRATE_ON_START=false
    run_classes | tee "$OUT/api-$size-baseline.txt"
    stop_api
    start_api
  fi

  echo "-- change to visible: a listing renamed in PostgreSQL, then searched for by its new name"
  for i in $(seq 1 20); do
    # Unique across runs: a cluster kept with KEEP=1 holds the names earlier runs gave, and
    # a second listing with the same word would never let the search below see one.
    word="fresh$(date +%s%N)x$i"
    id=$(sql "select listing_id from directory_entry tablesample system (1) limit 1")
    started=$(date +%s%N)
    sql "update listing set display_name = 'Pat $word', version = version + 1 where id = '$id'"
    until curl -fsS "$BASE/v1/therapists?q=$word" | grep -q '"total":1'; do sleep 0.01; done
    echo $(( ($(date +%s%N) - started) / 1000000 ))
  done | sort -n | awk '{a[NR] = $1} END {printf "change to visible over %d changes: p50 %d ms, max %d ms\n", NR, a[int(NR / 2) + 1], a[NR]}'

  echo "-- restart: cold start again, then every class mixed for 60 s from the cold process"
  stop_api
  timed_start
  echo "restart to ready (index read from its snapshot, then caught up): $STARTED_IN s, resident memory $(rss_mb) MB"
  # One client per class (ten in all), from the moment the process is ready.
  groups=()
  for class in $CLASSES; do groups+=(--group "$class:1:$OUT/urls/$class.tsv"); done
  ./target/release/examples/loadgen --base "$BASE" --duration 60 "${groups[@]}" | tee "$OUT/restart-$size.txt"
done
