//! A listing's states and the moves between them, the rule for when it is complete enough
//! to submit, and its version (the `ETag` both therapists and admins send back).

use super::view::MyListing;
use crate::domain::vocab::Vocabulary;
use crate::error::FieldCode;
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::http::etag::EntityTag;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A statement shorter than this cannot be submitted.
pub const MIN_STATEMENT_CHARS: usize = 100;

/// Defined with the other vocabularies (its wire names and schema live there); the moves
/// between its states are here.
pub use crate::domain::vocab::ListingStatus;

/// What a therapist or an admin asks of a listing's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Submit,
    Unpublish,
    Confirm,
    Approve,
    Reject,
    Suspend,
    Reinstate,
}

impl Move {
    /// The past participle the refusal names.
    fn verb(self) -> &'static str {
        match self {
            Move::Submit => "submitted",
            Move::Unpublish => "unpublished",
            Move::Confirm => "confirmed",
            Move::Approve => "approved",
            Move::Reject => "rejected",
            Move::Suspend => "suspended again",
            Move::Reinstate => "reinstated",
        }
    }

    /// The audit log's name for the move.
    pub fn audit_action(self) -> &'static str {
        match self {
            Move::Submit => "listing.submitted",
            Move::Unpublish => "listing.unpublished",
            Move::Confirm => "listing.confirmed",
            Move::Approve => "listing.approved",
            Move::Reject => "listing.rejected",
            Move::Suspend => "listing.suspended",
            Move::Reinstate => "listing.reinstated",
        }
    }
}

/// 409 `invalid_state`: `from` does not allow `attempted`, and nothing changed. The
/// therapist's routes and the admin's phrase it differently and clients may show the text,
/// so each side keeps its wording.
pub fn invalid_state(from: ListingStatus, attempted: Move) -> ApiError {
    let (status, verb) = (from.as_str(), attempted.verb());
    let detail = match attempted {
        Move::Submit | Move::Unpublish | Move::Confirm => {
            format!("A listing that is {status} cannot be {verb}.")
        }
        Move::Approve | Move::Reject | Move::Suspend | Move::Reinstate => {
            format!("A {status} listing cannot be {verb}.")
        }
    };
    ApiError::new(ErrorCode::InvalidState, detail)
}

impl ListingStatus {
    fn refuse(self, attempted: Move) -> Result<ListingStatus, ApiError> {
        Err(invalid_state(self, attempted))
    }

    /// The therapist sends the listing for review.
    pub fn submit(self) -> Result<ListingStatus, ApiError> {
        match self {
            ListingStatus::Draft | ListingStatus::Rejected | ListingStatus::Unpublished => {
                Ok(ListingStatus::PendingReview)
            }
            _ => self.refuse(Move::Submit),
        }
    }

    /// The therapist hides a published listing.
    pub fn unpublish(self) -> Result<ListingStatus, ApiError> {
        match self {
            ListingStatus::Published => Ok(ListingStatus::Unpublished),
            _ => self.refuse(Move::Unpublish),
        }
    }

    /// The therapist confirms the listing is current; the state stays.
    pub fn confirm(self) -> Result<ListingStatus, ApiError> {
        match self {
            ListingStatus::Suspended => self.refuse(Move::Confirm),
            _ => Ok(self),
        }
    }

    /// An admin publishes a listing waiting for review, or accepts the material edits of a
    /// published one (`review_requested`).
    pub fn approve(self, review_requested: bool) -> Result<ListingStatus, ApiError> {
        match self {
            ListingStatus::PendingReview => Ok(ListingStatus::Published),
            ListingStatus::Published if review_requested => Ok(ListingStatus::Published),
            _ => self.refuse(Move::Approve),
        }
    }

    pub fn reject(self) -> Result<ListingStatus, ApiError> {
        match self {
            ListingStatus::PendingReview => Ok(ListingStatus::Rejected),
            _ => self.refuse(Move::Reject),
        }
    }

    pub fn suspend(self) -> Result<ListingStatus, ApiError> {
        match self {
            ListingStatus::Suspended => self.refuse(Move::Suspend),
            _ => Ok(ListingStatus::Suspended),
        }
    }

    /// Back to the state the suspension interrupted (`suspended_from`, which the database
    /// keeps for every suspended listing).
    pub fn reinstate(
        self,
        suspended_from: Option<ListingStatus>,
    ) -> Result<ListingStatus, ApiError> {
        match (self, suspended_from) {
            (ListingStatus::Suspended, Some(from)) if from != ListingStatus::Suspended => Ok(from),
            (ListingStatus::Suspended, _) => Ok(ListingStatus::Draft),
            _ => self.refuse(Move::Reinstate),
        }
    }
}

/// The listing's version: every change bumps it, and its `ETag` is derived from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(transparent)]
pub struct ListingVersion(pub i32);

impl ListingVersion {
    /// The tag of this version of `listing`: opaque, and another listing's at the same
    /// version differs (an admin who reviewed one listing cannot decide on another with it).
    pub fn etag(self, listing: Uuid) -> EntityTag {
        let digest = Sha256::new()
            .chain_update(listing.as_bytes())
            .chain_update(self.0.to_be_bytes())
            .finalize();
        EntityTag::strong(crate::hex::hex(&digest[..12]))
    }
}

impl MyListing {
    /// The `ETag` of the listing as read.
    pub fn etag(&self) -> EntityTag {
        ListingVersion(self.version).etag(self.id)
    }
}

/// What a listing still lacks before it can be submitted; empty when complete.
pub fn missing_for_submission(listing: &MyListing) -> Vec<FieldError> {
    let l = &listing.profile;
    let mut missing = Vec::new();
    let mut need = |field: &str, message: &str| {
        missing.push(FieldError::new(field, FieldCode::Missing, message))
    };
    if l.display_name.trim().is_empty() {
        need("display_name", "a display name");
    }
    if l.statement
        .as_deref()
        .map_or(0, |s| s.trim().chars().count())
        < MIN_STATEMENT_CHARS
    {
        need(
            "statement",
            "a statement of at least 100 characters about how you work",
        );
    }
    if l.modalities.is_empty() {
        need("modalities", "at least one modality");
    }
    if l.specialties.is_empty() {
        need("specialties", "at least one specialty");
    }
    if l.fee_min.is_none() && !l.insurance_only {
        need("fee_min", "a fee range, or insurance_only");
    }
    if listing.offices.is_empty() && !l.reachable_remotely() {
        need(
            "offices",
            "an office, or video/phone delivery with telehealth_states",
        );
    }
    if listing.licenses.is_empty() && listing.certifications.is_empty() {
        need("licenses", "at least one license or certification");
    }
    missing
}

/// 422 `listing_incomplete` naming each missing item, when the listing cannot be submitted.
pub fn require_complete(l: &MyListing) -> Result<(), ApiError> {
    let missing = missing_for_submission(l);
    if missing.is_empty() {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::ListingIncomplete,
        format!("{} items are missing; see `errors`.", missing.len()),
    )
    .with_errors(missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_follow_the_review_policy() {
        use ListingStatus::*;
        assert_eq!(Draft.submit().ok(), Some(PendingReview));
        assert!(Published.submit().is_err());
        assert_eq!(Published.unpublish().ok(), Some(Unpublished));
        assert!(Suspended.confirm().is_err());
        assert_eq!(Published.approve(true).ok(), Some(Published));
        assert!(Published.approve(false).is_err());
        assert_eq!(Suspended.reinstate(None).ok(), Some(Draft));
        for from in [Draft, PendingReview, Published, Rejected, Unpublished] {
            assert_eq!(Suspended.reinstate(Some(from)).ok(), Some(from), "{from:?}");
        }
        assert!(Published.reinstate(Some(Published)).is_err());
        assert!(Suspended.suspend().is_err());
    }

    #[test]
    fn refusals_keep_each_side_s_wording() {
        let therapist = invalid_state(ListingStatus::Suspended, Move::Confirm);
        assert!(
            therapist
                .to_string()
                .ends_with("A listing that is suspended cannot be confirmed.")
        );
        let admin = invalid_state(ListingStatus::PendingReview, Move::Reinstate);
        assert!(
            admin
                .to_string()
                .ends_with("A pending_review listing cannot be reinstated.")
        );
    }

    #[test]
    fn etags_name_one_version_of_one_listing() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let tag = ListingVersion(7).etag(a);
        assert_eq!(tag, ListingVersion(7).etag(a));
        assert_ne!(tag, ListingVersion(8).etag(a));
        assert_ne!(tag, ListingVersion(7).etag(b));
        let written = tag.to_string();
        assert!(!written.contains('7') || written.len() == 26, "{written}");
        assert_eq!(written.len(), 26, "24 hex digits, quoted");
    }
}
