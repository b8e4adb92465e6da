-- The networks an account signed in from, keyed like the throttle (a hash of the address):
-- once others' guesses spend the account's day, its owner still signs in from one of them.
-- Forgotten after 90 days without a sign-in (the maintenance job).
create table login_known_network (
    email_key bytea not null,
    network text not null,
    last_signed_in_at timestamptz not null default now(),
    primary key (email_key, network)
);
create index login_known_network_age_idx on login_known_network (last_signed_in_at);
