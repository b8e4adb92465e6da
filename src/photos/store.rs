//! The SQL of photos: `listing_photo` rows (migration 0034), the review queue, and which
//! stored objects no row refers to any more.

use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::model::{Photo, PhotoStatus};

/// A photo row as the routes use it; `objects` are object names.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredPhoto {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub status: PhotoStatus,
    pub review_note: Option<String>,
    #[sqlx(json)]
    pub objects: Photo,
    pub created_at: OffsetDateTime,
}

const COLUMNS: &str = "id, listing_id, status, review_note, objects, created_at";

/// A photo with the listing it is for, as the queue shows it.
const QUEUED: &str = "select p.id, p.listing_id, p.status, p.review_note, p.objects, p.created_at,
    l.slug as listing_slug, l.display_name
    from listing_photo p join listing l on l.id = p.listing_id";

/// Stores a new upload of `listing_id` for review, replacing the one waiting or rejected
/// (the approved photo stays). Returns the new row and the objects of the one it replaced.
pub async fn add_pending(
    conn: &mut PgConnection,
    listing_id: Uuid,
    objects: &Photo,
) -> sqlx::Result<(StoredPhoto, Option<Photo>)> {
    let replaced: Option<Json<Photo>> = sqlx::query_scalar(
        "delete from listing_photo where listing_id = $1 and status <> 'approved' returning objects",
    )
    .bind(listing_id)
    .fetch_optional(&mut *conn)
    .await?;
    let sql = format!(
        "insert into listing_photo (id, listing_id, status, objects)
         values ($1, $2, 'pending_review', $3) returning {COLUMNS}"
    );
    let added = sqlx::query_as::<_, StoredPhoto>(sqlx::AssertSqlSafe(sql))
        .bind(Uuid::now_v7())
        .bind(listing_id)
        .bind(Json(objects))
        .fetch_one(&mut *conn)
        .await?;
    Ok((added, replaced.map(|j| j.0)))
}

/// The photo the therapist sees: the one waiting or rejected, else the approved one.
pub async fn current(
    conn: &mut PgConnection,
    listing_id: Uuid,
) -> sqlx::Result<Option<StoredPhoto>> {
    let sql = format!(
        "select {COLUMNS} from listing_photo where listing_id = $1
         order by status = 'approved', created_at desc limit 1"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(listing_id)
        .fetch_optional(conn)
        .await
}

/// Every photo of `listing_id` (at most two: the approved one and one other), newest first.
pub async fn all_of(conn: &mut PgConnection, listing_id: Uuid) -> sqlx::Result<Vec<StoredPhoto>> {
    let sql = format!(
        "select {COLUMNS} from listing_photo where listing_id = $1 order by created_at desc"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(listing_id)
        .fetch_all(conn)
        .await
}

/// Deletes every photo of `listing_id`; their objects.
pub async fn delete_all(conn: &mut PgConnection, listing_id: Uuid) -> sqlx::Result<Vec<Photo>> {
    let rows: Vec<Json<Photo>> =
        sqlx::query_scalar("delete from listing_photo where listing_id = $1 returning objects")
            .bind(listing_id)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|j| j.0).collect())
}

/// The photo `id`, locked for a decision.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<StoredPhoto>> {
    let sql = format!("select {COLUMNS} from listing_photo where id = $1 for update");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Approves `photo`, which replaces the listing's approved one; that one's objects.
pub async fn approve(
    conn: &mut PgConnection,
    photo: &StoredPhoto,
    admin: Uuid,
) -> sqlx::Result<Option<Photo>> {
    let replaced: Option<Json<Photo>> = sqlx::query_scalar(
        "delete from listing_photo where listing_id = $1 and status = 'approved' returning objects",
    )
    .bind(photo.listing_id)
    .fetch_optional(&mut *conn)
    .await?;
    decide(conn, photo.id, PhotoStatus::Approved, None, admin).await?;
    Ok(replaced.map(|j| j.0))
}

/// Records a decision on `id`.
pub async fn decide(
    conn: &mut PgConnection,
    id: Uuid,
    status: PhotoStatus,
    note: Option<&str>,
    admin: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "update listing_photo set status = $2, review_note = $3, reviewed_by = $4,
         reviewed_at = now() where id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(note)
    .bind(admin)
    .execute(conn)
    .await?;
    Ok(())
}

/// A photo in the admin's queue, with the listing it is for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueuedPhoto {
    #[sqlx(flatten)]
    pub photo: StoredPhoto,
    pub listing_slug: String,
    pub display_name: String,
}

/// Photos in `status`, oldest first, after `after` (`created_at`, `id`); at most `limit`.
pub async fn queue(
    pool: &PgPool,
    status: PhotoStatus,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<QueuedPhoto>> {
    let (at, id) = after.unzip();
    let sql = format!(
        "{QUEUED} where p.status = $1 and ($2::timestamptz is null or (p.created_at, p.id) > ($2, $3))
         order by p.created_at, p.id limit $4"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(status)
        .bind(at)
        .bind(id)
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// The photo `id` with its listing, as the queue shows it.
pub async fn queue_entry(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<QueuedPhoto>> {
    let sql = format!("{QUEUED} where p.id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Which of `names` no photo row refers to.
pub async fn unreferenced(conn: &mut PgConnection, names: &[String]) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "select n from unnest($1::text[]) n
         where not exists (
             select 1 from listing_photo p
             where p.objects @> jsonb_build_object('w160', n)
                or p.objects @> jsonb_build_object('w400', n)
                or p.objects @> jsonb_build_object('w800', n)
                or p.objects @> jsonb_build_object('jpeg', n))",
    )
    .bind(names)
    .fetch_all(conn)
    .await
}
