#!/usr/bin/env bash
# Search benchmark (issue 7): loads demo listings with seed-demo in three steps
# (10k → 100k → 1M), and at each size drives every query class from a separate load
# generator at 8 concurrent clients for DURATION seconds, printing p50/p95/p99 and
# throughput per class. URLs are drawn at random from generated lists (never one repeated
# URL); walking pages uses cursors fetched beforehand.
#   bash bench/search.sh            (about 20 minutes; needs PostgreSQL's binaries)
#   SIZES="10000" bash bench/search.sh   (one size only)
#   KEEP=1 bash bench/search.sh          (leave the cluster running afterwards)
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
# KEEP=1 leaves the cluster (and the service) running afterwards, to look at plans.
[ "${KEEP:-}" = 1 ] || trap cleanup EXIT
SIZES=${SIZES:-"10000 100000 1000000"}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
FACETS="facets=modality,specialty,insurer,delivery,session_format"

# Logs every statement with its parameters while one request of each sampled URL runs,
# then turns them into pgbench scripts (bench/pgbench_scripts.py).
capture_sql() {
  local from
  from=$(wc -l <"$BENCH_PG_DIR/log")
  sql "alter system set log_min_duration_statement = 0" && sql "alter system set log_parameter_max_length = -1"
  sql "select pg_reload_conf()" >/dev/null
  for class in radius common rare insurer pages profiles; do
    local n=0
    head -n 40 "$OUT/$class.tsv" | while IFS=$'\t' read -r name _ url; do
      sql "select 'bench-marker:$name:$n'" >/dev/null
      curl -sS -o /dev/null "$BASE$url"
      n=$((n + 1))
    done
  done
  sql "alter system reset log_min_duration_statement" && sql "alter system reset log_parameter_max_length"
  sql "select pg_reload_conf()" >/dev/null
  tail -n +"$from" "$BENCH_PG_DIR/log" >"$OUT/statements.log"
  rm -rf "$OUT/pgbench"
  python3 bench/pgbench_scripts.py "$OUT/statements.log" "$OUT/pgbench" >/dev/null
}

cargo build --release --quiet --bin therapist-directory --example loadgen
start_cluster
loaded=0
seed=1
for size in $SIZES; do
  add=$((size - loaded))
  echo "== loading $add listings (total $size)"
  /usr/bin/time -f "seed-demo: %e s" ./target/release/therapist-directory seed-demo --count "$add" --seed "$seed" 2>&1 | tail -1
  loaded=$size; seed=$((seed + 1))
  # As after any bulk load: statistics, and the visibility map that lets offices be read
  # from their index alone.
  sql "vacuum (analyze) directory_entry, directory_office"
  stop_api; start_api

  zips=$(sql "select zip from office tablesample system (1) limit 300")
  modalities=(cbt dbt act emdr imago gottman eft psychodynamic person-centered mindfulness-based)
  insurers=(aetna cigna united-healthcare blue-cross-blue-shield medicare optum humana)
  {
    for zip in $zips; do
      m=${modalities[$((RANDOM % ${#modalities[@]}))]}
      printf 'radius_modality_accepting\tGET\t/v1/therapists?near=%s&radius_km=40&modality=%s&accepting=true&sort=distance&%s\n' "$zip" "$m" "$FACETS"
    done
  } >"$OUT/radius.tsv"
  for limit in $(seq 1 50); do
    for word in anxiety depression couples trauma; do
      printf 'common_word_nationwide\tGET\t/v1/therapists?q=%s&limit=%s&%s\n' "$word" "$limit" "$FACETS"
    done
  done >"$OUT/common.tsv"
  # A name and a word from the slug: percent-encoded, since names are not all ASCII.
  sql "select display_name || ' ' || split_part(slug, '-', 3) from directory_entry tablesample system (1) limit 300" \
    | python3 -c 'import sys, urllib.parse as u; [print("rare_phrase_nationwide\tGET\t/v1/therapists?q=" + u.quote_plus(l.strip()) + "&'"$FACETS"'") for l in sys.stdin]' >"$OUT/rare.tsv"
  {
    for i in $(seq 1 300); do
      ins=${insurers[$((RANDOM % ${#insurers[@]}))]}
      fee=$(( (RANDOM % 20 + 6) * 1000 ))
      lang=$([ $((RANDOM % 4)) = 0 ] && echo es || echo en)
      printf 'insurer_fee_video_language\tGET\t/v1/therapists?insurer=%s&max_fee_cents=%s&delivery=video&language=%s&%s\n' "$ins" "$fee" "$lang" "$FACETS"
    done
  } >"$OUT/insurer.tsv"
  : >"$OUT/pages.tsv"
  for zip in $(echo "$zips" | head -40); do
    url="/v1/therapists?near=$zip&radius_km=60&sort=distance&limit=10"
    for page in 1 2 3 4 5; do
      printf 'walk_5_pages\tGET\t%s\n' "$url" >>"$OUT/pages.tsv"
      cursor=$(curl -fsS "$BASE$url" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"] or "")')
      [ -z "$cursor" ] && break
      url="/v1/therapists?near=$zip&radius_km=60&sort=distance&limit=10&cursor=$cursor"
    done
  done
  sql "select 'profile_by_slug' || chr(9) || 'GET' || chr(9) || '/v1/therapists/' || slug from directory_entry tablesample system (1) limit 1000" >"$OUT/profiles.tsv"

  echo "== $size listings: 8 concurrent clients per class, ${DURATION} s each"
  : >"$OUT/api-$size.txt"
  # Steady state, not the first seconds after a load: the load's dirty pages are written
  # out first (otherwise the checkpoint lands inside the first class measured), then every
  # class runs WARMUP seconds unrecorded (fresh connections, plans, index pages).
  sql "checkpoint"
  for class in radius common rare insurer pages profiles; do
    ./target/release/examples/loadgen --base "$BASE" --duration "$WARMUP" --group "c:8:$OUT/$class.tsv" >/dev/null
  done
  for class in radius common rare insurer pages profiles; do
    ./target/release/examples/loadgen --base "$BASE" --duration "$DURATION" --group "c:8:$OUT/$class.tsv" | tail -n +2 | tee -a "$OUT/api-$size.txt"
  done

  # The same SQL straight through pgbench: the statements the API ran for a sample of each
  # class's requests, captured from the server log with their parameters.
  echo "== $size listings: the same SQL through pgbench (8 clients, ${DURATION} s per class)"
  capture_sql
  printf '%-28s %10s %12s %8s\n' class "API req/s" "pgbench tps" ratio
  while read -r name _ rps _; do
    files=()
    for f in "$OUT/pgbench/$name"-*.sql; do files+=(-f "$f"); done
    tps=$("$PG_BIN/pgbench" -n -h 127.0.0.1 -p "$BENCH_PG_PORT" -U postgres -c 8 -j 2 -T "$DURATION" "${files[@]}" bench \
      2>"$OUT/pgbench-$name.log" | awk '/^tps =/ {print int($3)}') || true
    if grep -q "error" "$OUT/pgbench-$name.log"; then
      echo "pgbench reported errors for $name: $(grep -m1 error "$OUT/pgbench-$name.log")" >&2
    fi
    printf '%-28s %10s %12s %8s\n' "$name" "$rps" "$tps" "$(awk -v a="$rps" -v b="$tps" 'BEGIN {printf "%.2f", a / b}')"
  done <"$OUT/api-$size.txt"
done
