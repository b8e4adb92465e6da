-- Typo correction looks up the closest taxonomy word for each word of `q`. Reading the
-- `search_vocabulary` view recomputes it from the taxonomy on every search; this table
-- holds it, with a trigram index, and statement-level triggers rebuild it (the taxonomy is
-- small and changes rarely) whenever a term is added, renamed or retired.
create table search_word (word text primary key);
create index search_word_trgm_idx on search_word using gist (word gist_trgm_ops);

create function search_words_rebuild() returns trigger
language plpgsql as $$
begin
    delete from search_word;
    insert into search_word select word from search_vocabulary;
    return null;
end;
$$;
create trigger modality_search_words after insert or update or delete or truncate on modality
    for each statement execute function search_words_rebuild();
create trigger specialty_search_words after insert or update or delete or truncate on specialty
    for each statement execute function search_words_rebuild();
create trigger insurer_search_words after insert or update or delete or truncate on insurer
    for each statement execute function search_words_rebuild();

insert into search_word select word from search_vocabulary;
