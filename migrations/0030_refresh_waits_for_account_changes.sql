-- A rebuild for another cause (a term renamed, a listing edited) and a suspension or
-- reinstatement (an update of the account row) could run side by side: the rebuild, which
-- read the account active, inserted its entry after the suspension's rebuild had removed
-- the old one, leaving a suspended account's listing in search (and two inserts racing a
-- reinstatement broke the entry's key). The rebuild now also takes a share lock on the
-- accounts of its listings, after the listings, in id order: a suspension waits for a
-- rebuild in progress, or the rebuild waits for the suspension and reads it. Removal wins
-- whatever the order.
create or replace function directory_refresh(target_ids uuid[]) returns void
language plpgsql as $$
begin
    perform 1 from listing where id = any (target_ids) order by id for share;
    perform 1 from account
    where id in (select account_id from listing where id = any (target_ids))
    order by id for share;
    perform directory_rebuild(target_ids);
end;
$$;
