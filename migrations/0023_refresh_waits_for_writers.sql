-- An entry is rebuilt by whichever transaction changes what it says: the listing's own
-- writes, an account suspension, a term rename. Two of them at once could commit in the
-- wrong order: a suspension whose rebuild read the listing before a concurrent edit
-- committed would leave the edit's rebuilt entry (of a suspended account) in the
-- directory. Rebuilding now first takes a share lock on the listings it rebuilds, so it
-- waits for any transaction still writing one of them and then reads what it committed.
-- Locks are taken in id order, as every rebuild takes them.
alter function directory_refresh(uuid[]) rename to directory_rebuild;

create function directory_refresh(target_ids uuid[]) returns void
language plpgsql as $$
begin
    perform 1 from listing where id = any (target_ids) order by id for share;
    perform directory_rebuild(target_ids);
end;
$$;
