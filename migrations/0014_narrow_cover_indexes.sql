-- The confirmation and fee covering indexes (0013) now hold only the filters offices copy
-- (the ones searches combine most: taxonomy, language, delivery, session format, accepting,
-- fee) instead of every filter column.
--
-- Why: a scan of these indexes costs per index tuple, and with every filter column a tuple
-- was about 800 bytes. Measured at 1M listings, an index-only range scan of 136k tuples
-- (`max_fee_cents=7000` with insurer, Spanish and video) took 87 ms over the wide index and
-- 35 ms over this one (300 MB instead of 822 MB).
--
-- A search using one of the filters left out (state, age group, community, offering,
-- certification, gender, faith, free consultation, sliding scale, license verified) still
-- reads these indexes in order but fetches each passed-over entry; all but the last four
-- are keys of the filter GIN index, which the planner uses when they are selective, and the
-- last four are booleans and a near-even split, so few rows are passed over.
drop index directory_entry_confirmed_cover_idx;
drop index directory_entry_fee_cover_idx;

-- `last_confirmed_at` and `fee_floor_cents` are included because an expression index
-- answers an index-only scan only when the expression's columns are in it too.
create index directory_entry_confirmed_cover_idx
    on directory_entry ((coalesce(last_confirmed_at, '-infinity'::timestamptz)), listing_id)
    include (stale, modality_ids, specialty_ids, insurer_ids, languages, delivery,
        session_formats, accepting, fee_floor_cents, last_confirmed_at);
create index directory_entry_fee_cover_idx
    on directory_entry ((coalesce(fee_floor_cents, 2147483647)), listing_id)
    include (stale, modality_ids, specialty_ids, insurer_ids, languages, delivery,
        session_formats, accepting, fee_floor_cents, last_confirmed_at);
