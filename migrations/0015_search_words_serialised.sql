-- Two transactions changing the taxonomy at once both emptied and refilled `search_word`;
-- the second refill then collided with the first's committed rows (a unique violation,
-- answered as a 500). Rebuilds now take turns: the lock is held until commit, and the
-- statements after it see what the previous rebuild committed.
create or replace function search_words_rebuild() returns trigger
language plpgsql as $$
begin
    perform pg_advisory_xact_lock(hashtext('search_words_rebuild'));
    delete from search_word;
    insert into search_word select word from search_vocabulary on conflict do nothing;
    return null;
end;
$$;
