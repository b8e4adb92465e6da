-- Profile photos (issue 30). An upload is cleaned into four variants stored in an object
-- store under their content's hash; `objects` names them. A listing has at most one
-- approved photo (public) and one other (waiting for review, or rejected with a note the
-- therapist sees).
create table listing_photo (
    id uuid primary key,
    listing_id uuid not null references listing (id) on delete cascade,
    status text not null check (status in ('pending_review', 'approved', 'rejected')),
    objects jsonb not null check (
        jsonb_typeof(objects) = 'object'
        and objects ?& array['w160', 'w400', 'w800', 'jpeg']),
    review_note text check (length(review_note) <= 2000),
    reviewed_by uuid references account (id) on delete set null,
    reviewed_at timestamptz,
    created_at timestamptz not null default now()
);
create unique index listing_photo_public on listing_photo (listing_id) where status = 'approved';
create unique index listing_photo_other on listing_photo (listing_id) where status <> 'approved';
create index listing_photo_queue on listing_photo (created_at, id) where status = 'pending_review';
-- Which objects a row refers to, when an object is to be deleted (objects are shared by
-- rows that uploaded the same bytes).
create index listing_photo_objects on listing_photo using gin (objects jsonb_path_ops);

-- The approved photo's objects, beside the summary (a column, so that a release reading
-- the summary's fixed keys is not disturbed by a new one).
alter table directory_entry add column photo jsonb;

-- 0031's entry builder, with the approved photo (and `photo_url` no longer read from the
-- listing: a link the therapist typed is not a reviewed photo).
create or replace function directory_rebuild(target_ids uuid[]) returns void
language plpgsql as $$
begin
    delete from directory_entry where listing_id = any (target_ids);
    insert into directory_entry (listing_id, slug, display_name, accepting, free_consultation,
        fee_min_cents, fee_floor_cents, sliding_scale, gender, faith, languages, age_groups,
        communities, session_formats, delivery, states, telehealth_states, has_office,
        modality_ids, specialty_ids, insurer_ids, certified_modality_ids, license_verified,
        offering_kinds, last_confirmed_at, summary, stale, availability_unconfirmed,
        statement, offering_titles, photo)
    select l.id, l.slug, l.display_name, l.accepting, l.free_consultation, l.fee_min_cents,
        coalesce(l.sliding_scale_min_cents, l.fee_min_cents),
        l.sliding_scale_min_cents is not null,
        l.gender, l.faith, l.languages, l.age_groups, l.communities, l.session_formats, l.delivery,
        array(select distinct s collate "C" from unnest(l.telehealth_states || coalesce(o.states, '{}')) s order by 1),
        l.telehealth_states,
        coalesce(cardinality(o.states), 0) > 0,
        coalesce(m.ids, '{}'), coalesce(s.ids, '{}'), coalesce(i.ids, '{}'), coalesce(c.ids, '{}'),
        v.listing_id is not null,
        coalesce(f.kinds, '{}'),
        l.last_confirmed_at,
        jsonb_build_object(
            'id', l.id, 'slug', l.slug, 'display_name', l.display_name, 'pronouns', l.pronouns,
            'credentials', l.credentials, 'professional_title', l.professional_title, 'photo_url', null,
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
            'license_verified', v.listing_id is not null,
            'last_confirmed_at', l.last_confirmed_at),
        l.stale_at is not null,
        l.availability_unconfirmed_at is not null,
        coalesce(l.statement, ''),
        coalesce(f.titles, ''),
        ph.objects
    from listing l
    join account a on a.id = l.account_id and a.status = 'active'
    left join (
        select lm.listing_id, array_agg(x.id order by x.id) as ids, jsonb_agg(x.slug order by x.slug collate "C") as slugs
        from listing_modality lm join modality x on x.id = lm.modality_id
        where lm.listing_id = any (target_ids) group by lm.listing_id
    ) m on m.listing_id = l.id
    left join (
        select ls.listing_id, array_agg(x.id order by x.id) as ids,
               jsonb_agg(x.slug order by x.slug collate "C") filter (where ls.is_top) as top
        from listing_specialty ls join specialty x on x.id = ls.specialty_id
        where ls.listing_id = any (target_ids) group by ls.listing_id
    ) s on s.listing_id = l.id
    left join (
        select li.listing_id, array_agg(li.insurer_id order by li.insurer_id) as ids
        from listing_insurer li where li.listing_id = any (target_ids) group by li.listing_id
    ) i on i.listing_id = l.id
    left join (
        select c.listing_id, array_agg(distinct c.modality_id) as ids from certification c
        where c.listing_id = any (target_ids) and c.verification_status = 'verified' and c.modality_id is not null
        group by c.listing_id
    ) c on c.listing_id = l.id
    left join (
        select distinct v.listing_id from license v
        where v.listing_id = any (target_ids) and v.verification_status = 'verified'
    ) v on v.listing_id = l.id
    left join (
        select f.listing_id, array_agg(distinct f.kind::text collate "C") as kinds, string_agg(f.title, ' ' order by f.created_at, f.id) as titles
        from offering f where f.listing_id = any (target_ids) group by f.listing_id
    ) f on f.listing_id = l.id
    left join (
        select f.listing_id, array_agg(distinct f.state::text collate "C") as states,
               jsonb_agg(jsonb_build_object('city', f.city, 'state', f.state, 'zip', f.zip) order by f.created_at, f.id) as summary
        from office f where f.listing_id = any (target_ids) group by f.listing_id
    ) o on o.listing_id = l.id
    left join listing_photo ph on ph.listing_id = l.id and ph.status = 'approved'
    where l.id = any (target_ids) and l.status = 'published';

    insert into directory_office (listing_id, location, state, position)
    select f.listing_id, point(f.longitude, f.latitude), f.state,
           row_number() over (partition by f.listing_id order by f.created_at, f.id) - 1
    from office f join directory_entry e on e.listing_id = f.listing_id
    where f.listing_id = any (target_ids);
end;
$$;

-- Entries built from a typed `photo_url` drop it.
select directory_refresh(array(select id from listing where status = 'published' and photo_url is not null));
