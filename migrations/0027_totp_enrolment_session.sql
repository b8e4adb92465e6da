-- A pending enrolment belongs to the session that started it: only that session confirms
-- it, so a second session (a stolen token) racing a new admin's first enrolment cannot
-- take the factor over.
alter table account_totp add column started_session uuid;

-- An operator's reset of a lost second factor ends every session of the account.
alter table session drop constraint session_revoked_reason_value;
alter table session add constraint session_revoked_reason_value check (revoked_reason in
    ('logout', 'reuse_detected', 'password_changed', 'password_reset', 'account_suspended',
     'mfa_reset'));
