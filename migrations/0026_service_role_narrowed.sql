-- The service reads which migrations ran (readiness) but never writes them, and changes the
-- search feed only through directory_change_note, which records changed subjects in
-- order: a compromised service cannot mark a migration applied, nor rewrite or erase the
-- feed every process's index follows.
revoke insert, update, delete, truncate on _sqlx_migrations from directory_service;
revoke insert, update, delete, truncate on directory_change from directory_service;
alter function directory_change_note(uuid[]) security definer;
alter function directory_change_note(uuid[]) set search_path = public, pg_temp;
