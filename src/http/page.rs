//! One page of a cursor-paginated list: `{"items": [...], "next_cursor": "…" or null}`.

use serde::Serialize;
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

/// A page of results: `next_cursor` is null on the last page.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
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
