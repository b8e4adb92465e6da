-- Search at a million listings (issue 7, measured in the README): filters are intersected
-- inside one index, pages sorted by confirmation or fee are read from covering indexes, and
-- offices carry the common filters so a radius search rejects non-matching offices without
-- reading each listing's entry.

-- One GIN index over the selective filter columns instead of one per column: a search's
-- filters become keys of a single index scan, intersected inside the index, where separate
-- indexes built a bitmap of every listing with each value (100-150k for a common insurer or
-- language) and intersected the bitmaps afterwards. Columns whose common values cover most
-- listings (delivery, session formats, accepting) are left out: intersecting with them cost
-- more than testing them on the rows found (about 50 ms for `video` at 1M listings). The
-- planner can still turn to the covering indexes below when those filters are all there is.
-- btree_gin indexes the scalar columns.
-- Online-only listings (no office, video or phone) are found by the states they offer
-- telehealth in; a column of just those makes them one exact key of the index (a boolean
-- `has_office = false` is rewritten by the planner into `not has_office`, which no GIN
-- operator class matches).
create extension if not exists btree_gin;
alter table directory_entry add column online_states text[] not null generated always as (
    case when not has_office and delivery && '{video,phone}' then telehealth_states
         else '{}' end) stored;
create index directory_entry_filter_idx on directory_entry using gin (
    modality_ids, specialty_ids, insurer_ids, certified_modality_ids, languages, states,
    age_groups, communities, offering_kinds, online_states, gender, faith);
drop index directory_entry_modality_idx;
drop index directory_entry_specialty_idx;
drop index directory_entry_insurer_idx;
drop index directory_entry_states_idx;
drop index directory_entry_languages_idx;
drop index directory_entry_online_idx;

-- Pages sorted by confirmation or fee walk these in order and test each listing's filters
-- from the index alone (no heap fetch of a 2 KB entry row): a query whose matches are rare
-- passes over thousands of listings before its page is full. The covered columns are every
-- column a filter reads; `last_confirmed_at` and `fee_floor_cents` are there too because an
-- expression index only answers an index-only scan with its underlying columns.
create index directory_entry_confirmed_cover_idx
    on directory_entry ((coalesce(last_confirmed_at, '-infinity'::timestamptz)), listing_id)
    include (stale, modality_ids, specialty_ids, insurer_ids, certified_modality_ids, languages,
        delivery, session_formats, states, age_groups, communities, offering_kinds, accepting,
        free_consultation, sliding_scale, license_verified, fee_floor_cents, gender, faith,
        last_confirmed_at);
create index directory_entry_fee_cover_idx
    on directory_entry ((coalesce(fee_floor_cents, 2147483647)), listing_id)
    include (stale, modality_ids, specialty_ids, insurer_ids, certified_modality_ids, languages,
        delivery, session_formats, states, age_groups, communities, offering_kinds, accepting,
        free_consultation, sliding_scale, license_verified, fee_floor_cents, gender, faith,
        last_confirmed_at);
drop index directory_entry_confirmed_sort_idx;
drop index directory_entry_fee_sort_idx;

-- Offices carry copies of their listing's most used filters (and its facet and sort
-- columns), kept in the same refresh as the entry, and the location index covers them: a radius search drops the offices of
-- non-matching listings while reading the index, instead of fetching each listing's entry
-- (about 5-10 us each, for thousands of offices around a dense ZIP code).
alter table directory_office
    add column stale boolean not null default false,
    add column accepting accepting_status,
    add column fee_floor_cents integer,
    add column modality_ids integer[] not null default '{}',
    add column specialty_ids integer[] not null default '{}',
    add column insurer_ids integer[] not null default '{}',
    add column languages text[] not null default '{}',
    add column delivery text[] not null default '{}',
    add column session_formats text[] not null default '{}',
    add column last_confirmed_at timestamptz;
create index directory_office_filter_cover_idx on directory_office using gist (location)
    include (listing_id, stale, accepting, fee_floor_cents, modality_ids, specialty_ids,
        insurer_ids, languages, delivery, session_formats, last_confirmed_at);
drop index directory_office_location_cover_idx;

-- Typo-tolerant name search: each word of `q` is matched to the closest words of listing
-- names here (a few thousand words, trigram-indexed), then found through the entries' text
-- index like any word. Testing every name for similarity (`<%` on a trigram index of names)
-- took 10 ms and more at 1M listings for a common first name. Words are added as names
-- appear and never removed: a leftover word only offers a correction that matches nothing.
create table search_name_word (word text primary key);
create index search_name_word_trgm_idx on search_name_word using gist (word gist_trgm_ops);
drop index directory_entry_name_trgm_idx;

-- The refresh of 0007, now also writing the freshness flags (previously a second update by
-- the wrapper from 0011) and the offices' filter copies. It replaces the wrapper.

create or replace function directory_refresh(target_ids uuid[]) returns void
language plpgsql as $$
begin
    delete from directory_entry where listing_id = any (target_ids);
    insert into directory_entry (listing_id, slug, display_name, accepting, free_consultation,
        fee_min_cents, fee_floor_cents, sliding_scale, gender, faith, languages, age_groups,
        communities, session_formats, delivery, states, telehealth_states, has_office,
        modality_ids, specialty_ids, insurer_ids, certified_modality_ids, license_verified,
        offering_kinds, document, last_confirmed_at, summary, stale, availability_unconfirmed)
    select l.id, l.slug, l.display_name, l.accepting, l.free_consultation, l.fee_min_cents,
        coalesce(l.sliding_scale_min_cents, l.fee_min_cents),
        l.sliding_scale_min_cents is not null,
        l.gender, l.faith, l.languages, l.age_groups, l.communities, l.session_formats, l.delivery,
        array(select distinct s from unnest(l.telehealth_states || coalesce(o.states, '{}')) s),
        l.telehealth_states,
        coalesce(cardinality(o.states), 0) > 0,
        coalesce(m.ids, '{}'), coalesce(s.ids, '{}'), coalesce(i.ids, '{}'), coalesce(c.ids, '{}'),
        exists (select 1 from license v where v.listing_id = l.id and v.verification_status = 'verified'),
        array(select distinct f.kind::text from offering f where f.listing_id = l.id),
        setweight(to_tsvector('english', l.display_name || ' ' || coalesce(m.names, '')), 'A')
            || setweight(to_tsvector('english', coalesce(l.credentials, '') || ' ' || coalesce(l.professional_title, '')
                || ' ' || coalesce(s.names, '') || ' ' || coalesce(o.cities, '')), 'B')
            || setweight(to_tsvector('english', coalesce(l.statement, '')), 'C'),
        l.last_confirmed_at,
        jsonb_build_object(
            'id', l.id, 'slug', l.slug, 'display_name', l.display_name, 'pronouns', l.pronouns,
            'credentials', l.credentials, 'professional_title', l.professional_title, 'photo_url', l.photo_url,
            'accepting', l.accepting, 'free_consultation', l.free_consultation,
            'fees', jsonb_build_object(
                'min', money_json(l.fee_min_cents, l.currency),
                'max', money_json(l.fee_max_cents, l.currency),
                'sliding_scale_min', money_json(l.sliding_scale_min_cents, l.currency),
                'insurance_only', l.insurance_only),
            'modalities', coalesce(m.slugs, '[]'), 'top_specialties', coalesce(s.top, '[]'),
            'delivery', to_jsonb(l.delivery), 'session_formats', to_jsonb(l.session_formats),
            'languages', to_jsonb(l.languages), 'telehealth_states', to_jsonb(l.telehealth_states),
            'offices', coalesce(o.summary, '[]'),
            'license_verified', exists (select 1 from license v where v.listing_id = l.id and v.verification_status = 'verified'),
            'last_confirmed_at', l.last_confirmed_at),
        l.stale_at is not null,
        l.availability_unconfirmed_at is not null
    from listing l
    join account a on a.id = l.account_id and a.status = 'active'
    left join lateral (
        select array_agg(x.id order by x.id) as ids, string_agg(x.name, ' ') as names,
               jsonb_agg(x.slug order by x.slug) as slugs
        from listing_modality lm join modality x on x.id = lm.modality_id where lm.listing_id = l.id
    ) m on true
    left join lateral (
        select array_agg(x.id order by x.id) as ids, string_agg(x.name, ' ') as names,
               jsonb_agg(x.slug order by x.slug) filter (where ls.is_top) as top
        from listing_specialty ls join specialty x on x.id = ls.specialty_id where ls.listing_id = l.id
    ) s on true
    left join lateral (
        select array_agg(li.insurer_id order by li.insurer_id) as ids from listing_insurer li where li.listing_id = l.id
    ) i on true
    left join lateral (
        select array_agg(distinct c.modality_id) as ids from certification c
        where c.listing_id = l.id and c.verification_status = 'verified' and c.modality_id is not null
    ) c on true
    left join lateral (
        select array_agg(distinct f.state::text) as states, string_agg(f.city, ' ') as cities,
               jsonb_agg(jsonb_build_object('city', f.city, 'state', f.state, 'zip', f.zip) order by f.created_at) as summary
        from office f where f.listing_id = l.id
    ) o on true
    where l.id = any (target_ids) and l.status = 'published';

    insert into directory_office (listing_id, location, state, stale, accepting, fee_floor_cents,
        modality_ids, specialty_ids, insurer_ids, languages, delivery, session_formats,
        last_confirmed_at)
    select f.listing_id, point(f.longitude, f.latitude), f.state, e.stale, e.accepting,
        e.fee_floor_cents, e.modality_ids, e.specialty_ids, e.insurer_ids, e.languages,
        e.delivery, e.session_formats, e.last_confirmed_at
    from office f join directory_entry e on e.listing_id = f.listing_id
    where f.listing_id = any (target_ids);

    -- In one order, so refreshes running side by side wait for each other's new words
    -- instead of deadlocking.
    insert into search_name_word (word)
    select distinct w
    from directory_entry e, regexp_split_to_table(lower(e.display_name), '[^[:alnum:]]+') w
    where e.listing_id = any (target_ids) and char_length(w) >= 3
    order by w
    on conflict do nothing;
end;
$$;

drop function directory_refresh_entries(uuid[]);
-- It served only the wrapper's lookup of flagged listings.
drop index listing_flagged_idx;

-- Entries and offices as they stand, rebuilt with the new columns.
select directory_refresh(array(select listing_id from directory_entry));
