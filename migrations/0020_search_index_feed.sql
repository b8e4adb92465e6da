-- Search moves into the service (issue 17): every API process keeps its own in-memory index
-- of `directory_entry`, and follows this change feed to stay current. PostgreSQL keeps the
-- entries (the source the index is built from, and the rows a search page reads by primary
-- key); the text, filter and distance indexes that served search inside the database go.

-- The change feed: one row per changed subject (a listing, or the nil UUID for "the
-- taxonomy"), holding the sequence number of its latest change. A reader asks for the rows
-- past the last number it applied, in order; a deleted entry keeps its row, so deletions
-- are read like any change.
--
-- Numbers are taken under a transaction-scoped advisory lock, held until commit: a
-- transaction that took a number has committed (and is visible) before the next one can
-- take a higher number, so a reader that has seen number N can never later find a smaller
-- one committed. The lock is taken at commit time by the entry refresh (a deferred trigger),
-- so writers queue only for that last step.
create sequence directory_change_seq;
create table directory_change (
    subject uuid primary key,
    seq bigint not null
);
create index directory_change_seq_idx on directory_change (seq);

create function directory_change_note(subjects uuid[]) returns void
language plpgsql as $$
begin
    if cardinality(subjects) = 0 then
        return;
    end if;
    perform pg_advisory_xact_lock(hashtext('directory_change'));
    insert into directory_change (subject, seq)
    select s, nextval('directory_change_seq') from (select distinct unnest(subjects) as s order by 1) x
    on conflict (subject) do update set seq = excluded.seq;
    perform pg_notify('directory_change', '');
end;
$$;

create function directory_change_entries() returns trigger
language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        perform directory_change_note(array(select listing_id from changed_old));
    else
        perform directory_change_note(array(select listing_id from changed_new));
    end if;
    return null;
end;
$$;
create trigger directory_entry_change_insert after insert on directory_entry
    referencing new table as changed_new
    for each statement execute function directory_change_entries();
create trigger directory_entry_change_update after update on directory_entry
    referencing new table as changed_new
    for each statement execute function directory_change_entries();
create trigger directory_entry_change_delete after delete on directory_entry
    referencing old table as changed_old
    for each statement execute function directory_change_entries();

-- Term names, slugs and retirement live in the index too (filters, facets and the words
-- `q` matches); any change to the taxonomy is one change of the nil subject.
create function directory_change_taxonomy() returns trigger
language plpgsql as $$
begin
    perform directory_change_note(array['00000000-0000-0000-0000-000000000000'::uuid]);
    return null;
end;
$$;
create trigger modality_directory_change after insert or update or delete or truncate on modality
    for each statement execute function directory_change_taxonomy();
create trigger specialty_directory_change after insert or update or delete or truncate on specialty
    for each statement execute function directory_change_taxonomy();
create trigger insurer_directory_change after insert or update or delete or truncate on insurer
    for each statement execute function directory_change_taxonomy();

-- Typo correction and name words now come from the index's own vocabulary.
drop trigger modality_search_words on modality;
drop trigger specialty_search_words on specialty;
drop trigger insurer_search_words on insurer;
drop function search_words_rebuild();
drop table search_word;
drop view search_vocabulary;
drop table search_name_word;

-- Search-only indexes and columns.
drop index directory_entry_document_idx;
drop index directory_entry_filter_idx;
drop index directory_entry_confirmed_cover_idx;
drop index directory_entry_fee_cover_idx;
drop index directory_office_filter_cover_idx;
alter table directory_entry drop column online_states, drop column document;
alter table directory_office
    drop column stale, drop column accepting, drop column fee_floor_cents,
    drop column modality_ids, drop column specialty_ids, drop column insurer_ids,
    drop column languages, drop column delivery, drop column session_formats,
    drop column last_confirmed_at;
drop extension if exists btree_gin;

-- What the index reads for free text besides the summary: the statement and the titles of
-- the listing's offerings.
alter table directory_entry
    add column statement text not null default '',
    add column offering_titles text not null default '';

create or replace function directory_refresh(target_ids uuid[]) returns void
language plpgsql as $$
begin
    delete from directory_entry where listing_id = any (target_ids);
    insert into directory_entry (listing_id, slug, display_name, accepting, free_consultation,
        fee_min_cents, fee_floor_cents, sliding_scale, gender, faith, languages, age_groups,
        communities, session_formats, delivery, states, telehealth_states, has_office,
        modality_ids, specialty_ids, insurer_ids, certified_modality_ids, license_verified,
        offering_kinds, last_confirmed_at, summary, stale, availability_unconfirmed,
        statement, offering_titles)
    select l.id, l.slug, l.display_name, l.accepting, l.free_consultation, l.fee_min_cents,
        coalesce(l.sliding_scale_min_cents, l.fee_min_cents),
        l.sliding_scale_min_cents is not null,
        l.gender, l.faith, l.languages, l.age_groups, l.communities, l.session_formats, l.delivery,
        array(select distinct s from unnest(l.telehealth_states || coalesce(o.states, '{}')) s),
        l.telehealth_states,
        coalesce(cardinality(o.states), 0) > 0,
        coalesce(m.ids, '{}'), coalesce(s.ids, '{}'), coalesce(i.ids, '{}'), coalesce(c.ids, '{}'),
        exists (select 1 from license v where v.listing_id = l.id and v.verification_status = 'verified'),
        coalesce(f.kinds, '{}'),
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
        l.availability_unconfirmed_at is not null,
        coalesce(l.statement, ''),
        coalesce(f.titles, '')
    from listing l
    join account a on a.id = l.account_id and a.status = 'active'
    left join lateral (
        select array_agg(x.id order by x.id) as ids, jsonb_agg(x.slug order by x.slug) as slugs
        from listing_modality lm join modality x on x.id = lm.modality_id where lm.listing_id = l.id
    ) m on true
    left join lateral (
        select array_agg(x.id order by x.id) as ids,
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
        select array_agg(distinct f.kind::text) as kinds, string_agg(f.title, ' ') as titles
        from offering f where f.listing_id = l.id
    ) f on true
    left join lateral (
        select array_agg(distinct f.state::text) as states,
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

-- Entries as they stand, rebuilt with the new columns (which also fills the feed).
select directory_refresh(array(select listing_id from directory_entry));
