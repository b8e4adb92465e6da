-- Sign-in throttling per (account, client network) instead of per account: someone else's
-- wrong guesses no longer lock the owner out everywhere (NIST SP 800-63B 5.2.2). Across
-- networks an account takes at most 100 failures a day; then sign-in needs a password
-- reset by email, which clears every throttle of the account.
drop table login_throttle;
create table login_throttle (
    email_key bytea not null,
    -- The client's network: an IPv4 address, an IPv6 /64.
    network text not null,
    failures integer not null,
    last_failure_at timestamptz not null,
    locked_until timestamptz,
    primary key (email_key, network)
);
create table login_daily_failure (
    email_key bytea primary key,
    failures integer not null,
    window_start timestamptz not null,
    -- Set at the 100th failure of a day; cleared by a password reset.
    reset_required_at timestamptz
);
