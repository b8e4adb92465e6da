-- A suspension remembers the state it interrupted, and reinstating returns there: a listing
-- suspended while a draft, under review, rejected or hidden by its therapist must not come
-- back published. Listings suspended before this migration keep the rule they were
-- suspended under (published if they ever were, else draft); one suspended by hand without
-- it goes back to draft.
alter table listing add column suspended_from listing_status;

update listing
set suspended_from = case when published_at is not null then 'published' else 'draft' end::listing_status
where status = 'suspended';

alter table listing add constraint listing_suspended_from_check
    check (suspended_from is null or (status = 'suspended' and suspended_from <> 'suspended'));
