//! SQL for listings and their parts. Multi-step writes take a connection inside the
//! caller's transaction. Every change to a listing row goes through [`bump_version`], so
//! every change moves its `ETag`.

mod marks;
mod owner;
mod parts;
mod profile;
mod review;

pub use marks::*;
pub use owner::*;
pub use parts::*;
pub use profile::*;
pub use review::*;

use sqlx::{PgConnection, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

use super::lifecycle::{ListingStatus, ListingVersion};
use super::model::{FoundTerms, ListingProfile, TermIds};
use crate::taxonomy::store::{Holder, resolve_slugs};

/// The caller's listing, locked for the rest of the transaction.
#[derive(Debug)]
pub struct LockedListing {
    pub id: Uuid,
    pub version: ListingVersion,
    pub status: ListingStatus,
    pub published_at: Option<OffsetDateTime>,
    pub display_name: String,
    pub credentials: Option<String>,
    pub review_requested_at: Option<OffsetDateTime>,
    /// While suspended: the state the suspension interrupted.
    pub suspended_from: Option<ListingStatus>,
}

impl LockedListing {
    /// Public now, or public again once a suspension is lifted: material edits go to review.
    pub fn publicly_listed(&self) -> bool {
        self.status == ListingStatus::Published
            || self.suspended_from == Some(ListingStatus::Published)
    }
}

/// The listing with this id or of this account (one of them given), locked.
async fn lock(
    conn: &mut PgConnection,
    id: Option<Uuid>,
    account_id: Option<Uuid>,
) -> sqlx::Result<Option<LockedListing>> {
    sqlx::query_as!(
        LockedListing,
        r#"select id, version as "version: ListingVersion", status as "status: ListingStatus",
             published_at, display_name, credentials, review_requested_at,
             suspended_from as "suspended_from: ListingStatus"
         from listing where id = $1 or account_id = $2 for update"#,
        id,
        account_id
    )
    .fetch_optional(conn)
    .await
}

#[tracing::instrument(skip(conn))]
pub async fn lock_by_account(
    conn: &mut PgConnection,
    account_id: Uuid,
) -> sqlx::Result<Option<LockedListing>> {
    lock(conn, None, Some(account_id)).await
}

#[tracing::instrument(skip(conn))]
pub async fn lock_by_id(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<LockedListing>> {
    lock(conn, Some(id), None).await
}

/// The active terms (or ones the listing already has: a retired term stays on listings
/// that had it, but cannot be added) that the profile's slugs name, as (slug, id) per kind
/// in `ListingProfile::term_slugs` order; a slug that names none is missing from its list.
#[tracing::instrument(skip(conn, profile))]
pub async fn find_terms(
    conn: &mut PgConnection,
    listing_id: Uuid,
    profile: &ListingProfile,
) -> sqlx::Result<FoundTerms> {
    let mut found = FoundTerms::default();
    for (ids, (kind, slugs)) in found.iter_mut().zip(profile.term_slugs()) {
        *ids = resolve_slugs(conn, kind, slugs, Holder::Listing(listing_id)).await?;
    }
    Ok(found)
}

/// What changes with a listing's new version.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// A part (office, credential, offering) changed; `request_review` puts the listing in
    /// the admin queue while it stays as it is.
    Parts { request_review: bool },
    /// Every editable field, and the slug while the listing was never published.
    Body {
        profile: &'a ListingProfile,
        new_slug: Option<&'a str>,
        request_review: bool,
    },
    /// The therapist confirmed the listing is current.
    Confirmed { at: OffsetDateTime },
    /// The therapist moved the listing (submit, unpublish).
    Moved { to: ListingStatus },
    /// An admin decided on what was waiting for review; `publish` makes it public now if it
    /// never was.
    Decided {
        to: ListingStatus,
        note: Option<&'a str>,
        publish: bool,
    },
    /// An admin suspended the listing, with the reason the therapist sees. The state it
    /// interrupts is kept, and so is a pending review request.
    Suspended { note: &'a str },
    /// An admin lifted the suspension: back to `to`, the state it interrupted.
    Reinstated { to: ListingStatus },
}

/// Writes one change to the listing row and bumps its version, in one statement (the
/// directory entry is refreshed once per row update, at commit). Returns the new version.
#[tracing::instrument(skip(conn, change))]
pub async fn bump_version(
    conn: &mut PgConnection,
    listing_id: Uuid,
    change: Change<'_>,
) -> sqlx::Result<ListingVersion> {
    let mut update = QueryBuilder::<Postgres>::new("update listing set version = version + 1");
    match change {
        Change::Parts { request_review } => request_review_if(&mut update, request_review),
        Change::Body {
            profile,
            new_slug,
            request_review,
        } => {
            push_profile(&mut update, profile);
            update
                .push(", slug = coalesce(")
                .push_bind(new_slug)
                .push(", slug)");
            request_review_if(&mut update, request_review);
        }
        Change::Confirmed { at } => {
            update
                .push(", last_confirmed_at = ")
                .push_bind(at)
                .push(", stale_at = null, availability_unconfirmed_at = null");
        }
        Change::Moved { to } => {
            update.push(", status = ").push_bind(to);
            if to == ListingStatus::PendingReview {
                update.push(", review_requested_at = now(), submitted_at = now()");
            } else {
                update.push(", review_requested_at = null");
            }
        }
        Change::Decided { to, note, publish } => {
            update
                .push(", status = ")
                .push_bind(to)
                .push(", review_note = ")
                .push_bind(note)
                .push(", review_requested_at = null");
            if publish {
                update.push(
                    ", published_at = coalesce(published_at, now()),
                     last_confirmed_at = coalesce(last_confirmed_at, now())",
                );
            }
        }
        Change::Suspended { note } => {
            // `status` on the right is the row before this update.
            update
                .push(", suspended_from = status, status = 'suspended', review_note = ")
                .push_bind(note);
        }
        Change::Reinstated { to } => {
            update
                .push(", status = ")
                .push_bind(to)
                .push(", suspended_from = null, review_note = null");
        }
    }
    update
        .push(" where id = ")
        .push_bind(listing_id)
        .push(" returning version");
    update.build_query_scalar().fetch_one(conn).await
}

fn request_review_if(update: &mut QueryBuilder<Postgres>, request_review: bool) {
    if request_review {
        update.push(", review_requested_at = coalesce(review_requested_at, now())");
    }
}

/// Writes the listing's editable fields (a [`Change::Body`]) and its taxonomy links.
pub async fn write_listing(
    conn: &mut PgConnection,
    listing_id: Uuid,
    change: Change<'_>,
    terms: &TermIds,
) -> sqlx::Result<ListingVersion> {
    let version = bump_version(conn, listing_id, change).await?;
    write_terms(conn, listing_id, terms).await?;
    Ok(version)
}

/// Replaces the listing's taxonomy links with `terms`.
#[tracing::instrument(skip(conn, terms))]
pub async fn write_terms(
    conn: &mut PgConnection,
    listing_id: Uuid,
    terms: &TermIds,
) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from listing_modality where listing_id = $1",
        listing_id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "delete from listing_specialty where listing_id = $1",
        listing_id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "delete from listing_insurer where listing_id = $1",
        listing_id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "insert into listing_modality (listing_id, modality_id) select $1, unnest($2::int[])",
        listing_id,
        &terms.modalities
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "insert into listing_insurer (listing_id, insurer_id) select $1, unnest($2::int[])",
        listing_id,
        &terms.insurers
    )
    .execute(&mut *conn)
    .await?;
    let (ids, tops): (Vec<i32>, Vec<bool>) = terms.specialties.iter().copied().unzip();
    sqlx::query!("insert into listing_specialty (listing_id, specialty_id, is_top) select $1, * from unnest($2::int[], $3::bool[])", listing_id, &ids, &tops)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The draft listing of a therapist who has just signed up, under a free slug for their
/// name (taken the way a rename takes one, so the two cannot claim the same slug at once).
pub async fn create_draft(
    conn: &mut PgConnection,
    account_id: Uuid,
    display_name: &str,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    let slug = free_slug(conn, id, display_name).await?;
    sqlx::query!(
        "insert into listing (id, account_id, slug, display_name) values ($1, $2, $3, $4)",
        id,
        account_id,
        &slug,
        display_name
    )
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// A free slug for `display_name` (used until the listing is first published).
#[tracing::instrument(skip(conn))]
pub async fn free_slug(
    conn: &mut PgConnection,
    listing_id: Uuid,
    display_name: &str,
) -> sqlx::Result<String> {
    let base = crate::domain::slugify(display_name);
    // Two listings renamed alike at once would both find the slug free and the second
    // commit would break the unique slug: whoever asks second waits for the first to commit
    // and then sees its slug taken.
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtext('listing.slug:' || $1))",
        &base
    )
    .execute(&mut *conn)
    .await?;
    for attempt in 0..8 {
        let candidate = if attempt == 0 {
            base.clone()
        } else {
            format!("{base}-{:04x}", rand::random::<u16>())
        };
        let taken: bool = sqlx::query_scalar!(
            "select exists (select 1 from listing where slug = $1 and id <> $2) as \"taken!\"",
            &candidate,
            listing_id
        )
        .fetch_one(&mut *conn)
        .await?;
        if !taken {
            return Ok(candidate);
        }
    }
    Err(sqlx::Error::Protocol("could not find a free slug".into()))
}

/// Returns the listing's verified licenses to `unverified` (its name or credentials changed).
#[tracing::instrument(skip(conn))]
pub async fn unverify_licenses(conn: &mut PgConnection, listing_id: Uuid) -> sqlx::Result<u64> {
    Ok(sqlx::query!("update license set verification_status = 'unverified', verified_at = null, verified_by = null
         where listing_id = $1 and verification_status = 'verified'", listing_id)
    .execute(conn)
    .await?
    .rows_affected())
}
