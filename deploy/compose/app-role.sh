#!/usr/bin/env bash
# The service's least-privilege login, after `therapist-directory migrate` (migration 0019
# creates the `directory_service` group role and its grants): creates `directory_app`, or
# sets its password again, and makes it a member. Safe to run on every `docker compose up`.
# Connects with the libpq variables (PGHOST, PGUSER = the schema owner, PGPASSWORD, PGDATABASE).
set -euo pipefail

: "${APP_DB_PASSWORD:?set APP_DB_PASSWORD}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --set=password="$APP_DB_PASSWORD" <<'SQL'
select format('create role directory_app login password %L', :'password')
where not exists (select 1 from pg_roles where rolname = 'directory_app')
\gexec
alter role directory_app with login password :'password';
grant directory_service to directory_app;
SQL
echo "directory_app is ready (member of directory_service)"
