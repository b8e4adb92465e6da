#!/usr/bin/env bash
# Runs once, on the primary's first start (the postgres image runs
# /docker-entrypoint-initdb.d/* into an empty data directory, as POSTGRES_USER, with the
# server listening on its Unix socket only). Prepares streaming replication:
#   - a `replicator` role (REPLICATION login, nothing else) with REPLICATION_PASSWORD;
#   - a physical replication slot per replica, so the primary keeps the WAL a stopped replica
#     still needs (capped by max_slot_wal_keep_size in docker-compose.yml);
#   - a pg_hba.conf line letting `replicator` connect for replication from the network.
# wal_level=replica, max_wal_senders and hot_standby are PostgreSQL's defaults.
set -euo pipefail

: "${REPLICATION_PASSWORD:?set REPLICATION_PASSWORD}"
slots=${REPLICATION_SLOTS:-replica_1}

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set=password="$REPLICATION_PASSWORD" <<'SQL'
select format('create role replicator with replication login password %L', :'password')
where not exists (select 1 from pg_roles where rolname = 'replicator')
\gexec
SQL

for slot in ${slots//,/ }; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" --set=slot="$slot" <<'SQL'
select pg_create_physical_replication_slot(:'slot')
where not exists (select 1 from pg_replication_slots where slot_name = :'slot');
SQL
done

# The image's own last line is `host all all all scram-sha-256`; "all" databases does not
# cover replication connections, which need a line of their own.
echo "host replication replicator all scram-sha-256" >>"$PGDATA/pg_hba.conf"
