#!/usr/bin/env bash
# Photo benchmark (issue: profile photos), about two minutes:
#   1. the work of one large upload: a 24-megapixel, ~10 MiB JPEG cleaned into its four
#      variants and stored (bench/photo_clean.rs), with the time and peak memory;
#   2. serving a stored variant: 1,000 demo listings (their portraits stored by seed-demo),
#      then GET /media/{name} of random portraits from 8 concurrent clients for DURATION
#      seconds (req/s and latency).
#   bash bench/photos.sh
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
[ "${KEEP:-}" = 1 ] || trap cleanup EXIT
DURATION=${DURATION:-10}
cargo build --release --quiet --bin therapist-directory --example loadgen --example photo_clean

echo "== one upload's work, release build"
rm -rf "$OUT/photo-store"
./target/release/examples/photo_clean "$OUT/photo-store"

echo "== serving stored variants"
start_cluster
export APP_MEDIA_STORE="$PWD/$OUT/photo-media"
rm -rf "$APP_MEDIA_STORE"
APP_LOG=warn ./target/release/therapist-directory seed-demo --count 1000 --seed 1 >/dev/null
start_api
curl -fsS "$BASE/v1/therapists?limit=50" | python3 -c '
import json, sys
from urllib.parse import urlparse
items = json.load(sys.stdin)["items"]
paths = sorted({urlparse(i["photo"][v]).path for i in items if i["photo"] for v in ("w160", "w400", "w800", "jpeg")})
with open(sys.argv[1], "w") as out:
    for p in paths:
        out.write(f"media\tGET\t{p}\n")
print(f"{len(paths)} distinct variants")
' "$OUT/urls-media.tsv"
./target/release/examples/loadgen --base "$BASE" --duration 2 --group "w:8:$OUT/urls-media.tsv" >/dev/null
./target/release/examples/loadgen --base "$BASE" --duration "$DURATION" --group "media:8:$OUT/urls-media.tsv"
