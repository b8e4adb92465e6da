-- A random id of this database's change feed, written once. An API process keeps a
-- snapshot of its search index beside its data and uses it at the next start only if the
-- snapshot names this epoch (and the database's name): a snapshot of another database,
-- or of a database recreated from scratch, is never served.
create table directory_feed_epoch (
    singleton boolean primary key default true check (singleton),
    epoch uuid not null default gen_random_uuid()
);
insert into directory_feed_epoch default values;

-- The service reads the epoch and never changes it.
revoke insert, update, delete, truncate on directory_feed_epoch from directory_service;
