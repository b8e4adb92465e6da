-- The account's own life (issue 31).

-- The admin summary counts credentials waiting for a decision without reading the others.
create index license_unverified_idx on license (id) where verification_status = 'unverified';
create index certification_unverified_idx on certification (id) where verification_status = 'unverified';
