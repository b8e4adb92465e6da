-- The directory's data model: accounts, listings and everything a listing carries.
-- Every invariant the database can hold is a constraint here; the application checks the
-- same rules first to give friendly errors, and these are the backstop.

-- ---------------------------------------------------------------------------------------
-- Shared value checks

-- US states, DC and the inhabited territories (licenses are issued in all of them).
create function is_us_state(code text) returns boolean
language sql immutable strict parallel safe as $$
    select code = any (array[
        'AL','AK','AZ','AR','CA','CO','CT','DE','FL','GA','HI','ID','IL','IN','IA','KS','KY',
        'LA','ME','MD','MA','MI','MN','MS','MO','MT','NE','NV','NH','NJ','NM','NY','NC','ND',
        'OH','OK','OR','PA','RI','SC','SD','TN','TX','UT','VT','VA','WA','WV','WI','WY',
        'DC','PR','VI','GU','AS','MP'])
$$;

create function are_us_states(codes text[]) returns boolean
language sql immutable strict parallel safe as $$
    select coalesce(bool_and(is_us_state(c)), true) from unnest(codes) as c
$$;

-- NPI check digit: Luhn over the digits prefixed with 80840 (CMS NPI standard).
create function npi_is_valid(npi text) returns boolean
language plpgsql immutable strict parallel safe as $$
declare
    digits text := '80840' || npi;
    n int := length(digits);
    total int := 0;
    d int;
begin
    if npi !~ '^[0-9]{10}$' then
        return false;
    end if;
    for i in 1..n loop
        d := substr(digits, n - i + 1, 1)::int;
        if i % 2 = 0 then
            d := d * 2;
            if d > 9 then d := d - 9; end if;
        end if;
        total := total + d;
    end loop;
    return total % 10 = 0;
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Accounts

create type account_role as enum ('therapist', 'admin');
create type account_status as enum ('active', 'suspended');

create table account (
    id uuid primary key,
    email citext not null,
    password_hash text not null,
    role account_role not null default 'therapist',
    status account_status not null default 'active',
    full_name text not null,
    email_verified_at timestamptz,
    -- Bumped on password change/reset and suspension: access tokens carry it, so older ones die.
    token_version integer not null default 0,
    is_demo boolean not null default false,
    suspended_reason text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint account_email_key unique (email),
    constraint account_email_format check (length(email) <= 254 and email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
    constraint account_full_name_length check (length(full_name) between 1 and 200),
    constraint account_token_version_nonnegative check (token_version >= 0),
    constraint account_suspended_reason_length check (length(suspended_reason) <= 2000)
);
create trigger account_updated_at before update on account
    for each row execute function set_updated_at();

-- ---------------------------------------------------------------------------------------
-- Taxonomy: modalities, specialties, insurers. Retired terms stay for history but leave
-- new edits and facets; a term in use cannot be deleted (foreign keys restrict).

create table modality (
    id integer generated always as identity primary key,
    slug text not null,
    name text not null,
    description text not null default '',
    retired_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint modality_slug_key unique (slug),
    constraint modality_name_key unique (name),
    constraint modality_slug_format check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(slug) <= 60),
    constraint modality_name_length check (length(name) between 1 and 120),
    constraint modality_description_length check (length(description) <= 500)
);
create trigger modality_updated_at before update on modality
    for each row execute function set_updated_at();

create type specialty_category as enum (
    'mental_health', 'trauma', 'relationships', 'addiction', 'sexuality_and_gender', 'life_challenges'
);

create table specialty (
    id integer generated always as identity primary key,
    slug text not null,
    name text not null,
    category specialty_category not null,
    description text not null default '',
    retired_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint specialty_slug_key unique (slug),
    constraint specialty_name_key unique (name),
    constraint specialty_slug_format check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(slug) <= 60),
    constraint specialty_name_length check (length(name) between 1 and 120),
    constraint specialty_description_length check (length(description) <= 500)
);
create trigger specialty_updated_at before update on specialty
    for each row execute function set_updated_at();

create table insurer (
    id integer generated always as identity primary key,
    slug text not null,
    name text not null,
    retired_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint insurer_slug_key unique (slug),
    constraint insurer_name_key unique (name),
    constraint insurer_slug_format check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(slug) <= 60),
    constraint insurer_name_length check (length(name) between 1 and 120)
);
create trigger insurer_updated_at before update on insurer
    for each row execute function set_updated_at();

-- ---------------------------------------------------------------------------------------
-- Listings: one per therapist account.

create type listing_status as enum (
    'draft', 'pending_review', 'published', 'rejected', 'suspended', 'unpublished'
);
create type accepting_status as enum ('accepting', 'waitlist', 'not_accepting');

create table listing (
    id uuid primary key,
    account_id uuid not null references account (id) on delete cascade,
    status listing_status not null default 'draft',
    slug text not null,
    display_name text not null,
    pronouns text,
    credentials text,
    professional_title text,
    statement text,
    photo_url text,
    website_url text,
    phone text,
    contact_email citext,
    gender text,
    languages text[] not null default '{}',
    age_groups text[] not null default '{}',
    communities text[] not null default '{}',
    faith text,
    session_formats text[] not null default '{}',
    delivery text[] not null default '{}',
    accepting accepting_status not null default 'accepting',
    free_consultation boolean not null default false,
    currency char(3) not null default 'USD',
    fee_min_cents integer,
    fee_max_cents integer,
    sliding_scale_min_cents integer,
    insurance_only boolean not null default false,
    payment_methods text[] not null default '{}',
    hsa_fsa boolean not null default false,
    npi char(10),
    taxonomy_code text,
    years_in_practice smallint,
    telehealth_states text[] not null default '{}',
    last_confirmed_at timestamptz,
    review_note text,
    submitted_at timestamptz,
    published_at timestamptz,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint listing_account_key unique (account_id),
    constraint listing_slug_key unique (slug),
    constraint listing_slug_format check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(slug) <= 80),
    constraint listing_display_name_length check (length(display_name) between 1 and 120),
    constraint listing_pronouns_length check (length(pronouns) <= 40),
    constraint listing_credentials_length check (length(credentials) <= 80),
    constraint listing_professional_title_length check (length(professional_title) <= 120),
    constraint listing_statement_length check (length(statement) <= 5000),
    constraint listing_photo_url_format check (length(photo_url) <= 500 and photo_url ~ '^https://'),
    constraint listing_website_url_format check (length(website_url) <= 500 and website_url ~ '^https?://'),
    constraint listing_phone_format check (phone ~ '^\+1[2-9][0-9]{2}[2-9][0-9]{6}$'),
    constraint listing_contact_email_format check (length(contact_email) <= 254 and contact_email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
    constraint listing_gender_value check (gender in ('female', 'male', 'non_binary')),
    constraint listing_languages_values check (
        cardinality(languages) <= 20 and array_to_string(languages, ',') ~ '^([a-z]{2,3}(,[a-z]{2,3})*)?$'),
    constraint listing_age_groups_values check (
        age_groups <@ array['children', 'teens', 'adults', 'elders']),
    constraint listing_communities_values check (
        communities <@ array['lgbtq', 'bipoc', 'veterans', 'first_responders', 'immigrants',
            'deaf_hard_of_hearing', 'disabilities', 'neurodivergent', 'students', 'seniors']),
    constraint listing_faith_value check (
        faith in ('christian', 'jewish', 'muslim', 'buddhist', 'hindu', 'interfaith', 'secular')),
    constraint listing_session_formats_values check (
        session_formats <@ array['individual', 'couples', 'family', 'group']),
    constraint listing_delivery_values check (delivery <@ array['in_person', 'video', 'phone']),
    constraint listing_currency_format check (currency ~ '^[A-Z]{3}$'),
    constraint listing_fee_range check (
        fee_min_cents between 0 and 10000000 and fee_max_cents between 0 and 10000000
        and fee_min_cents <= fee_max_cents),
    constraint listing_fee_pair check ((fee_min_cents is null) = (fee_max_cents is null)),
    -- A sliding scale reaches below the standard fee (so a standard fee must exist).
    constraint listing_sliding_scale check (
        sliding_scale_min_cents is null
        or (sliding_scale_min_cents >= 0 and fee_min_cents is not null
            and sliding_scale_min_cents <= fee_min_cents)),
    constraint listing_payment_methods_values check (
        payment_methods <@ array['cash', 'check', 'credit_card', 'debit_card', 'ach', 'paypal',
            'venmo', 'zelle', 'hsa', 'fsa']),
    constraint listing_npi_valid check (npi_is_valid(npi)),
    constraint listing_taxonomy_code_format check (taxonomy_code ~ '^[0-9]{3}[0-9A-Z]{6}X$'),
    constraint listing_years_in_practice_range check (years_in_practice between 0 and 70),
    constraint listing_telehealth_states_values check (
        cardinality(telehealth_states) <= 56 and are_us_states(telehealth_states)),
    constraint listing_review_note_length check (length(review_note) <= 2000),
    constraint listing_version_positive check (version >= 1)
);
create trigger listing_updated_at before update on listing
    for each row execute function set_updated_at();
create index listing_status_submitted_idx on listing (status, submitted_at, id);

create table listing_modality (
    listing_id uuid not null references listing (id) on delete cascade,
    modality_id integer not null references modality (id) on delete restrict,
    primary key (listing_id, modality_id)
);
create index listing_modality_modality_idx on listing_modality (modality_id);

create table listing_specialty (
    listing_id uuid not null references listing (id) on delete cascade,
    specialty_id integer not null references specialty (id) on delete restrict,
    is_top boolean not null default false,
    primary key (listing_id, specialty_id)
);
create index listing_specialty_specialty_idx on listing_specialty (specialty_id);

-- A therapist marks at most three specialties as their top ones. Statement-level, over the
-- rows the statement touched, so a bulk load checks once per statement, not once per row.
create function enforce_top_specialty_limit() returns trigger
language plpgsql as $$
begin
    -- Driven from the touched listings (a correlated, indexed count each): the transition
    -- table has no statistics, and a join could plan a scan of the whole table.
    if exists (select 1 from (select distinct listing_id from changed where is_top) c
               where (select count(*) from listing_specialty s
                      where s.listing_id = c.listing_id and s.is_top) > 3) then
        raise exception 'at most 3 top specialties per listing'
            using errcode = 'check_violation', constraint = 'listing_specialty_top_limit';
    end if;
    return null;
end;
$$;
create trigger listing_specialty_top_limit_insert after insert on listing_specialty
    referencing new table as changed
    for each statement execute function enforce_top_specialty_limit();
create trigger listing_specialty_top_limit_update after update on listing_specialty
    referencing new table as changed
    for each statement execute function enforce_top_specialty_limit();

create table listing_insurer (
    listing_id uuid not null references listing (id) on delete cascade,
    insurer_id integer not null references insurer (id) on delete restrict,
    primary key (listing_id, insurer_id)
);
create index listing_insurer_insurer_idx on listing_insurer (insurer_id);

-- ---------------------------------------------------------------------------------------
-- Licenses and certifications, each verified (or not) by an admin.

create type verification_status as enum ('unverified', 'verified', 'rejected');

create table license (
    id uuid primary key,
    listing_id uuid not null references listing (id) on delete cascade,
    license_type text not null,
    license_number text not null,
    state char(2) not null,
    expires_on date,
    verification_status verification_status not null default 'unverified',
    verification_note text,
    verified_by uuid references account (id) on delete set null,
    verified_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint license_number_key unique (listing_id, state, license_number),
    constraint license_type_length check (length(license_type) between 1 and 40),
    constraint license_number_length check (length(license_number) between 1 and 40),
    constraint license_state_valid check (is_us_state(state)),
    constraint license_verification_note_length check (length(verification_note) <= 1000),
    constraint license_verified_at_matches check ((verification_status = 'unverified') = (verified_at is null))
);
create index license_listing_idx on license (listing_id);
create trigger license_updated_at before update on license
    for each row execute function set_updated_at();

create table certification (
    id uuid primary key,
    listing_id uuid not null references listing (id) on delete cascade,
    name text not null,
    issuer text not null,
    modality_id integer references modality (id) on delete restrict,
    level text,
    credential_id text,
    issued_on date,
    expires_on date,
    verification_status verification_status not null default 'unverified',
    verification_note text,
    verified_by uuid references account (id) on delete set null,
    verified_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint certification_name_length check (length(name) between 1 and 120),
    constraint certification_issuer_length check (length(issuer) between 1 and 120),
    constraint certification_level_length check (length(level) <= 80),
    constraint certification_credential_id_length check (length(credential_id) <= 80),
    constraint certification_dates check (expires_on >= issued_on),
    constraint certification_verification_note_length check (length(verification_note) <= 1000),
    constraint certification_verified_at_matches check ((verification_status = 'unverified') = (verified_at is null))
);
create index certification_listing_idx on certification (listing_id);
create index certification_modality_idx on certification (modality_id);
create trigger certification_updated_at before update on certification
    for each row execute function set_updated_at();

-- ---------------------------------------------------------------------------------------
-- Offices (at most five per listing) and offerings.

create table office (
    id uuid primary key,
    listing_id uuid not null references listing (id) on delete cascade,
    label text,
    address_line1 text not null,
    address_line2 text,
    city text not null,
    state char(2) not null,
    zip char(5) not null,
    latitude double precision not null,
    longitude double precision not null,
    wheelchair_accessible boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint office_label_length check (length(label) <= 80),
    constraint office_address_line1_length check (length(address_line1) between 1 and 200),
    constraint office_address_line2_length check (length(address_line2) <= 200),
    constraint office_city_length check (length(city) between 1 and 100),
    constraint office_state_valid check (is_us_state(state)),
    constraint office_zip_format check (zip ~ '^[0-9]{5}$'),
    constraint office_latitude_range check (latitude between -90 and 90),
    constraint office_longitude_range check (longitude between -180 and 180)
);
create index office_listing_idx on office (listing_id);
create trigger office_updated_at before update on office
    for each row execute function set_updated_at();

create function enforce_office_limit() returns trigger
language plpgsql as $$
begin
    if exists (select 1 from (select distinct listing_id from changed) c
               where (select count(*) from office o where o.listing_id = c.listing_id) > 5) then
        raise exception 'at most 5 offices per listing'
            using errcode = 'check_violation', constraint = 'office_limit';
    end if;
    return null;
end;
$$;
create trigger office_limit_insert after insert on office
    referencing new table as changed
    for each statement execute function enforce_office_limit();
create trigger office_limit_update after update on office
    referencing new table as changed
    for each statement execute function enforce_office_limit();

create type offering_kind as enum ('session', 'workshop', 'retreat', 'online_course', 'group', 'intensive');
create type offering_format as enum ('in_person', 'online', 'hybrid');

create table offering (
    id uuid primary key,
    listing_id uuid not null references listing (id) on delete cascade,
    kind offering_kind not null,
    title text not null,
    description text,
    format offering_format not null,
    price_cents integer not null,
    currency char(3) not null default 'USD',
    duration_minutes integer not null,
    starts_on date,
    ends_on date,
    location text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint offering_title_length check (length(title) between 1 and 120),
    constraint offering_description_length check (length(description) <= 2000),
    constraint offering_price_range check (price_cents between 0 and 10000000),
    constraint offering_currency_format check (currency ~ '^[A-Z]{3}$'),
    -- From a 15-minute consultation to a 30-day programme.
    constraint offering_duration_range check (duration_minutes between 5 and 43200),
    constraint offering_dates check (ends_on >= starts_on),
    constraint offering_location_length check (length(location) <= 200)
);
create index offering_listing_idx on offering (listing_id);
create trigger offering_updated_at before update on offering
    for each row execute function set_updated_at();
