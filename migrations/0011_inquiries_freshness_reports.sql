-- Client inquiries, listing freshness and problem reports (issue 8).

-- Freshness: a reminder after 60 days without confirmation, stale (out of default search)
-- after 90; availability unconfirmed after repeated "unreachable" reports. Confirming
-- clears both.
alter table listing
    add column confirm_reminder_sent_at timestamptz,
    add column stale_at timestamptz,
    add column availability_unconfirmed_at timestamptz;
create index listing_confirmation_due_idx on listing (last_confirmed_at) where status = 'published';

alter table directory_entry
    add column stale boolean not null default false,
    add column availability_unconfirmed boolean not null default false;

-- The entry builder stays as it was; the flags are set afterwards, only where one is on,
-- so bulk rebuilds (seed-demo, reindex) pay nothing for them.
alter function directory_refresh(uuid[]) rename to directory_refresh_entries;
create function directory_refresh(target_ids uuid[]) returns void
language plpgsql as $$
begin
    perform directory_refresh_entries(target_ids);
    update directory_entry e
       set stale = l.stale_at is not null,
           availability_unconfirmed = l.availability_unconfirmed_at is not null
      from listing l
     where l.id = e.listing_id and e.listing_id = any (target_ids)
       and (l.stale_at is not null or l.availability_unconfirmed_at is not null);
end;
$$;

-- Inquiries are health-related personal data: only the listing's therapist reads them,
-- and the maintenance job deletes them at the end of the retention period.
create type inquiry_status as enum ('new', 'read', 'responded', 'archived');
create table inquiry (
    id uuid primary key,
    listing_id uuid not null references listing (id) on delete cascade,
    client_name text not null,
    client_email text not null,
    client_phone text,
    message text not null,
    preferred_contact text not null,
    status inquiry_status not null default 'new',
    created_at timestamptz not null,
    read_at timestamptz,
    responded_at timestamptz,
    archived_at timestamptz,
    constraint inquiry_name_length check (char_length(client_name) between 1 and 100),
    constraint inquiry_email_length check (char_length(client_email) between 3 and 254),
    constraint inquiry_phone_length check (char_length(client_phone) between 1 and 40),
    constraint inquiry_message_length check (char_length(message) between 1 and 4000),
    constraint inquiry_preferred_contact check (preferred_contact in ('email', 'phone')),
    constraint inquiry_phone_when_preferred check (preferred_contact <> 'phone' or client_phone is not null)
);
create index inquiry_inbox_idx on inquiry (listing_id, created_at desc, id desc);
create index inquiry_created_idx on inquiry (created_at);

-- How long the therapist took to answer, without anything about the inquiry itself, so
-- the response-time figure outlives the inquiries.
create table inquiry_response (
    inquiry_id uuid primary key,
    listing_id uuid not null references listing (id) on delete cascade,
    responded_at timestamptz not null,
    response_seconds integer not null,
    constraint inquiry_response_nonnegative check (response_seconds >= 0)
);
create index inquiry_response_listing_idx on inquiry_response (listing_id, responded_at desc);

-- Emails that quote an inquiry are deleted once delivered (the inbox keeps the inquiry).
alter table outbox_email add column sensitive boolean not null default false;

create type report_reason as enum ('unreachable', 'not_accepting', 'inaccurate_info', 'not_licensed', 'other');
create table listing_report (
    id uuid primary key,
    listing_id uuid not null references listing (id) on delete cascade,
    reason report_reason not null,
    details text,
    -- A keyed hash of the reporter's IP address: tells clients apart without storing it.
    reporter text not null,
    created_at timestamptz not null,
    resolved_at timestamptz,
    resolved_by uuid references account (id),
    resolution text,
    resolution_note text,
    constraint listing_report_details_length check (char_length(details) between 1 and 2000),
    constraint listing_report_resolution check (
        (resolved_at is null) = (resolution is null)
        and (resolution is null or resolution in ('fixed', 'dismissed'))),
    constraint listing_report_note_length check (char_length(resolution_note) between 1 and 2000)
);
create index listing_report_queue_idx on listing_report (created_at desc, id desc);
create index listing_report_open_idx on listing_report (listing_id, created_at) where resolved_at is null;

-- What the maintenance job last did (one row per job), for operators.
create table job_run (
    job text primary key,
    started_at timestamptz not null,
    finished_at timestamptz,
    summary jsonb
);
