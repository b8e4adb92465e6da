-- Spanish names of the taxonomy's terms: shown to `Accept-Language: es` (taxonomy lists,
-- facets, suggestions) and read by search, so `ansiedad` or `terapia de pareja` find what
-- their English names find. Null falls back to the English name (insurers are brand names,
-- the same in Spanish). Admins set them with `name_es` on create and update.
alter table modality add column name_es text check (name_es is null or length(name_es) between 1 and 120);
alter table specialty add column name_es text check (name_es is null or length(name_es) between 1 and 120);
alter table insurer add column name_es text check (name_es is null or length(name_es) between 1 and 120);

update modality m set name_es = v.name_es from (values
    ('imago', 'Terapia de Relación Imago'),
    ('cbt', 'Terapia Cognitivo-Conductual (TCC)'),
    ('dbt', 'Terapia Dialéctica Conductual (TDC)'),
    ('act', 'Terapia de Aceptación y Compromiso (ACT)'),
    ('emdr', 'Desensibilización y Reprocesamiento por Movimientos Oculares (EMDR)'),
    ('art-therapy', 'Arteterapia'),
    ('aba', 'Análisis Conductual Aplicado (ABA)'),
    ('exposure-response-prevention', 'Exposición con Prevención de Respuesta (EPR)'),
    ('group-therapy', 'Terapia de Grupo'),
    ('hypnotherapy', 'Hipnoterapia'),
    ('motivational-interviewing', 'Entrevista Motivacional'),
    ('person-centered', 'Terapia Centrada en la Persona'),
    ('rebt', 'Terapia Racional Emotiva Conductual (TREC)'),
    ('sex-therapy', 'Terapia Sexual'),
    ('psychotherapy', 'Psicoterapia'),
    ('gottman', 'Método Gottman'),
    ('eft', 'Terapia Focalizada en las Emociones (TFE)'),
    ('psychodynamic', 'Terapia Psicodinámica'),
    ('family-systems', 'Terapia Familiar Sistémica'),
    ('mindfulness-based', 'Terapia Basada en Mindfulness'),
    ('solution-focused', 'Terapia Breve Centrada en Soluciones'),
    ('play-therapy', 'Terapia de Juego'),
    ('life-coaching', 'Coaching de Vida'),
    ('faith-based', 'Consejería Basada en la Fe')
) v(slug, name_es) where m.slug = v.slug;

update specialty s set name_es = v.name_es from (values
    ('anxiety', 'Ansiedad'),
    ('depression', 'Depresión'),
    ('bipolar-disorder', 'Trastorno Bipolar'),
    ('adhd', 'TDAH'),
    ('addiction', 'Adicciones'),
    ('behavioral-addictions', 'Adicciones Conductuales'),
    ('eating-disorders', 'Trastornos de la Conducta Alimentaria'),
    ('personality-disorders', 'Trastornos de la Personalidad'),
    ('ocd', 'TOC y TOCP'),
    ('trauma-ptsd', 'Trauma y TEPT'),
    ('childhood-trauma', 'Trauma Infantil'),
    ('sexual-disorders', 'Problemas Sexuales'),
    ('gender-dysphoria', 'Identidad de Género y Disforia'),
    ('lgbtq-issues', 'Temas LGBTQ+'),
    ('schizophrenia', 'Esquizofrenia y Psicosis'),
    ('grief', 'Duelo y Pérdida'),
    ('relationship-issues', 'Problemas de Pareja y Relaciones'),
    ('infidelity', 'Infidelidad'),
    ('premarital', 'Consejería Prematrimonial'),
    ('parenting', 'Crianza'),
    ('family-conflict', 'Conflictos Familiares'),
    ('divorce', 'Divorcio y Separación'),
    ('open-relationships', 'Relaciones Abiertas y No Monogamia'),
    ('workplace-stress', 'Estrés Laboral'),
    ('life-transitions', 'Transiciones de Vida'),
    ('self-esteem', 'Autoestima'),
    ('anger-management', 'Manejo de la Ira'),
    ('insomnia', 'Insomnio y Sueño'),
    ('chronic-illness', 'Enfermedad Crónica y Dolor'),
    ('intimacy', 'Intimidad y Conexión')
) v(slug, name_es) where s.slug = v.slug;
