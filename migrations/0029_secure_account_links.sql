-- A notice that a second factor was turned on or off carries a link (7 days, single use)
-- with which the owner takes the account back: the factor goes, every session ends and a
-- new password is set.
alter type email_token_purpose add value if not exists 'secure_account';
