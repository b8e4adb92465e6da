-- The refresh wrapper from 0011 looks for stale or availability-unconfirmed listings among
-- every rebuilt batch. Without an index on those flags it read the whole listing table for
-- each batch: seed-demo at 1M took 318 s instead of about 255. Flagged listings are few,
-- so a partial index on them makes the lookup a handful of index reads.
create index listing_flagged_idx on listing (id)
    where stale_at is not null or availability_unconfirmed_at is not null;

create or replace function directory_refresh(target_ids uuid[]) returns void
language plpgsql as $$
begin
    perform directory_refresh_entries(target_ids);
    update directory_entry e
       set stale = l.stale_at is not null,
           availability_unconfirmed = l.availability_unconfirmed_at is not null
      from (select id, stale_at, availability_unconfirmed_at from listing
             where (stale_at is not null or availability_unconfirmed_at is not null)
               and id = any (target_ids)) l
     where e.listing_id = l.id;
end;
$$;
