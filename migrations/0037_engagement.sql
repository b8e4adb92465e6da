-- What therapists and admins learn from the directory (docs/engagement.md): per-listing
-- daily counts, searches per day, and the searches that found nothing or little. Nothing
-- here names a visitor: no address, user agent or visitor identifier is stored, and the
-- text of a search is kept past its day only when at least five client networks sent it.

-- One row per listing and UTC day with anything to count. Each process adds its counts in
-- batches (one upsert per listing per flush); inquiries are added in the transaction that
-- stores them. A listing's deletion (with its account's) takes its rows with it.
create table listing_stat_day (
    listing_id uuid not null references listing (id) on delete cascade,
    day date not null,
    profile_views bigint not null default 0 check (profile_views >= 0),
    search_appearances bigint not null default 0 check (search_appearances >= 0),
    inquiries bigint not null default 0 check (inquiries >= 0),
    primary key (listing_id, day)
);
-- Retention deletes by day.
create index listing_stat_day_day on listing_stat_day (day);

-- Searches per UTC day (first pages; a cursor's next page is the same search).
create table search_day (
    day date primary key,
    searches bigint not null default 0 check (searches >= 0),
    without_results bigint not null default 0 check (without_results >= 0),
    with_few_results bigint not null default 0 check (with_few_results >= 0)
);

create type search_demand_kind as enum ('query', 'place', 'filters');

-- A search that found fewer than five listings, by what it asked for: the words of `q`, the
-- place, or (for those that found nothing) the combination of filters. While its day is
-- open, `network_sketch` holds one bit per keyed hash of each client network that sent it
-- (a linear-counting sketch: merged across processes by OR, it counts distinct networks
-- without storing any); the maintenance pass seals a day once it is over, keeping only the
-- count and deleting the rows fewer than five networks sent.
create table search_demand_day (
    day date not null,
    kind search_demand_kind not null,
    term text not null check (length(term) between 1 and 400),
    searches bigint not null check (searches >= 0),
    without_results bigint not null check (without_results >= 0),
    network_sketch bit(1024),
    networks integer not null check (networks >= 0),
    primary key (day, kind, term)
);

-- Distinct networks behind a sketch: linear counting, m ln(m / empty bits), rounded down.
-- Below about 40 networks it is exact unless two hashes share a bit, and a collision only
-- lowers it, so a count of five always means five networks at least.
create function network_estimate(sketch bit(1024)) returns integer
language sql immutable parallel safe as $$
    select case
        when sketch is null then 0
        when bit_count(sketch) >= 1024 then 7098
        else floor(1024 * ln(1024.0 / (1024 - bit_count(sketch))))::integer
    end
$$;
