-- Which demo data sets `seed-demo` has loaded, so a second run with the same seed refuses
-- instead of duplicating, and demo rows (account.is_demo) are told apart from real ones.
create table demo_seed_run (
    seed bigint primary key,
    listings integer not null,
    loaded_at timestamptz not null default now(),
    constraint demo_seed_run_listings_positive check (listings > 0)
);
