-- The maintenance pass deletes sign-in records that can no longer change an answer
-- (sessions ended 30 days ago with their refresh tokens, expired email links and MFA
-- challenges, spent throttle counts). These indexes let it find them without reading
-- every row on each pass.
create index session_ended_idx on session (coalesce(revoked_at, expires_at));
create index email_token_expires_idx on email_token (expires_at);
create index mfa_challenge_expires_idx on mfa_challenge (expires_at);
create index login_throttle_last_failure_idx on login_throttle (last_failure_at);
create index login_daily_failure_window_idx on login_daily_failure (window_start)
    where reset_required_at is null;
