#!/usr/bin/env bash
# The streaming replica's entrypoint (the postgres image, started as root). On the first
# start (an empty data directory) it copies the primary with pg_basebackup -R, which also
# writes standby.signal and primary_conninfo; every start then hands over to the image's own
# entrypoint, which sees an existing cluster and starts postgres as the postgres user.
set -euo pipefail

: "${PRIMARY_HOST:?set PRIMARY_HOST}"
: "${REPLICATION_PASSWORD:?set REPLICATION_PASSWORD}"
PGDATA=${PGDATA:-/var/lib/postgresql/data}
slot=${REPLICATION_SLOT:-replica_1}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 0700 "$PGDATA"
  until pg_isready --host "$PRIMARY_HOST" --port 5432 --quiet; do
    echo "replica: waiting for the primary at $PRIMARY_HOST"
    sleep 1
  done
  echo "replica: copying the primary (pg_basebackup, slot $slot)"
  # -R writes primary_conninfo (with this password: the standby reconnects with it) into
  # postgresql.auto.conf, and standby.signal.
  gosu postgres env PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup \
    --host "$PRIMARY_HOST" --port 5432 --username replicator \
    --pgdata "$PGDATA" --wal-method stream --slot "$slot" \
    --write-recovery-conf --checkpoint fast --progress --no-password
fi

exec docker-entrypoint.sh postgres "$@"
