#!/usr/bin/env bash
# Resident memory after a burst of sign-ins. Each Argon2id check takes APP_ARGON2_MEMORY_KIB
# (19 MiB) of working memory; the service keeps and reuses those buffers, so its resident
# memory after a burst stays near where it started instead of climbing by hundreds of MB.
# For each binary (BINARIES="path ...", default the release build): start on an empty
# database, read VmRSS, send failing sign-ins from 32 clients at once (each from its own
# address through the trusted loopback proxy, so every one reaches Argon2) for DURATION
# seconds, read VmRSS right after and again 15 s later, with VmHWM (the peak).
#   bash bench/login_memory.sh     (about two minutes; needs PostgreSQL's binaries)
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
trap cleanup EXIT
DURATION=${DURATION:-20}

cargo build --release --quiet --bin therapist-directory --example loadgen
read -r -a binaries <<<"${BINARIES:-./target/release/therapist-directory}"
start_cluster
for i in $(seq 1 5000); do
  printf 'login\tPOST\t/v1/auth/login\t{"email":"burst-%s@example.com","password":"not the right password"}\n' "$i"
done >"$OUT/logins.tsv"

kib() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$API_PID/status"; }
mb() { echo $(($1 / 1024)); }

printf '%-40s %10s %12s %12s %10s %8s\n' binary "idle MB" "after MB" "+15 s MB" "peak MB" "logins"
for binary in "${binaries[@]}"; do
  psql -q -h 127.0.0.1 -p "$BENCH_PG_PORT" -U postgres -c "drop database if exists bench" -c "create database bench" postgres
  API_BINARY=$binary start_api env APP_TRUSTED_PROXIES=127.0.0.1
  sleep 2
  idle=$(kib VmRSS)
  ./target/release/examples/loadgen --base "$BASE" --duration "$DURATION" \
    --group "burst:32:$OUT/logins.tsv:xff" >"$OUT/login_memory.txt"
  after=$(kib VmRSS)
  sleep 15
  later=$(kib VmRSS)
  peak=$(kib VmHWM)
  count=$(awk '$1 == "login" { print $2 }' "$OUT/login_memory.txt")
  printf '%-40s %10s %12s %12s %10s %8s\n' "$binary" "$(mb "$idle")" "$(mb "$after")" \
    "$(mb "$later")" "$(mb "$peak")" "${count:-?}"
  stop_api
done
