-- The account's own life (issue 31).

-- The admin summary counts credentials waiting for a decision without reading the others.
create index license_unverified_idx on license (id) where verification_status = 'unverified';
create index certification_unverified_idx on certification (id) where verification_status = 'unverified';

-- A link that moves the account to a new address carries the address (the account's own
-- column changes only when the link is used).
alter type email_token_purpose add value if not exists 'change_email';
alter table email_token add column new_email citext
    constraint email_token_new_email_length check (length(new_email) <= 254);

-- An admin who resolved reports can delete their account: the reports stay, unattributed.
alter table listing_report drop constraint listing_report_resolved_by_fkey,
    add constraint listing_report_resolved_by_fkey foreign key (resolved_by)
        references account (id) on delete set null;
