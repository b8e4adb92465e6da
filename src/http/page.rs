//! One page of a cursor-paginated list: `{"items": [...], "next_cursor": "…" or null}`, and
//! the keyset query that reads a page of a newest-first list.

use serde::Serialize;
use sqlx::Postgres;
use sqlx::postgres::PgArguments;
use sqlx::query::QueryAs;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::cursor::CursorKey;

/// The position of a newest-first list (ordered by a time, then by id, both descending).
pub type NewestFirst = (OffsetDateTime, Uuid);

/// The verified `cursor` of a newest-first list: where it continues, if anywhere.
pub fn newest_first_after(
    cursors: &CursorKey,
    cursor: Option<&str>,
) -> Result<Option<NewestFirst>, ApiError> {
    cursor.map(|c| cursors.decode(c)).transpose()
}

/// Which page of a newest-first list a request asks for: its length and where it starts.
/// Reading it checks `limit` and then `cursor`; the store binds it to its query.
#[derive(Debug, Clone, Copy)]
pub struct NewestFirstPage {
    pub limit: i64,
    pub after: Option<NewestFirst>,
}

impl NewestFirstPage {
    /// From the `limit` and `cursor` query parameters.
    pub fn read(
        cursors: &CursorKey,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Self, ApiError> {
        let limit = page_limit(limit)?;
        Self::at(cursors, limit, cursor)
    }

    /// As `read`, for a list that checks other parameters between `limit` and `cursor`.
    pub fn at(cursors: &CursorKey, limit: i64, cursor: Option<&str>) -> Result<Self, ApiError> {
        Ok(NewestFirstPage {
            limit,
            after: newest_first_after(cursors, cursor)?,
        })
    }

    /// The condition, order and limit of a keyset page over rows ordered by `time` then
    /// `id` (column names, never input), with the three parameters `bind` adds numbered
    /// from `$first`.
    pub fn sql(time: &str, id: &str, first: usize) -> String {
        let (id_param, limit_param) = (first + 1, first + 2);
        format!(
            "(${first}::timestamptz is null or ({time}, {id}) < (${first}, ${id_param}))
             order by {time} desc, {id} desc
             limit ${limit_param}"
        )
    }

    /// Binds the parameters of `sql`: where the page starts, and one row more than it
    /// holds, so that `Page::newest_first` can tell whether another page follows.
    pub fn bind<'q, O>(
        self,
        query: QueryAs<'q, Postgres, O, PgArguments>,
    ) -> QueryAs<'q, Postgres, O, PgArguments> {
        query
            .bind(self.after.map(|(time, _)| time))
            .bind(self.after.map(|(_, id)| id))
            .bind(self.limit + 1)
    }

    /// The page of `rows` (fetched through `bind`), each row's position given by `key`.
    pub fn page<T>(
        self,
        rows: Vec<T>,
        cursors: &CursorKey,
        key: impl Fn(&T) -> NewestFirst,
    ) -> Page<T> {
        Page::newest_first(rows, self.limit, cursors, key)
    }
}

/// A page of results: `next_cursor` is null on the last page.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `rows` were fetched with `limit + 1`: the extra row only says another page exists.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, cursor: impl Fn(&T) -> String) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more { rows.last().map(cursor) } else { None };
        Page {
            items: rows,
            next_cursor,
        }
    }

    /// As `from_rows`, for a newest-first list whose rows carry their `key`.
    pub fn newest_first(
        rows: Vec<T>,
        limit: i64,
        cursors: &CursorKey,
        key: impl Fn(&T) -> NewestFirst,
    ) -> Self {
        Page::from_rows(rows, limit, |r| cursors.encode(&key(r)))
    }
}

/// `limit`: 1–100, default 20.
pub fn page_limit(limit: Option<u32>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(20),
        Some(n @ 1..=100) => Ok(i64::from(n)),
        Some(_) => Err(ApiError::parameter("limit", "must be between 1 and 100")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keyset_clause_numbers_its_parameters_from_first() {
        let sql = NewestFirstPage::sql("r.created_at", "r.id", 4);
        assert!(sql.starts_with("($4::timestamptz is null or (r.created_at, r.id) < ($4, $5))"));
        assert!(sql.contains("order by r.created_at desc, r.id desc"));
        assert!(sql.ends_with("limit $6"));
    }
}
