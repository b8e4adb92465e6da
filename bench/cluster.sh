#!/usr/bin/env bash
# Past one machine, measured on the local cluster (deploy/local-cluster.sh: a primary, a
# streaming replica, two API processes and nginx, all on loopback) with demo listings:
#   1. search and profile throughput through nginx with two API processes, then with one,
#      and straight to one process without nginx (the balancer's own cost);
#   2. the replica's lag (pg_stat_replication.replay_lag, sampled every 200 ms) while
#      clients send inquiries and listings are confirmed (20 every 100 ms).
#   bash bench/cluster.sh            (about four minutes; COUNT=10000 listings by default)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-10000}
SECS=${SECS:-20}
CLIENTS=${CLIENTS:-8}
OUT=target/bench/cluster
DIR=$(mktemp -d /tmp/bench-cluster.XXXXXX)
mkdir -p "$OUT"
cleanup() {
  deploy/local-cluster.sh stop --dir "$DIR" >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

cargo build --release --quiet --bin therapist-directory --example loadgen
APP_MAINTENANCE_INTERVAL_SECS=0 deploy/local-cluster.sh start \
  --binary target/release/therapist-directory --dir "$DIR" --base-port "${BASE_PORT:-25500}" >/dev/null
# shellcheck disable=SC1091
source "$DIR/cluster.env"
eval "$(python3 - "$PRIMARY_SUPERUSER_URL" <<'PY'
import sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
print(f"export PGHOST={u.hostname} PGPORT={u.port} PGUSER={u.username} "
      f"PGPASSWORD={urllib.parse.unquote(u.password)} PGDATABASE={u.path[1:]}")
PY
)"

echo "== loading $COUNT demo listings"
DATABASE_URL=$OWNER_URL APP_JWT_SECRET=$APP_JWT_SECRET \
  target/release/therapist-directory seed-demo --count "$COUNT" --seed 1 >"$OUT/seed.log" 2>&1
for api in "$API1_URL" "$API2_URL"; do
  for _ in $(seq 1 600); do
    total=$(curl -fsS "$api/v1/therapists?limit=1&include_stale=true" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])' 2>/dev/null || echo 0)
    [ "$total" -ge "$COUNT" ] && break
    sleep 0.5
  done
done

python3 bench/search_urls.py "$OUT/urls" 7 >/dev/null
cat "$OUT"/urls/*.tsv | sed 's/^[^\t]*\t/search\t/' >"$OUT/searches.tsv"
psql -qAt -c "select 'profile' || chr(9) || 'GET' || chr(9) || '/v1/therapists/' || slug
              from directory_entry order by random() limit 3000" >"$OUT/profiles.tsv"
psql -qAt -c "select 'inquiry' || chr(9) || 'POST' || chr(9) || '/v1/therapists/' || slug
              || '/inquiries' || chr(9) || '{\"name\":\"Bench Client\",\"email\":\"client@example.com\",'
              || '\"message\":\"Hello, I would like to ask about availability.\",'
              || '\"preferred_contact\":\"email\",\"consent\":true}'
              from listing where status = 'published' and accepting <> 'not_accepting'
              order by random() limit 3000" >"$OUT/inquiries.tsv"

load() {
  ./target/release/examples/loadgen --base "$1" --duration "$SECS" \
    --group "search:$((CLIENTS / 2)):$OUT/searches.tsv" \
    --group "profile:$((CLIENTS / 2)):$OUT/profiles.tsv"
}

echo "== reads through nginx, two API processes ($CLIENTS clients, ${SECS} s)"
load "$NGINX_URL" | tee "$OUT/nginx-two.txt"

echo "== replica lag while $CLIENTS clients send inquiries and listings are edited (${SECS} s)"
: >"$OUT/lag.txt"
(
  end=$((SECONDS + SECS))
  while [ $SECONDS -lt $end ]; do
    psql -qAt -c "select coalesce(extract(epoch from replay_lag) * 1000, 0) from pg_stat_replication" >>"$OUT/lag.txt"
    sleep 0.2
  done
) &
sampler=$!
(
  end=$((SECONDS + SECS))
  while [ $SECONDS -lt $end ]; do
    psql -qAt -c "update listing set last_confirmed_at = now()
                  where id in (select id from listing where status = 'published' order by random() limit 20)" >/dev/null
    sleep 0.1
  done
) &
editor=$!
./target/release/examples/loadgen --base "$NGINX_URL" --duration "$SECS" \
  --group "inquiry:$CLIENTS:$OUT/inquiries.tsv:xff" | tee "$OUT/writes.txt"
wait "$sampler" "$editor"
python3 - "$OUT/lag.txt" <<'PY' | tee "$OUT/lag-summary.txt"
import sys
lags = sorted(float(x) for x in open(sys.argv[1]) if x.strip())
pick = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))]
print(f"replay lag over {len(lags)} samples: p50 {pick(0.5):.1f} ms, p95 {pick(0.95):.1f} ms, max {lags[-1]:.1f} ms")
PY

deploy/local-cluster.sh stop-api 2 --dir "$DIR" >/dev/null
echo "== reads through nginx, one API process"
load "$NGINX_URL" | tee "$OUT/nginx-one.txt"
echo "== reads straight to the API process, no nginx"
load "$API1_URL" | tee "$OUT/direct-one.txt"
