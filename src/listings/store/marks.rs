//! Marks the directory sets on published listings by itself, not their therapist: a
//! confirmation reminder, staleness, and availability questioned by reports.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// A listing a mark was just set on, with what it takes to tell its therapist.
#[derive(Debug)]
pub struct MarkedListing {
    pub id: Uuid,
    /// The therapist's sign-in address.
    pub email: String,
    pub is_demo: bool,
    pub display_name: String,
}

/// The marks a long-unconfirmed listing gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unconfirmed {
    /// Unconfirmed a while, and not reminded since the last confirmation.
    Reminded,
    /// Unconfirmed longer: out of default search (the listing trigger rebuilds the directory
    /// entry at commit).
    Stale,
}

/// Sets `mark` at `now` on up to `limit` published listings last confirmed before
/// `confirmed_before` that do not have it yet, oldest confirmation first (rows another pass
/// holds are skipped); the listings marked.
pub async fn mark_unconfirmed(
    conn: &mut PgConnection,
    mark: Unconfirmed,
    now: OffsetDateTime,
    confirmed_before: OffsetDateTime,
    limit: i64,
) -> sqlx::Result<Vec<MarkedListing>> {
    match mark {
        Unconfirmed::Reminded => {
            sqlx::query_as!(
                MarkedListing,
                r#"update listing l set confirm_reminder_sent_at = $1
                 from account a
                 where l.id in (
                         select id from listing where status = 'published'
                           and last_confirmed_at < $2 and stale_at is null
                           and (confirm_reminder_sent_at is null
                                or confirm_reminder_sent_at < last_confirmed_at)
                         order by last_confirmed_at limit $3 for update skip locked)
                   and a.id = l.account_id
                 returning l.id, a.email::text as "email!", a.is_demo, l.display_name"#,
                now,
                confirmed_before,
                limit
            )
            .fetch_all(conn)
            .await
        }
        Unconfirmed::Stale => {
            sqlx::query_as!(
                MarkedListing,
                r#"update listing l set stale_at = $1
                 from account a
                 where l.id in (
                         select id from listing where status = 'published'
                           and last_confirmed_at < $2 and stale_at is null
                         order by last_confirmed_at limit $3 for update skip locked)
                   and a.id = l.account_id
                 returning l.id, a.email::text as "email!", a.is_demo, l.display_name"#,
                now,
                confirmed_before,
                limit
            )
            .fetch_all(conn)
            .await
        }
    }
}

/// Marks the listing's availability unconfirmed at `now`, unless it already is; the
/// listing when this marked it.
pub async fn mark_availability_unconfirmed(
    conn: &mut PgConnection,
    listing_id: Uuid,
    now: OffsetDateTime,
) -> sqlx::Result<Option<MarkedListing>> {
    sqlx::query_as!(
        MarkedListing,
        r#"update listing l set availability_unconfirmed_at = $2
         from account a
         where l.id = $1 and a.id = l.account_id and l.availability_unconfirmed_at is null
         returning l.id, a.email::text as "email!", a.is_demo, l.display_name"#,
        listing_id,
        now
    )
    .fetch_optional(conn)
    .await
}
