# Shared by the benchmark scripts: a throwaway PostgreSQL cluster and the service in release
# mode, both on loopback. The cluster uses trust authentication on 127.0.0.1 only and is
# deleted afterwards: it holds nothing but generated demo data.
set -euo pipefail

BENCH_PG_DIR=${BENCH_PG_DIR:-/tmp/td-bench-pg}
BENCH_PG_PORT=${BENCH_PG_PORT:-55432}
BENCH_API_PORT=${BENCH_API_PORT:-18080}
export DATABASE_URL="postgres://postgres@127.0.0.1:${BENCH_PG_PORT}/bench"
# The queries are checked at compile time against .sqlx/, not against this database (which
# does not exist yet when the scripts build).
export SQLX_OFFLINE=true
export APP_JWT_SECRET=bench-secret-bench-secret-bench-secret-00
BASE="http://127.0.0.1:${BENCH_API_PORT}"
# The search classes (bench/search_urls.py draws their URLs); CLASSES="a b" runs a few.
CLASSES=${CLASSES:-"radius_modality_accepting common_word rare_word_state typo_word name insurer_fee_video_language radius_specialty_5_facets nationwide_modality_facets place_name bbox_map sentence suggest walk_5_pages profile_by_slug"}
OUT=target/bench
mkdir -p "$OUT"

pg_bin() {
  for dir in $(pg_config --bindir 2>/dev/null) /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] && { echo "$dir"; return; }
  done
  echo "PostgreSQL server binaries not found: apt-get install postgresql" >&2; exit 1
}
PG_BIN=$(pg_bin)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_cluster() {
  stop_cluster
  rm -rf "$BENCH_PG_DIR"; mkdir -p "$BENCH_PG_DIR"
  [ "$(id -u)" = 0 ] && chown postgres: "$BENCH_PG_DIR"
  as_pg "$PG_BIN/initdb" -D "$BENCH_PG_DIR/data" -U postgres -A trust --no-locale -E UTF8 >/dev/null
  as_pg "$PG_BIN/pg_ctl" -D "$BENCH_PG_DIR/data" -l "$BENCH_PG_DIR/log" -w -o \
    "-p $BENCH_PG_PORT -c listen_addresses=127.0.0.1 -k $BENCH_PG_DIR -c shared_buffers=1GB -c max_wal_size=4GB -c effective_cache_size=8GB -c work_mem=16MB -c max_prepared_transactions=8 -c shared_preload_libraries=pg_stat_statements" start >/dev/null
  psql -q -h 127.0.0.1 -p "$BENCH_PG_PORT" -U postgres -c "create database bench" postgres
}

stop_cluster() {
  [ -f "$BENCH_PG_DIR/data/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$BENCH_PG_DIR/data" -m fast -w stop >/dev/null || true
}

sql() { psql -qAt -h 127.0.0.1 -p "$BENCH_PG_PORT" -U postgres bench -c "$1"; }

# The maintenance job is off: its passes (freshness over a million demo listings) are
# not what the benchmarks measure.
# Waits until nothing listens on port $1 (a stopped service closes its socket only after
# its graceful shutdown): a new one would fail to bind, and the old one answer for it.
port_free() {
  for _ in $(seq 1 300); do
    ss -ltnH "sport = :$1" | grep -q . || return 0
    sleep 0.1
  done
  echo "port $1 is still in use" >&2; exit 1
}

start_api() {
  port_free "$BENCH_API_PORT"
  APP_PORT=$BENCH_API_PORT APP_MAINTENANCE_INTERVAL_SECS=0 \
    APP_LOG=warn APP_MAIL_DIR="$OUT/mail" APP_SEARCH_SNAPSHOT="$OUT/search-index.snapshot" "$@" "${API_BINARY:-./target/release/therapist-directory}" serve >"$OUT/api.log" 2>&1 &
  API_PID=$!
  # Ready once the search index is built: one to three minutes at a million listings,
  # with this machine's speed.
  for _ in $(seq 1 1500); do
    curl -fsS "$BASE/readyz" >/dev/null 2>&1 && return
    sleep 0.2
  done
  echo "the API did not become ready; see $OUT/api.log" >&2; exit 1
}

stop_api() { [ -n "${API_PID:-}" ] && kill -TERM "$API_PID" 2>/dev/null && wait "$API_PID" 2>/dev/null || true; }

cleanup() { stop_api; stop_cluster; rm -rf "$BENCH_PG_DIR"; }
