-- When a listing asked for review: set by submit (draft/rejected/unpublished → pending_review)
-- and by a material edit to a published listing (which stays published meanwhile); cleared
-- when an admin decides. The admin review queue is ordered by it.
alter table listing add column review_requested_at timestamptz;
create index listing_review_queue_idx on listing (review_requested_at, id) where review_requested_at is not null;
