-- Extensions and shared helpers used by every later migration.
-- citext: case-insensitive emails; pg_trgm: typo-tolerant search.
create extension if not exists citext;
create extension if not exists pg_trgm;

-- Maintains updated_at on every table that has one (attached per table by trigger).
create or replace function set_updated_at() returns trigger
language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end;
$$;
