#!/usr/bin/env bash
# Distance backends compared (issue 7): the built-in `point` type with GiST (what the
# service uses), cube/earthdistance (contrib) and PostGIS geography, on the same offices.
#   bash bench/geo.sh                  (about 10 minutes at 1M; needs PostgreSQL's binaries)
#   COUNT=100000 bash bench/geo.sh     (fewer listings)
#   RADII="10 40 100" bash bench/geo.sh
# PostGIS is measured when its extension is installed (Debian: postgresql-15-postgis-3),
# and skipped with a message otherwise; the service itself does not need it.
#
# It loads COUNT demo listings with seed-demo, copies every office location into one table
# holding the three representations, each with its GiST index, and runs one query per
# backend through pgbench: the listings with an office within the radius of a centre, each
# with its nearest office's distance (what a radius search needs before filters, facets and
# sorting). Centres are 300 random offices, so dense areas weigh as they do in searches.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
[ "${KEEP:-}" = 1 ] || trap cleanup EXIT
COUNT=${COUNT:-1000000}
RADII=${RADII:-"10 40"}
DURATION=${DURATION:-15}

cargo build --release --quiet --bin therapist-directory
start_cluster
echo "== loading $COUNT listings"
./target/release/therapist-directory seed-demo --count "$COUNT" --seed 1 | tail -1

postgis=0
if [ -f "$("$PG_BIN/pg_config" --sharedir 2>/dev/null || pg_config --sharedir)/extension/postgis.control" ]; then
  postgis=1
else
  echo "PostGIS is not installed (apt-get install postgresql-15-postgis-3): measuring point and earthdistance only"
fi

sql "create extension if not exists cube; create extension if not exists earthdistance"
[ $postgis = 1 ] && sql "create extension if not exists postgis"
sql "create table geo_office as select listing_id, location, ll_to_earth(location[1], location[0]) as earth
     from directory_office"
[ $postgis = 1 ] && sql "alter table geo_office add column geog geography(point, 4326);
  update geo_office set geog = st_setsrid(st_makepoint(location[0], location[1]), 4326)::geography"
sql "create index geo_office_point_idx on geo_office using gist (location) include (listing_id)"
sql "create index geo_office_earth_idx on geo_office using gist (earth)"
[ $postgis = 1 ] && sql "create index geo_office_geog_idx on geo_office using gist (geog)"
sql "vacuum (analyze) geo_office"
sql "checkpoint"
# The bounding box as the service computes it (src/directory/search.rs), per centre and
# radius: pgbench has no trigonometry.
sql "create table geo_centre as select row_number() over () as id, location[0] as lng, location[1] as lat
     from (select location from geo_office tablesample system (1) order by random() limit 300) c"

echo "offices: $(sql "select count(*) from geo_office"); index sizes (MB):"
sql "select c.relname, pg_relation_size(c.oid) / 1048576 from pg_class c where c.relname like 'geo_office_%_idx' order by 1" | tr '|' ' '

query() { # backend radius_km → the SQL, on pgbench variables :lng :lat
  local r=$1 km=$2
  case $r in
    point)
      echo "select count(*), min(d), max(d) from (select listing_id, min(distance_km(location, point(:lng, :lat))) d from geo_office
            where location <@ box(point(:lng - $km / (111.320 * cos(radians(:lat))), :lat - $km / 110.574),
                                  point(:lng + $km / (111.320 * cos(radians(:lat))), :lat + $km / 110.574))
              and distance_km(location, point(:lng, :lat)) <= $km group by listing_id) x" ;;
    earthdistance)
      echo "select count(*), min(d), max(d) from (select listing_id, min(earth_distance(earth, ll_to_earth(:lat, :lng))) / 1000 d from geo_office
            where earth_box(ll_to_earth(:lat, :lng), $km * 1000) @> earth
              and earth_distance(earth, ll_to_earth(:lat, :lng)) <= $km * 1000 group by listing_id) x" ;;
    postgis)
      echo "select count(*), min(d), max(d) from (select listing_id, min(st_distance(geog, st_makepoint(:lng, :lat)::geography, false)) / 1000 d from geo_office
            where st_dwithin(geog, st_makepoint(:lng, :lat)::geography, $km * 1000, false) group by listing_id) x" ;;
  esac
}

backends="point earthdistance"
[ $postgis = 1 ] && backends="$backends postgis"
mkdir -p "$OUT/geo"
for km in $RADII; do
  echo "== radius $km km: listings within it, each with its nearest office (300 centres)"
  # The same answer from every backend first, for the first ten centres (a sphere of the
  # same radius in each; an office at the very edge may differ by rounding).
  for r in $backends; do
    total=0
    for id in $(seq 1 10); do
      read -r lng lat < <(sql "select lng, lat from geo_centre where id = $id" | tr '|' ' ')
      n=$(q=$(query "$r" "$km"); q=${q//:lng/($lng)}; q=${q//:lat/($lat)}; sql "$q" | cut -d'|' -f1)
      total=$((total + n))
    done
    echo "  $r: $total listings over the first ten centres"
  done
  printf '  %-14s %14s %14s %12s\n' backend "1 client ms" "8 clients tps" "8 clients ms"
  for r in $backends; do
    f="$OUT/geo/$r-$km.sql"
    { echo '\set id random(1, 300)'
      echo 'select lng, lat from geo_centre where id = :id \gset'
      query "$r" "$km" | tr '\n' ' '; echo ; } >"$f"
    one=$("$PG_BIN/pgbench" -n -h 127.0.0.1 -p "$BENCH_PG_PORT" -U postgres -c 1 -T "$DURATION" -f "$f" bench 2>&1 |
      awk '/^latency average/ {print $4}')
    eight=$("$PG_BIN/pgbench" -n -h 127.0.0.1 -p "$BENCH_PG_PORT" -U postgres -c 8 -j 2 -T "$DURATION" -f "$f" bench 2>&1 |
      awk '/^latency average/ {ms=$4} /^tps =/ {tps=int($3)} END {print tps, ms}')
    printf '  %-14s %14s %14s %12s\n' "$r" "$one" ${eight}
  done
done
