//! SQL for the taxonomy tables.

use sqlx::PgExecutor;

use super::{Insurer, Modality, Specialty};
use crate::domain::vocab::{SpecialtyCategory, Vocabulary};

#[tracing::instrument(skip(db))]
pub async fn active_modalities(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Modality>> {
    sqlx::query_as(
        "select slug, name, description from modality where retired_at is null order by name",
    )
    .fetch_all(db)
    .await
}

#[tracing::instrument(skip(db))]
pub async fn active_specialties(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Specialty>> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "select slug, name, category::text, description from specialty
         where retired_at is null order by name",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(slug, name, category, description)| {
            Some(Specialty {
                category: SpecialtyCategory::parse(&category)?,
                slug,
                name,
                description,
            })
        })
        .collect())
}

#[tracing::instrument(skip(db))]
pub async fn active_insurers(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Insurer>> {
    sqlx::query_as("select slug, name from insurer where retired_at is null order by name")
        .fetch_all(db)
        .await
}
