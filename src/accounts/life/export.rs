//! `GET /v1/me/export`: everything stored about the account as one JSON document, without
//! any hash, token or secret (password hash, refresh tokens, email links, the second
//! factor's secret and recovery codes stay out).

use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::store::{self, SessionRecord};
use crate::accounts::model::Me;
use crate::accounts::store::AccountRow;
use crate::audit::store::AuditRecord;
use crate::inquiries::model::Inquiry;
use crate::listings::view::MyListing;
use crate::photos::media::Media;
use crate::photos::model::MyPhoto;
use crate::stats::model::ListingDay;

/// Everything the directory stores about an account.
#[derive(Serialize, ToSchema)]
pub struct AccountExport {
    #[serde(with = "time::serde::rfc3339")]
    pub exported_at: OffsetDateTime,
    pub account: Me,
    /// Whether two-step sign-in is on (its secret is not exported).
    pub second_factor: bool,
    /// The listing as its owner edits it; null for an admin account.
    #[schema(required = true)]
    pub listing: Option<MyListing>,
    /// The listing's photos: the approved one and any other, with their URLs.
    pub photos: Vec<MyPhoto>,
    /// Every inquiry the listing received, archived ones included, newest first.
    pub inquiries: Vec<Inquiry>,
    /// Every session, newest first.
    pub sessions: Vec<SessionRecord>,
    /// The audit entries the account made or that are about it or its listing, oldest
    /// first. Another party's network address (a failed sign-in to this account from
    /// elsewhere) is left out.
    pub audit: Vec<AuditRecord>,
    /// The listing's statistics, every stored day (kept 400 days), oldest first.
    pub statistics: Vec<ListingDay>,
}

pub async fn gather(
    conn: &mut PgConnection,
    media: &Media,
    account: AccountRow,
    now: OffsetDateTime,
) -> sqlx::Result<AccountExport> {
    let id = account.id;
    let listing = crate::listings::store::my_listing(&mut *conn, id).await?;
    let listing_id = listing.as_ref().map(|l| l.id);
    let photos = match listing_id {
        Some(listing) => crate::photos::store::all_of(conn, listing)
            .await?
            .into_iter()
            .map(|p| crate::photos::routes::my_photo(media, p))
            .collect(),
        None => Vec::new(),
    };
    let mut audit = crate::audit::store::about(&mut *conn, id, listing_id).await?;
    for entry in &mut audit {
        if entry.actor_id != Some(id) {
            entry.client_ip = None;
        }
    }
    Ok(AccountExport {
        exported_at: now,
        second_factor: crate::accounts::mfa::store::enabled(&mut *conn, id).await?,
        listing,
        photos,
        inquiries: crate::inquiries::store::all_mine(&mut *conn, id).await?,
        sessions: store::sessions(&mut *conn, id).await?,
        audit,
        statistics: crate::stats::store::all_listing_days(&mut *conn, id).await?,
        account: Me::from(account),
    })
}
