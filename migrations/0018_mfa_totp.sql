-- A second factor: TOTP (RFC 6238). The secret is stored encrypted (ChaCha20-Poly1305 under
-- a key derived from the master secret), recovery codes and sign-in challenges only as
-- their SHA-256. A session records whether it passed the second factor; admin routes need
-- one that did.
create table account_totp (
    account_id uuid primary key references account (id) on delete cascade,
    secret_sealed bytea not null,
    confirmed_at timestamptz,
    -- The last time step whose code was accepted: a code works once.
    last_step bigint,
    created_at timestamptz not null default now()
);
create table mfa_recovery_code (
    code_hash bytea primary key,
    account_id uuid not null references account (id) on delete cascade,
    used_at timestamptz
);
create index mfa_recovery_code_account_idx on mfa_recovery_code (account_id);
create table mfa_challenge (
    token_hash bytea primary key,
    account_id uuid not null references account (id) on delete cascade,
    expires_at timestamptz not null,
    used_at timestamptz,
    failures integer not null default 0
);
alter table session add column second_factor_at timestamptz;
