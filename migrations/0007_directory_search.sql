-- The search-optimised representation of the public directory: one row per listing that
-- the public may see (published, account active), with everything search filters, sorts
-- and returns denormalised into it, and one row per office for distance search.
-- It is maintained by the database itself: every change to a listing bumps its version,
-- and a deferred trigger refreshes the entry at commit; account status changes do too.

create table directory_entry (
    listing_id uuid primary key references listing (id) on delete cascade,
    slug text not null,
    display_name text not null,
    accepting accepting_status not null,
    free_consultation boolean not null,
    fee_min_cents integer,
    -- The lowest fee a client can pay: the sliding-scale minimum, else the standard minimum.
    fee_floor_cents integer,
    sliding_scale boolean not null,
    gender text,
    faith text,
    languages text[] not null,
    age_groups text[] not null,
    communities text[] not null,
    session_formats text[] not null,
    delivery text[] not null,
    -- Office states and telehealth states.
    states text[] not null,
    telehealth_states text[] not null,
    has_office boolean not null,
    modality_ids integer[] not null,
    specialty_ids integer[] not null,
    insurer_ids integer[] not null,
    certified_modality_ids integer[] not null,
    license_verified boolean not null,
    offering_kinds text[] not null,
    document tsvector not null,
    last_confirmed_at timestamptz,
    -- The search result item, ready to send.
    summary jsonb not null
);
create index directory_entry_document_idx on directory_entry using gin (document);
create index directory_entry_name_trgm_idx on directory_entry using gin (display_name gin_trgm_ops);
create index directory_entry_modality_idx on directory_entry using gin (modality_ids);
create index directory_entry_specialty_idx on directory_entry using gin (specialty_ids);
create index directory_entry_insurer_idx on directory_entry using gin (insurer_ids);
create index directory_entry_states_idx on directory_entry using gin (states);
create index directory_entry_languages_idx on directory_entry using gin (languages);
create index directory_entry_fee_idx on directory_entry (fee_floor_cents, listing_id);
create index directory_entry_confirmed_idx on directory_entry (last_confirmed_at desc nulls last, listing_id);

create table directory_office (
    listing_id uuid not null references directory_entry (listing_id) on delete cascade,
    -- point(longitude, latitude)
    location point not null,
    state char(2) not null
);
create index directory_office_location_idx on directory_office using gist (location);
create index directory_office_listing_idx on directory_office (listing_id);

-- Great-circle distance in kilometres between two point(longitude, latitude).
create function distance_km(a point, b point) returns double precision
language sql immutable strict parallel safe as $$
    select 2 * 6371.0088 * asin(least(1, sqrt(
        sin(radians(b[1] - a[1]) / 2) ^ 2
        + cos(radians(a[1])) * cos(radians(b[1])) * sin(radians(b[0] - a[0]) / 2) ^ 2)))
$$;

create function money_json(cents integer, currency text) returns jsonb
language sql immutable parallel safe as $$
    select case when cents is null then null
                else jsonb_build_object('amount_cents', cents, 'currency', currency) end
$$;

-- Rebuilds the entries of the given listings: deleted, then re-inserted for those the
-- public may see.
create function directory_refresh(target_ids uuid[]) returns void
language plpgsql as $$
begin
    delete from directory_entry where listing_id = any (target_ids);
    insert into directory_entry
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
            'last_confirmed_at', l.last_confirmed_at)
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

    insert into directory_office (listing_id, location, state)
    select f.listing_id, point(f.longitude, f.latitude), f.state
    from office f join directory_entry e on e.listing_id = f.listing_id
    where f.listing_id = any (target_ids);
end;
$$;

-- Every change to a listing or its parts bumps listing.version; refreshing at commit sees
-- the transaction's final state, however many statements made it.
create function directory_refresh_listing() returns trigger
language plpgsql as $$
begin
    perform directory_refresh(array[new.id]);
    return null;
end;
$$;
create constraint trigger listing_directory_refresh
    after insert or update on listing
    deferrable initially deferred
    for each row execute function directory_refresh_listing();

create function directory_refresh_account() returns trigger
language plpgsql as $$
begin
    perform directory_refresh(array(select id from listing where account_id = new.id));
    return null;
end;
$$;
create constraint trigger account_directory_refresh
    after update of status on account
    deferrable initially deferred
    for each row execute function directory_refresh_account();

-- A retired or renamed term changes what the entries say about it.
create function directory_refresh_term() returns trigger
language plpgsql as $$
begin
    if tg_table_name = 'modality' then
        perform directory_refresh(array(select listing_id from listing_modality where modality_id = new.id));
    elsif tg_table_name = 'specialty' then
        perform directory_refresh(array(select listing_id from listing_specialty where specialty_id = new.id));
    end if;
    return null;
end;
$$;
create trigger modality_directory_refresh after update of name on modality
    for each row execute function directory_refresh_term();
create trigger specialty_directory_refresh after update of name on specialty
    for each row execute function directory_refresh_term();

-- Listings published before this migration.
select directory_refresh(array(select id from listing where status = 'published'));

-- Words that typo tolerance corrects toward: the active taxonomy's names and slugs
-- ("anxeity" → "anxiety", "therpy" → "therapy").
create view search_vocabulary as
select distinct lower(w) as word
from (
    select regexp_split_to_table(name || ' ' || slug, '[^[:alnum:]]+') as w from modality where retired_at is null
    union all
    select regexp_split_to_table(name || ' ' || slug, '[^[:alnum:]]+') from specialty where retired_at is null
    union all
    select regexp_split_to_table(name, '[^[:alnum:]]+') from insurer where retired_at is null
) words
where length(w) >= 3;
