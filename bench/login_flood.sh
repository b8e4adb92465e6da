#!/usr/bin/env bash
# Does a login flood slow the public directory? Measures public-profile latency at 8
# concurrent readers, first alone, then while 32 workers send failing logins from random
# addresses (a distributed flood: the service trusts the loopback proxy so each request
# counts against a different IP and a different email, reaching Argon2 every time).
#   bash bench/login_flood.sh        (about two minutes; needs PostgreSQL's binaries)
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
trap cleanup EXIT

cargo build --release --quiet --bin therapist-directory --example loadgen
start_cluster
./target/release/therapist-directory seed-demo --count 10000 --seed 1 >"$OUT/seed.log" 2>&1
start_api env APP_TRUSTED_PROXIES=127.0.0.1

sql "select 'profile' || chr(9) || 'GET' || chr(9) || '/v1/therapists/' || slug from listing where status = 'published' order by random() limit 5000" >"$OUT/profiles.tsv"
for i in $(seq 1 5000); do
  printf 'login_flood\tPOST\t/v1/auth/login\t{"email":"flood-%s@example.com","password":"not the right password"}\n' "$i"
done >"$OUT/logins.tsv"

echo "== public profile alone (8 readers, 20 s)"
./target/release/examples/loadgen --base "$BASE" --duration 20 --group "readers:8:$OUT/profiles.tsv"
echo
echo "== public profile during a login flood (8 readers + 32 flooders, 20 s)"
./target/release/examples/loadgen --base "$BASE" --duration 20 \
  --group "readers:8:$OUT/profiles.tsv" --group "flood:32:$OUT/logins.tsv:xff"
