-- Sorting by fee or by confirmation reads the page straight from a B-tree in order and
-- stops after it, instead of sorting every match. Nulls get a sentinel so one row
-- comparison `(key, listing_id) > (…)` positions a cursor inside the index.
create index directory_entry_fee_sort_idx
    on directory_entry ((coalesce(fee_floor_cents, 2147483647)), listing_id);
create index directory_entry_confirmed_sort_idx
    on directory_entry ((coalesce(last_confirmed_at, '-infinity'::timestamptz)), listing_id);
drop index directory_entry_fee_idx;
drop index directory_entry_confirmed_idx;
