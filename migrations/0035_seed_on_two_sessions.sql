-- A directory entry is about 2.1 kB with its photo, over PostgreSQL's default 2 kB
-- threshold, so each row written was compressed and moved in part to the TOAST table
-- (another row and index entry), and each read by a search index build decompressed it.
-- Entries stay whole in their row up to a page.
alter table directory_entry set (toast_tuple_target = 8160);

-- Numbering changes in the feed without waking the followers, for a transaction that
-- cannot notify: `seed-demo` prepares its sessions' transactions to commit them as one
-- (PostgreSQL refuses to prepare one that has notified), and notifies after the commit.
-- The service's role cannot write the feed, so it numbers only through
-- directory_change_note.
create function directory_change_number(subjects uuid[]) returns void
language plpgsql as $$
begin
    if cardinality(subjects) = 0 then
        return;
    end if;
    perform pg_advisory_xact_lock(hashtext('directory_change'));
    insert into directory_change (subject, seq)
    select s, nextval('directory_change_seq') from (select distinct unnest(subjects) as s order by 1) x
    on conflict (subject) do update set seq = excluded.seq;
end;
$$;

create or replace function directory_change_note(subjects uuid[]) returns void
language plpgsql security definer set search_path = public, pg_temp as $$
begin
    if cardinality(subjects) = 0 then
        return;
    end if;
    perform directory_change_number(subjects);
    perform pg_notify('directory_change', '');
end;
$$;
