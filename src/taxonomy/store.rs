//! SQL for the taxonomy tables: the public lists, the admin's management of terms, and
//! the one slug-to-id lookup every other feature uses.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::{AdminTerm, Insurer, Kind, Modality, Specialty};
use crate::domain::vocab::{SpecialtyCategory, Vocabulary};

#[tracing::instrument(skip(db))]
pub async fn active_modalities(
    db: impl PgExecutor<'_>,
    spanish: bool,
) -> sqlx::Result<Vec<Modality>> {
    sqlx::query_as!(
        Modality,
        r#"select slug, case when $1 then coalesce(name_es, name) else name end as "name!",
                description
         from modality where retired_at is null order by 2"#,
        spanish
    )
    .fetch_all(db)
    .await
}

#[tracing::instrument(skip(db))]
pub async fn active_specialties(
    db: impl PgExecutor<'_>,
    spanish: bool,
) -> sqlx::Result<Vec<Specialty>> {
    sqlx::query_as!(
        Specialty,
        r#"select slug, case when $1 then coalesce(name_es, name) else name end as "name!",
                category as "category: SpecialtyCategory", description
         from specialty where retired_at is null order by 2"#,
        spanish
    )
    .fetch_all(db)
    .await
}

#[tracing::instrument(skip(db))]
pub async fn active_insurers(db: impl PgExecutor<'_>, spanish: bool) -> sqlx::Result<Vec<Insurer>> {
    sqlx::query_as!(
        Insurer,
        r#"select slug, case when $1 then coalesce(name_es, name) else name end as "name!"
         from insurer where retired_at is null order by 2"#,
        spanish
    )
    .fetch_all(db)
    .await
}

/// Who may keep a retired term: a slug must name an active term, or one the holder already
/// has (a retired term stays where it is, but cannot be added).
#[derive(Debug, Clone, Copy)]
pub enum Holder {
    Listing(Uuid),
    /// A certification's modality; `None` for a new certification.
    Certification(Option<Uuid>),
}

/// The ids of `slugs` of `kind`, one `(slug, id)` per distinct slug found; a slug without
/// a row is unknown (or retired and not the holder's).
#[tracing::instrument(skip(conn, slugs))]
pub async fn resolve_slugs(
    conn: &mut PgConnection,
    kind: Kind,
    slugs: &[String],
    holder: Holder,
) -> sqlx::Result<Vec<(String, i32)>> {
    let (held, holder_id) = match holder {
        Holder::Listing(id) => {
            let (join, column) = match kind {
                Kind::Modality => ("listing_modality", "modality_id"),
                Kind::Specialty => ("listing_specialty", "specialty_id"),
                Kind::Insurer => ("listing_insurer", "insurer_id"),
            };
            (
                format!("select {column} from {join} where listing_id = $2"),
                Some(id),
            )
        }
        Holder::Certification(id) => (
            "select modality_id from certification where id = $2".to_owned(),
            id,
        ),
    };
    let sql = format!(
        "select slug, id from {} where slug = any($1) and (retired_at is null or id in ({held}))",
        kind.table()
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(slugs)
        .bind(holder_id)
        .fetch_all(conn)
        .await
}

/// How many listings (and certifications) use the term.
fn usage_sql(kind: Kind) -> &'static str {
    match kind {
        Kind::Modality => {
            "(select count(*) from listing_modality where modality_id = t.id)
             + (select count(*) from certification where modality_id = t.id)"
        }
        Kind::Specialty => "(select count(*) from listing_specialty where specialty_id = t.id)",
        Kind::Insurer => "(select count(*) from listing_insurer where insurer_id = t.id)",
    }
}

/// Terms of `kind`, all of them or the one with slug `$1`.
fn terms_sql(kind: Kind) -> String {
    let (description, category) = match kind {
        Kind::Modality => ("t.description", "null::text"),
        Kind::Specialty => ("t.description", "t.category::text"),
        Kind::Insurer => ("null::text", "null::text"),
    };
    format!(
        "select t.slug, t.name, t.name_es, {description} as description, {category} as category,
                t.retired_at is not null as retired, {} as in_use
         from {} t where ($1::text is null or t.slug = $1) order by t.name",
        usage_sql(kind),
        kind.table()
    )
}

/// Every term of `kind`, retired ones included, with its usage.
#[tracing::instrument(skip(db))]
pub async fn admin_terms(db: impl PgExecutor<'_>, kind: Kind) -> sqlx::Result<Vec<AdminTerm>> {
    sqlx::query_as(sqlx::AssertSqlSafe(terms_sql(kind)))
        .bind(None::<String>)
        .fetch_all(db)
        .await
}

#[tracing::instrument(skip(db))]
pub async fn admin_term(
    db: impl PgExecutor<'_>,
    kind: Kind,
    slug: &str,
) -> sqlx::Result<Option<AdminTerm>> {
    sqlx::query_as(sqlx::AssertSqlSafe(terms_sql(kind)))
        .bind(slug)
        .fetch_optional(db)
        .await
}

/// A new term's fields; `description` and `category` only where the kind has them.
#[derive(Debug)]
pub struct NewTerm<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub name_es: Option<&'a str>,
    pub description: Option<&'a str>,
    pub category: Option<SpecialtyCategory>,
}

#[tracing::instrument(skip(conn))]
pub async fn insert_term(
    conn: &mut PgConnection,
    kind: Kind,
    term: &NewTerm<'_>,
) -> sqlx::Result<()> {
    let sql = match kind {
        Kind::Modality => {
            "insert into modality (slug, name, description, name_es) values ($1, $2, coalesce($3, ''), $5)"
        }
        Kind::Specialty => {
            "insert into specialty (slug, name, description, category, name_es) values ($1, $2, coalesce($3, ''), $4::specialty_category, $5)"
        }
        Kind::Insurer => "insert into insurer (slug, name, name_es) values ($1, $2, $5)",
    };
    sqlx::query(sql)
        .bind(term.slug)
        .bind(term.name)
        .bind(term.description)
        .bind(term.category.map(|c| c.as_str()))
        .bind(term.name_es)
        .execute(conn)
        .await?;
    Ok(())
}

/// Changes to a term; `None` leaves a field as it is. `retired: Some(true)` retires it.
#[derive(Debug)]
pub struct TermChange<'a> {
    pub name: Option<&'a str>,
    pub name_es: Option<&'a str>,
    pub description: Option<&'a str>,
    pub category: Option<SpecialtyCategory>,
    pub retired: Option<bool>,
}

/// Applies `change` to the term with `slug`; false when there is none.
#[tracing::instrument(skip(conn))]
pub async fn update_term(
    conn: &mut PgConnection,
    kind: Kind,
    slug: &str,
    change: &TermChange<'_>,
) -> sqlx::Result<bool> {
    let sql = format!(
        "update {} set name = coalesce($2, name), name_es = coalesce($6, name_es),
             {}
             retired_at = case when $4::bool is null then retired_at when $4 then coalesce(retired_at, now()) else null end
         where slug = $1",
        kind.table(),
        match kind {
            Kind::Modality => "description = coalesce($3, description), ",
            Kind::Specialty => "description = coalesce($3, description), category = coalesce($5::specialty_category, category), ",
            Kind::Insurer => "",
        }
    );
    let updated = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(slug)
        .bind(change.name)
        .bind(change.description)
        .bind(change.retired)
        .bind(change.category.map(|c| c.as_str()))
        .bind(change.name_es)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(updated > 0)
}

/// Deletes the term with `slug`; false when there is none. A term in use fails with a
/// foreign key violation.
#[tracing::instrument(skip(conn))]
pub async fn delete_term(conn: &mut PgConnection, kind: Kind, slug: &str) -> sqlx::Result<bool> {
    let sql = format!("delete from {} where slug = $1", kind.table());
    let deleted = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(slug)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(deleted > 0)
}
