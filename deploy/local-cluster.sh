#!/usr/bin/env bash
# The production topology on one machine, without Docker, on loopback ports:
#
#   nginx (base+4) ──┬── api-1 (base+2) ──┐  writes ──> PostgreSQL primary (base)
#                    └── api-2 (base+3) ──┘  reads  ──> streaming replica (base+1)
#
# Usage:
#   deploy/local-cluster.sh start [--binary PATH] [--dir DIR] [--base-port N]
#   deploy/local-cluster.sh stop [--dir DIR]
#   deploy/local-cluster.sh status [--dir DIR]
#   deploy/local-cluster.sh stop-api N | start-api N [--dir DIR]
#   deploy/local-cluster.sh roll [--binary PATH] [--dir DIR]
#   deploy/local-cluster.sh stop-replica | start-replica [--dir DIR]
#
# `start` makes (or, on a directory it made before, restarts) the cluster: initdb of the
# primary (wal_level=replica, a `replicator` role allowed in pg_hba from 127.0.0.1), the
# replica with pg_basebackup -R (hot standby, a replication slot), the database and its
# owner, `therapist-directory migrate` once as the owner, the least-privilege login
# `directory_app` (member of `directory_service`, which the migrations create), two API
# processes (APP_MIGRATE_ON_START=false; writes to the primary, reads to the replica; one
# JWT secret, one mail directory), a photo store (s3s-fs over S3 when target/tools has it,
# else a shared directory) and nginx in front. It returns once nginx and both APIs
# answer /readyz with 200, and writes the URLs and process ids to DIR/cluster.env
# (shell-sourceable). A start that fails stops what it started (LOCAL_CLUSTER_KEEP=1 keeps
# it for a look).
#
# `roll` restarts the APIs one after the other, as an operator deploying a new binary
# should (`--binary` to switch to another one): SIGTERM (the process answers /readyz 503 and
# keeps serving for APP_SHUTDOWN_DRAIN_SECS, then finishes what is in flight), start, wait
# for /readyz 200, then ROLL_PAUSE_SECS (2: longer than nginx's fail_timeout, so nginx has
# the restarted process back) before the next one stops.
#
# Defaults: the binary is target/release/therapist-directory, else target/debug/...; the
# directory is ./var/local-cluster (of the repository); the base port is 25400. The API
# processes get every APP_* variable of the caller's environment (APP_LOG,
# APP_MAINTENANCE_INTERVAL_SECS — 900 unless set —, APP_ARGON2_*, ...) except the ones this
# script sets; nothing else of the caller's environment (not DATABASE_URL).
#
# PostgreSQL refuses to run as root: as root its programs run as the `postgres` user
# (runuser), which owns DIR/pg. Needs initdb, pg_ctl, postgres, pg_basebackup, psql, nginx
# and curl on PATH (or PG_BINDIR for the server programs).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEMPLATE=$ROOT/deploy/local-cluster/nginx.conf.template
DATABASE=therapist_directory
WAIT_SECS=${LOCAL_CLUSTER_WAIT_SECS:-180}

say() { printf 'local-cluster: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

usage() {
  sed -n '8,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# --- Arguments ----------------------------------------------------------------------------

command=${1:-}
[ -n "$command" ] || usage
shift
api_number=
case $command in
  stop-api | start-api)
    [ $# -gt 0 ] || usage
    api_number=$1
    shift
    [[ $api_number == 1 || $api_number == 2 ]] || die "no api-$api_number (1 or 2)"
    ;;
esac
binary=
dir=
base_port=
while [ $# -gt 0 ]; do
  case $1 in
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --binary=*) binary=${1#*=}; shift ;;
    --dir) dir=${2:?--dir needs a path}; shift 2 ;;
    --dir=*) dir=${1#*=}; shift ;;
    --base-port) base_port=${2:?--base-port needs a number}; shift 2 ;;
    --base-port=*) base_port=${1#*=}; shift ;;
    -h | --help) usage ;;
    *) die "unknown argument: $1" ;;
  esac
done

dir=${dir:-$ROOT/var/local-cluster}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
PG=$dir/pg
RUN=$dir/run
LOGS=$dir/logs
PRIMARY_DATA=$PG/primary
REPLICA_DATA=$PG/replica

# The server programs: PG_BINDIR, else PATH, else the newest Debian install.
pg_bin() {
  local name=$1 candidate
  if [ -n "${PG_BINDIR:-}" ]; then
    echo "$PG_BINDIR/$name"
    return
  fi
  if candidate=$(command -v "$name"); then
    echo "$candidate"
    return
  fi
  for candidate in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
    [ -x "$candidate/$name" ] && { echo "$candidate/$name"; return; }
  done
  die "$name not found (set PG_BINDIR)"
}

# Runs a PostgreSQL server program as the user that owns the data.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Hands files to the user the servers run as (when that is not us).
own_pg() { if [ "$(id -u)" = 0 ]; then chown postgres: "$@"; fi; }

random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# --- Processes ----------------------------------------------------------------------------

# Running, and not a zombie waiting for its parent (or init) to reap it.
alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  local state
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || true
  [ "$state" != Z ]
}

# The pid in a pid file (the first line: postmaster.pid has more).
pid_in() { [ -s "$1" ] && head -n1 "$1" | tr -dc '0-9' || true; }

# Whether a process's command line mentions `word` (a pid file may outlive its process, and
# the number be reused by another).
is_ours() { alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Sends `signal` to pid, waits up to `secs` for it to go, then kills it.
end_process() {
  local pid=$1 signal=$2 secs=$3 name=$4 i
  alive "$pid" || return 0
  kill "-$signal" "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  say "$name (pid $pid) still runs after ${secs}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  say "$name (pid $pid) survived SIGKILL"
  return 1
}

load_conf() {
  [ -s "$dir/cluster.conf" ] || return 1
  # shellcheck source=/dev/null
  . "$dir/cluster.conf"
  # Clusters made before the photo store had no port or key for it.
  MEDIA_PORT=${MEDIA_PORT:-$((PRIMARY_PORT + 5))}
  MEDIA_SECRET=${MEDIA_SECRET:-$JWT_SECRET}
}

# --- The photo store --------------------------------------------------------------------------

# s3s-fs, an S3-protocol server (.ci/run builds it into target/tools; S3S_FS names another
# binary): both API processes keep photos in its bucket over S3, as production does.
# Without it they share a directory.
s3_binary() {
  local binary=${S3S_FS:-$ROOT/target/tools/bin/s3s-fs}
  [ -x "$binary" ] && echo "$binary"
}

start_media() {
  local binary pid
  if ! binary=$(s3_binary); then
    say "no s3s-fs (cargo install s3s-fs --version 0.14.1 --features binary --root target/tools): photos in $dir/media"
    return 0
  fi
  pid=$(pid_in "$RUN/media.pid")
  is_ours "$pid" s3s-fs && return 0
  port_open "$MEDIA_PORT" && die "port $MEDIA_PORT (the photo store) is taken"
  mkdir -p "$dir/media/photos"
  setsid "$binary" --host 127.0.0.1 --port "$MEDIA_PORT" --access-key local-cluster \
    --secret-key "$MEDIA_SECRET" "$dir/media" </dev/null >>"$LOGS/media.log" 2>&1 &
  echo $! >"$RUN/media.pid"
  for _ in $(seq 1 100); do
    port_open "$MEDIA_PORT" && { say "photo store (s3s-fs) up on port $MEDIA_PORT"; return 0; }
    sleep 0.1
  done
  die "s3s-fs did not listen on port $MEDIA_PORT (log $LOGS/media.log)"
}

stop_media() {
  local pid
  pid=$(pid_in "$RUN/media.pid")
  if is_ours "$pid" s3s-fs; then
    end_process "$pid" TERM 5 media || true
  fi
  rm -f "$RUN/media.pid"
}

# The API processes' photo settings: the S3 store when it runs, else the shared directory.
media_settings() {
  if is_ours "$(pid_in "$RUN/media.pid")" s3s-fs; then
    printf '%s\0' APP_MEDIA_STORE=s3://photos AWS_ENDPOINT_URL="http://127.0.0.1:$MEDIA_PORT" \
      AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local-cluster AWS_SECRET_ACCESS_KEY="$MEDIA_SECRET" \
      AWS_ALLOW_HTTP=true
  else
    printf '%s\0' APP_MEDIA_STORE="$dir/media"
  fi
}

# --- PostgreSQL ---------------------------------------------------------------------------

psql_as() {
  local url=$1
  shift
  psql "$url" -v ON_ERROR_STOP=1 --no-psqlrc -q -X "$@"
}

superuser_url() { echo "postgresql://postgres:$SUPERUSER_PASSWORD@127.0.0.1:$1/${2:-postgres}"; }

wait_for_postgres() {
  local port=$1 name=$2 i
  for ((i = 0; i < WAIT_SECS * 4; i++)); do
    if psql_as "$(superuser_url "$port")" -tAc 'select 1' >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.25
  done
  die "$name on port $port does not answer; see $PG/$name.log"
}

start_postgres() {
  local data=$1 name=$2 port=$3
  if is_ours "$(pid_in "$data/postmaster.pid")" postgres; then
    return 0
  fi
  as_pg "$(pg_bin pg_ctl)" -D "$data" -l "$PG/$name.log" -w -t "$WAIT_SECS" -s start
  wait_for_postgres "$port" "$name"
}

stop_postgres() {
  local data=$1 name=$2 pid
  [ -d "$data" ] || return 0
  pid=$(pid_in "$data/postmaster.pid")
  if is_ours "$pid" postgres; then
    as_pg "$(pg_bin pg_ctl)" -D "$data" -m fast -w -t 20 -s stop ||
      as_pg "$(pg_bin pg_ctl)" -D "$data" -m immediate -w -t 10 -s stop || true
    end_process "$pid" TERM 1 "$name"
  fi
}

init_primary() {
  say "initdb $PRIMARY_DATA (port $PRIMARY_PORT)"
  install -d -m 0700 "$PRIMARY_DATA"
  own_pg "$PRIMARY_DATA"
  local pwfile=$PG/.pwfile
  (umask 077 && echo "$SUPERUSER_PASSWORD" >"$pwfile")
  own_pg "$pwfile"
  as_pg "$(pg_bin initdb)" -D "$PRIMARY_DATA" -U postgres --pwfile="$pwfile" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG/initdb.log"
  rm -f "$pwfile"
  # Local settings last, so they win; the replica copies them and overrides the port.
  as_pg tee -a "$PRIMARY_DATA/postgresql.conf" >/dev/null <<EOF

# deploy/local-cluster.sh
listen_addresses = '127.0.0.1'
port = $PRIMARY_PORT
unix_socket_directories = '$PG/run'
wal_level = replica
max_wal_senders = 5
max_replication_slots = 5
max_slot_wal_keep_size = '1GB'
hot_standby = on
hot_standby_feedback = on
EOF
  as_pg tee -a "$PRIMARY_DATA/pg_hba.conf" >/dev/null <<EOF
# deploy/local-cluster.sh: the replica streams as \`replicator\`, from this machine only.
host replication replicator 127.0.0.1/32 scram-sha-256
EOF
  start_postgres "$PRIMARY_DATA" primary "$PRIMARY_PORT"
  psql_as "$(superuser_url "$PRIMARY_PORT")" \
    --set=replication_password="$REPLICATION_PASSWORD" \
    --set=owner_password="$OWNER_PASSWORD" <<'SQL'
create role replicator with replication login password :'replication_password';
create role directory_owner with login createrole password :'owner_password';
SQL
  psql_as "$(superuser_url "$PRIMARY_PORT")" -c "create database $DATABASE owner directory_owner"
}

init_replica() {
  say "pg_basebackup -R into $REPLICA_DATA (port $REPLICA_PORT, slot replica_1)"
  install -d -m 0700 "$REPLICA_DATA"
  own_pg "$REPLICA_DATA"
  # -R writes standby.signal and primary_conninfo (with the password: the standby
  # reconnects with it) into postgresql.auto.conf.
  as_pg env PGPASSWORD="$REPLICATION_PASSWORD" "$(pg_bin pg_basebackup)" \
    --host 127.0.0.1 --port "$PRIMARY_PORT" --username replicator --no-password \
    --pgdata "$REPLICA_DATA" --wal-method stream --slot replica_1 --create-slot \
    --write-recovery-conf --checkpoint fast
  as_pg tee -a "$REPLICA_DATA/postgresql.conf" >/dev/null <<EOF
# deploy/local-cluster.sh: the replica
port = $REPLICA_PORT
EOF
}

# --- The service --------------------------------------------------------------------------

app_url() { echo "postgresql://directory_app:$APP_DB_PASSWORD@127.0.0.1:$1/$DATABASE"; }
owner_url() { echo "postgresql://directory_owner:$OWNER_PASSWORD@127.0.0.1:$PRIMARY_PORT/$DATABASE"; }

# The caller's APP_* variables, for the API processes and `migrate`.
caller_settings() {
  local name
  while IFS= read -r name; do
    [[ $name == APP_* ]] && printf '%s=%s\0' "$name" "${!name}"
  done < <(compgen -e)
}

run_binary() {
  local settings=()
  mapfile -d '' settings < <(caller_settings)
  env -i PATH="$PATH" HOME="${HOME:-/root}" LANG=C.UTF-8 RUST_BACKTRACE=1 \
    "${settings[@]}" "$@"
}

migrate() {
  say "therapist-directory migrate (as directory_owner)"
  run_binary DATABASE_URL="$(owner_url)" APP_DATABASE_OWNER_URL="$(owner_url)" \
    APP_JWT_SECRET="$JWT_SECRET" APP_LOG_FORMAT=json APP_ENV=production \
    "$BINARY" migrate >>"$LOGS/migrate.log" 2>&1 ||
    { tail -n 20 "$LOGS/migrate.log" >&2; die "migrate failed; see $LOGS/migrate.log"; }
  psql_as "$(owner_url)" --set=password="$APP_DB_PASSWORD" <<'SQL'
select format('create role directory_app login password %L', :'password')
where not exists (select 1 from pg_roles where rolname = 'directory_app')
\gexec
alter role directory_app with login password :'password';
grant directory_service to directory_app;
SQL
}

api_port() { if [ "$1" = 1 ]; then echo "$API1_PORT"; else echo "$API2_PORT"; fi; }

start_api() {
  local n=$1 port pid
  port=$(api_port "$n")
  pid=$(pid_in "$RUN/api-$n.pid")
  if is_ours "$pid" "$BINARY"; then
    return 0
  fi
  port_open "$port" && die "port $port (api-$n) is taken"
  # setsid: the API is in a session of its own, so a terminal's Ctrl-C or a test harness
  # ending a process group does not reach it; stop ends it. env and setsid exec (no fork):
  # $! is the API's pid.
  local settings=() media=()
  mapfile -d '' settings < <(caller_settings)
  mapfile -d '' media < <(media_settings)
  env -i PATH="$PATH" HOME="${HOME:-/root}" LANG=C.UTF-8 RUST_BACKTRACE=1 \
    "${settings[@]}" \
    "${media[@]}" \
    APP_MEDIA_PUBLIC_URL="http://127.0.0.1:$NGINX_PORT/media/" \
    APP_ENV=production \
    APP_HOST=127.0.0.1 \
    APP_PORT="$port" \
    APP_MIGRATE_ON_START=false \
    DATABASE_URL="$(app_url "$PRIMARY_PORT")" \
    APP_DATABASE_READ_URL="$(app_url "$REPLICA_PORT")" \
    APP_JWT_SECRET="$JWT_SECRET" \
    APP_TRUSTED_PROXIES=127.0.0.1 \
    APP_MAIL_TRANSPORT=file \
    APP_MAIL_DIR="$dir/mail" \
    APP_PUBLIC_BASE_URL="http://127.0.0.1:$NGINX_PORT" \
    APP_MAINTENANCE_INTERVAL_SECS="$MAINTENANCE_INTERVAL" \
    APP_LOG_FORMAT=json \
    setsid "$BINARY" serve </dev/null >>"$LOGS/api-$n.log" 2>&1 &
  echo $! >"$RUN/api-$n.pid"
  say "api-$n started (pid $!, port $port, log $LOGS/api-$n.log)"
}

stop_api() {
  local n=$1 pid
  pid=$(pid_in "$RUN/api-$n.pid")
  if is_ours "$pid" serve; then
    # SIGTERM: the API stops accepting, finishes what is in flight
    # (APP_SHUTDOWN_TIMEOUT_SECS, 30 by default) and exits.
    end_process "$pid" TERM 40 "api-$n"
  fi
  rm -f "$RUN/api-$n.pid"
}

start_nginx() {
  local pid user_directive=
  pid=$(pid_in "$RUN/nginx.pid")
  if is_ours "$pid" nginx; then
    return 0
  fi
  port_open "$NGINX_PORT" && die "port $NGINX_PORT (nginx) is taken"
  mkdir -p "$dir/nginx"/{client_body,proxy,fastcgi,uwsgi,scgi}
  if [ "$(id -u)" = 0 ]; then
    # The master stays root (it opens the logs); the workers drop to an unprivileged user,
    # who must be able to reach the temporary directories (nginx chowns them to it).
    if id -u www-data >/dev/null 2>&1; then
      user_directive='user www-data;'
    else
      user_directive='user nobody;'
    fi
  fi
  sed -e "s|@USER_DIRECTIVE@|$user_directive|" -e "s|@DIR@|$dir|g" \
    -e "s|@API1_PORT@|$API1_PORT|" -e "s|@API2_PORT@|$API2_PORT|" \
    -e "s|@NGINX_PORT@|$NGINX_PORT|" "$TEMPLATE" >"$dir/nginx/nginx.conf"
  local nginx
  nginx=$(command -v nginx || echo /usr/sbin/nginx)
  "$nginx" -e "$LOGS/nginx-error.log" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -t -q ||
    die "nginx rejects $dir/nginx/nginx.conf"
  "$nginx" -e "$LOGS/nginx-error.log" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" \
    </dev/null >>"$LOGS/nginx-stderr.log" 2>&1
  say "nginx started (port $NGINX_PORT, config $dir/nginx/nginx.conf)"
}

stop_nginx() {
  local pid workers
  pid=$(pid_in "$RUN/nginx.pid")
  if is_ours "$pid" nginx; then
    # The workers, to kill them too should the master need SIGKILL.
    workers=$(pgrep -P "$pid" || true)
    end_process "$pid" QUIT 10 nginx || true
    for worker in $workers; do
      end_process "$worker" KILL 1 "nginx worker"
    done
  fi
  rm -f "$RUN/nginx.pid"
}

# Waits for `url` to answer 200, while `pid` (when given) runs.
wait_ready() {
  local url=$1 name=$2 pid=${3:-} i
  for ((i = 0; i < WAIT_SECS * 5; i++)); do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
      return 0
    fi
    if [ -n "$pid" ] && ! alive "$pid"; then
      tail -n 20 "$LOGS/$name.log" >&2 || true
      die "$name exited before it was ready; see $LOGS/$name.log"
    fi
    sleep 0.2
  done
  die "$name is not ready at $url after ${WAIT_SECS}s"
}

write_env() {
  local file=$dir/cluster.env
  (
    umask 077
    cat >"$file.tmp" <<EOF
# deploy/local-cluster.sh: the running cluster (shell-sourceable).
CLUSTER_DIR=$dir
BINARY=$BINARY
NGINX_URL=http://127.0.0.1:$NGINX_PORT
API1_URL=http://127.0.0.1:$API1_PORT
API2_URL=http://127.0.0.1:$API2_PORT
PRIMARY_URL=$(app_url "$PRIMARY_PORT")
REPLICA_URL=$(app_url "$REPLICA_PORT")
OWNER_URL=$(owner_url)
PRIMARY_SUPERUSER_URL=$(superuser_url "$PRIMARY_PORT" "$DATABASE")
REPLICA_SUPERUSER_URL=$(superuser_url "$REPLICA_PORT" "$DATABASE")
NGINX_PORT=$NGINX_PORT
API1_PORT=$API1_PORT
API2_PORT=$API2_PORT
PRIMARY_PORT=$PRIMARY_PORT
REPLICA_PORT=$REPLICA_PORT
API1_PID=$(pid_in "$RUN/api-1.pid")
API2_PID=$(pid_in "$RUN/api-2.pid")
NGINX_PID=$(pid_in "$RUN/nginx.pid")
PRIMARY_PID=$(pid_in "$PRIMARY_DATA/postmaster.pid")
REPLICA_PID=$(pid_in "$REPLICA_DATA/postmaster.pid")
MAIL_DIR=$dir/mail
MEDIA_DIR=$dir/media
LOG_DIR=$LOGS
API1_LOG=$LOGS/api-1.log
API2_LOG=$LOGS/api-2.log
MAINTENANCE_INTERVAL_SECS=$MAINTENANCE_INTERVAL
APP_JWT_SECRET=$JWT_SECRET
EOF
    mv "$file.tmp" "$file"
  )
}

# --- Commands -----------------------------------------------------------------------------

cmd_start() {
  if load_conf; then
    [ -z "$base_port" ] || [ "$base_port" = "$PRIMARY_PORT" ] ||
      die "$dir holds a cluster on base port $PRIMARY_PORT, not $base_port"
    say "restarting the cluster in $dir"
  else
    base_port=${base_port:-25400}
    if ! [[ $base_port =~ ^[0-9]+$ ]] || ((base_port < 1 || base_port + 5 > 65535)); then
      die "--base-port must leave room for 6 ports"
    fi
    for ((port = base_port; port <= base_port + 5; port++)); do
      port_open "$port" && die "port $port is taken (choose another --base-port)"
    done
    (
      umask 077
      cat >"$dir/cluster.conf" <<EOF
# deploy/local-cluster.sh: ports and secrets of this cluster (keep private).
PRIMARY_PORT=$base_port
REPLICA_PORT=$((base_port + 1))
API1_PORT=$((base_port + 2))
API2_PORT=$((base_port + 3))
NGINX_PORT=$((base_port + 4))
MEDIA_PORT=$((base_port + 5))
MEDIA_SECRET=$(random_hex 16)
SUPERUSER_PASSWORD=$(random_hex 16)
REPLICATION_PASSWORD=$(random_hex 16)
OWNER_PASSWORD=$(random_hex 16)
APP_DB_PASSWORD=$(random_hex 16)
JWT_SECRET=$(random_hex 32)
EOF
    )
    load_conf
  fi
  if [ -z "$binary" ]; then
    if [ -x "$ROOT/target/release/therapist-directory" ]; then
      binary=$ROOT/target/release/therapist-directory
    else
      binary=$ROOT/target/debug/therapist-directory
    fi
  fi
  [ -x "$binary" ] || die "no binary at $binary (cargo build, or --binary PATH)"
  BINARY=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
  MAINTENANCE_INTERVAL=${APP_MAINTENANCE_INTERVAL_SECS:-900}
  for tool in psql curl; do
    command -v "$tool" >/dev/null || die "$tool is not on PATH"
  done

  # Reachable by postgres and by nginx's workers; secrets stay in files only root reads.
  chmod 0755 "$dir"
  mkdir -p "$RUN" "$LOGS" "$dir/mail" "$PG/run"
  own_pg "$PG" "$PG/run"
  chmod 0700 "$PG"

  if [ "${LOCAL_CLUSTER_KEEP:-0}" != 1 ]; then
    # shellcheck disable=SC2154 # `code` is assigned inside the trap
    trap 'code=$?; if [ $code != 0 ]; then say "start failed: stopping what it started"; cmd_stop >&2 || true; fi' EXIT
  fi

  if [ -s "$PRIMARY_DATA/PG_VERSION" ]; then
    start_postgres "$PRIMARY_DATA" primary "$PRIMARY_PORT"
  else
    init_primary
  fi
  say "primary up on port $PRIMARY_PORT"
  [ -s "$REPLICA_DATA/PG_VERSION" ] || init_replica
  start_postgres "$REPLICA_DATA" replica "$REPLICA_PORT"
  say "replica up on port $REPLICA_PORT (streaming from the primary)"

  migrate
  start_media
  start_api 1
  start_api 2
  start_nginx
  wait_ready "http://127.0.0.1:$API1_PORT/readyz" api-1 "$(pid_in "$RUN/api-1.pid")"
  wait_ready "http://127.0.0.1:$API2_PORT/readyz" api-2 "$(pid_in "$RUN/api-2.pid")"
  wait_ready "http://127.0.0.1:$NGINX_PORT/readyz" nginx-error
  write_env
  trap - EXIT

  cat <<EOF
local cluster ready in $dir
  nginx    http://127.0.0.1:$NGINX_PORT
  api-1    http://127.0.0.1:$API1_PORT  (pid $(pid_in "$RUN/api-1.pid"), log $LOGS/api-1.log)
  api-2    http://127.0.0.1:$API2_PORT  (pid $(pid_in "$RUN/api-2.pid"), log $LOGS/api-2.log)
  primary  postgresql://directory_app@127.0.0.1:$PRIMARY_PORT/$DATABASE
  replica  postgresql://directory_app@127.0.0.1:$REPLICA_PORT/$DATABASE
  mail     $dir/mail
URLs with passwords and the process ids: $dir/cluster.env
Stop it with: $0 stop --dir $dir
EOF
}

cmd_stop() {
  if ! load_conf; then
    say "no cluster in $dir: nothing to stop"
    return 0
  fi
  stop_nginx
  stop_api 1
  stop_api 2
  stop_postgres "$REPLICA_DATA" replica
  stop_postgres "$PRIMARY_DATA" primary
  stop_media
  # Nothing may be left: a port still listening is a process this script lost.
  local port left=()
  for port in "$PRIMARY_PORT" "$REPLICA_PORT" "$API1_PORT" "$API2_PORT" "$NGINX_PORT" "$MEDIA_PORT"; do
    port_open "$port" && left+=("$port")
  done
  [ ${#left[@]} = 0 ] || die "still listening after stop: ports ${left[*]}"
  say "stopped (data kept in $dir; delete the directory to start afresh)"
}

cmd_status() {
  load_conf || { echo "no cluster in $dir"; return 0; }
  local up=0 pid
  show() {
    local name=$1 pid=$2 port=$3 word=$4 state=stopped
    if is_ours "$pid" "$word"; then
      state="running (pid $pid)"
      up=$((up + 1))
    fi
    if port_open "$port"; then
      state="$state, port $port open"
    fi
    printf '%-8s %s\n' "$name" "$state"
  }
  show primary "$(pid_in "$PRIMARY_DATA/postmaster.pid")" "$PRIMARY_PORT" postgres
  show replica "$(pid_in "$REPLICA_DATA/postmaster.pid")" "$REPLICA_PORT" postgres
  show api-1 "$(pid_in "$RUN/api-1.pid")" "$API1_PORT" serve
  show api-2 "$(pid_in "$RUN/api-2.pid")" "$API2_PORT" serve
  show nginx "$(pid_in "$RUN/nginx.pid")" "$NGINX_PORT" nginx
  echo "$up of 5 running ($dir)"
}

cmd_api() {
  load_conf || die "no cluster in $dir"
  if [ "$command" = stop-api ]; then
    stop_api "$api_number"
    say "api-$api_number stopped"
  else
    BINARY=$(sed -n 's/^BINARY=//p' "$dir/cluster.env")
    MAINTENANCE_INTERVAL=${APP_MAINTENANCE_INTERVAL_SECS:-$(sed -n 's/^MAINTENANCE_INTERVAL_SECS=//p' "$dir/cluster.env")}
    start_api "$api_number"
    wait_ready "http://127.0.0.1:$(api_port "$api_number")/readyz" "api-$api_number" \
      "$(pid_in "$RUN/api-$api_number.pid")"
    write_env
  fi
}

cmd_roll() {
  load_conf || die "no cluster in $dir"
  if [ -n "$binary" ]; then
    [ -x "$binary" ] || die "no binary at $binary"
    BINARY=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
  else
    BINARY=$(sed -n 's/^BINARY=//p' "$dir/cluster.env")
  fi
  MAINTENANCE_INTERVAL=${APP_MAINTENANCE_INTERVAL_SECS:-$(sed -n 's/^MAINTENANCE_INTERVAL_SECS=//p' "$dir/cluster.env")}
  local n started
  for n in 1 2; do
    started=$(date +%s.%N)
    stop_api "$n"
    start_api "$n"
    wait_ready "http://127.0.0.1:$(api_port "$n")/readyz" "api-$n" "$(pid_in "$RUN/api-$n.pid")"
    write_env
    say "api-$n restarted and ready in $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $started }") s"
    sleep "${ROLL_PAUSE_SECS:-2}"
  done
}

cmd_replica() {
  load_conf || die "no cluster in $dir"
  if [ "$command" = stop-replica ]; then
    stop_postgres "$REPLICA_DATA" replica
    say "replica stopped"
  else
    start_postgres "$REPLICA_DATA" replica "$REPLICA_PORT"
    say "replica started"
  fi
  [ ! -s "$dir/cluster.env" ] || {
    BINARY=$(sed -n 's/^BINARY=//p' "$dir/cluster.env")
    MAINTENANCE_INTERVAL=$(sed -n 's/^MAINTENANCE_INTERVAL_SECS=//p' "$dir/cluster.env")
    write_env
  }
}

case $command in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  stop-api | start-api) cmd_api ;;
  roll) cmd_roll ;;
  stop-replica | start-replica) cmd_replica ;;
  *) usage ;;
esac
