-- A message carrying a one-time link (an address verification, a password reset) is kept
-- sealed under a key derived from the master secret until it is delivered: a copy of the
-- database taken meanwhile holds no link that works. Such a message's body_text is empty.
alter table outbox_email add column body_sealed bytea;
alter table outbox_email add constraint outbox_email_sealed_has_no_text
    check (body_sealed is null or body_text = '');
