//! Credential verification: an admin marks a license or certification verified or
//! rejected, with a note, against the listing as reviewed (`If-Match`).

use actix_web::{HttpRequest, post, web};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::listings::{
    AdminListing, ReviewedVersion, admin_response, admin_view, lock, require_reviewed_version,
};
use crate::audit::AuditEntry;
use crate::auth::AdminUser;
use crate::domain::at_most;
use crate::error::ApiError;
use crate::http::{Db, Json, Reply};
pub use crate::listings::store::ListingSummary;
use crate::listings::store::{self as listing_store, Change, Part};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// `verified` or `rejected`.
    status: VerifyStatus,
    /// Shown to the therapist; kept in the audit log.
    #[schema(max_length = 1000)]
    note: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerifyStatus {
    Verified,
    Rejected,
}

async fn verify_credential(
    req: HttpRequest,
    admin: AdminUser,
    pool: Db,
    part: Part,
    id: Uuid,
    body: VerifyBody,
) -> Reply {
    if let Some(note) = &body.note {
        at_most(note, 1000).map_err(|e| e.at("note"))?;
    }
    let status = match body.status {
        VerifyStatus::Verified => "verified",
        VerifyStatus::Rejected => "rejected",
    };
    let note = body
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let mut tx = pool.begin().await?;
    // The decision is about the listing as the admin saw it: lock it and compare versions
    // before changing the credential.
    let owner = listing_store::credential_listing(&mut *tx, part, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let locked = lock(&mut tx, owner).await?;
    require_reviewed_version(&req, &locked)?;
    let listing_id =
        listing_store::set_verification(&mut tx, part, id, status, note, admin.0.account_id)
            .await?
            .ok_or_else(ApiError::not_found)?;
    let change = Change::Parts {
        request_review: false,
    };
    listing_store::bump_version(&mut tx, listing_id, change).await?;
    let action = format!("{}.{status}", part.table());
    AuditEntry::new(admin.0.actor(), &action)
        .target(part.table(), id)
        .details(json!({ "listing_id": listing_id, "note": body.note }))
        .record(&mut tx)
        .await?;
    let view = admin_view(&mut tx, listing_id).await?;
    tx.commit().await?;
    Ok(admin_response(&view))
}

/// Marks a license `verified` or `rejected`, with a note. The public profile shows licenses
/// with their status and hides rejected ones.
#[utoipa::path(
    operation_id = "admin_verify_license",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ReviewedVersion),
    request_body = VerifyBody,
    responses(
        (status = 200, body = AdminListing),
    )
)]
#[post("/admin/licenses/{id}/verify")]
pub async fn verify_license(
    req: HttpRequest,
    admin: AdminUser,
    pool: Db,
    id: web::Path<Uuid>,
    body: Json<VerifyBody>,
) -> Reply {
    verify_credential(req, admin, pool, Part::License, id.into_inner(), body.0).await
}

/// Marks a certification `verified` or `rejected`, with a note. Only verified
/// certifications appear on the public profile.
#[utoipa::path(
    operation_id = "admin_verify_certification",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ReviewedVersion),
    request_body = VerifyBody,
    responses(
        (status = 200, body = AdminListing),
    )
)]
#[post("/admin/certifications/{id}/verify")]
pub async fn verify_certification(
    req: HttpRequest,
    admin: AdminUser,
    pool: Db,
    id: web::Path<Uuid>,
    body: Json<VerifyBody>,
) -> Reply {
    let part = Part::Certification;
    verify_credential(req, admin, pool, part, id.into_inner(), body.0).await
}
