-- The service runs as a role with only what it needs: reading and writing rows. It cannot
-- change the schema or its triggers (it owns nothing), and the audit log is append-only
-- for it: no UPDATE, DELETE or TRUNCATE. Migrations run as the owning role. A login role
-- is made a member of `directory_service` (the embedded default does it; README shows the
-- SQL for an external server).
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'directory_service') then
        create role directory_service nologin;
    end if;
end
$$;
grant usage on schema public to directory_service;
grant select, insert, update, delete on all tables in schema public to directory_service;
revoke update, delete, truncate on audit_log from directory_service;
grant usage, select on all sequences in schema public to directory_service;
grant execute on all functions in schema public to directory_service;
-- Tables later migrations create (as the same owner) come with the same grants; a migration
-- that adds an append-only table revokes as above.
alter default privileges in schema public grant select, insert, update, delete on tables to directory_service;
alter default privileges in schema public grant usage, select on sequences to directory_service;
alter default privileges in schema public grant execute on functions to directory_service;
