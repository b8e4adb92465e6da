-- The outbox worker claims messages with a lease instead of holding them in a transaction
-- while it talks to the mail server (`locked_until`), and a message that carries a one-time
-- secret (a sign-in link) is thrown away unsent once the secret has expired
-- (`discard_after`); once delivered, its body is emptied at once.
alter table outbox_email
    add column locked_until timestamptz,
    add column discard_after timestamptz;

-- Links already delivered before this change are emptied now.
update outbox_email set body_text = ''
where sent_at is not null and body_text like '%token=%';
