-- Accounts' security state: sessions (refresh-token families), single-use email tokens,
-- login throttling and per-client rate limits (in PostgreSQL so they hold across replicas),
-- the append-only audit log, and the transactional email outbox.

-- A session is one refresh-token family: created at login, rotated on every refresh,
-- revoked as a whole on logout, reuse, password change/reset or suspension.
create table session (
    id uuid primary key,
    account_id uuid not null references account (id) on delete cascade,
    created_at timestamptz not null default now(),
    -- Absolute lifetime: a session never outlives this, however often it is refreshed.
    expires_at timestamptz not null,
    revoked_at timestamptz,
    revoked_reason text,
    constraint session_revoked_reason_value check (revoked_reason in
        ('logout', 'reuse_detected', 'password_changed', 'password_reset', 'account_suspended'))
);
create index session_account_idx on session (account_id) where revoked_at is null;

create table refresh_token (
    token_hash bytea primary key,
    session_id uuid not null references session (id) on delete cascade,
    created_at timestamptz not null default now(),
    -- Idle lifetime: unused for this long, the token dies.
    expires_at timestamptz not null,
    -- Set when the token is exchanged for a new one; presenting it again is reuse.
    used_at timestamptz,
    constraint refresh_token_hash_length check (length(token_hash) = 32)
);
create index refresh_token_session_idx on refresh_token (session_id);

create type email_token_purpose as enum ('verify_email', 'reset_password');

-- Only SHA-256 hashes are stored; the token itself exists only in the email.
create table email_token (
    token_hash bytea primary key,
    account_id uuid not null references account (id) on delete cascade,
    purpose email_token_purpose not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at timestamptz,
    constraint email_token_hash_length check (length(token_hash) = 32)
);
create index email_token_account_idx on email_token (account_id, purpose);

-- Consecutive failed sign-ins per email address (hashed, so unknown addresses are not
-- stored in clear). Keyed by address rather than account so that a locked-out address
-- behaves the same whether or not an account exists.
create table login_throttle (
    email_key bytea primary key,
    failures integer not null default 0,
    last_failure_at timestamptz not null default now(),
    locked_until timestamptz,
    constraint login_throttle_failures_nonnegative check (failures >= 0)
);

-- Fixed-window counters per (bucket, client key).
create table rate_limit_hit (
    bucket text not null,
    client_key text not null,
    window_start timestamptz not null,
    hits integer not null,
    primary key (bucket, client_key, window_start)
);
create index rate_limit_hit_window_idx on rate_limit_hit (window_start);

-- Every admin and security-relevant action. Append-only: the trigger below refuses any
-- UPDATE, DELETE or TRUNCATE, whoever asks. No foreign keys, so history outlives accounts.
create table audit_log (
    id uuid primary key,
    occurred_at timestamptz not null default now(),
    actor_id uuid,
    actor_role text,
    action text not null,
    target_type text,
    target_id uuid,
    client_ip inet,
    details jsonb not null default '{}',
    constraint audit_log_action_format check (action ~ '^[a-z_]+(\.[a-z_]+)+$' and length(action) <= 80),
    constraint audit_log_actor_role_value check (actor_role in ('therapist', 'admin', 'system'))
);
create index audit_log_occurred_idx on audit_log (occurred_at, id);
create index audit_log_actor_idx on audit_log (actor_id, occurred_at);
create index audit_log_target_idx on audit_log (target_id, occurred_at);
create index audit_log_action_idx on audit_log (action, occurred_at);

create function refuse_audit_log_change() returns trigger
language plpgsql as $$
begin
    raise exception 'the audit log is append-only'
        using errcode = 'insufficient_privilege';
end;
$$;
create trigger audit_log_append_only before update or delete on audit_log
    for each row execute function refuse_audit_log_change();
create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function refuse_audit_log_change();

-- Transactional outbox: written in the same transaction as the change that causes the
-- email; a background worker delivers it with retries, so a mail outage loses nothing.
create table outbox_email (
    id uuid primary key,
    to_address text not null,
    reply_to text,
    subject text not null,
    body_text text not null,
    created_at timestamptz not null default now(),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    sent_at timestamptz,
    failed_at timestamptz,
    last_error text,
    constraint outbox_email_subject_length check (length(subject) between 1 and 300),
    constraint outbox_email_attempts_nonnegative check (attempts >= 0)
);
create index outbox_email_due_idx on outbox_email (next_attempt_at)
    where sent_at is null and failed_at is null;
