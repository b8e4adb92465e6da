//! Reports' types and rules: what the public sends, how admins filter and resolve them.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::{Text, at_most};
use crate::error::ApiError;

pub const DETAILS_MAX: usize = 2000;
/// Distinct clients whose availability reports mark a listing's availability unconfirmed.
pub const AVAILABILITY_REPORTS: i64 = 3;
pub const AVAILABILITY_WINDOW: Duration = Duration::days(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "report_reason", rename_all = "snake_case")]
pub enum ReportReason {
    Unreachable,
    NotAccepting,
    InaccurateInfo,
    NotLicensed,
    Other,
}

impl ReportReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportReason::Unreachable => "unreachable",
            ReportReason::NotAccepting => "not_accepting",
            ReportReason::InaccurateInfo => "inaccurate_info",
            ReportReason::NotLicensed => "not_licensed",
            ReportReason::Other => "other",
        }
    }

    /// Reasons that, from enough clients, put the listing's availability in doubt.
    pub fn questions_availability(self) -> bool {
        matches!(self, ReportReason::Unreachable | ReportReason::NotAccepting)
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    pub reason: ReportReason,
    /// What is wrong, in plain words.
    #[schema(max_length = 2000)]
    pub details: Option<String>,
}

impl NewReport {
    /// The details, trimmed; blank is none. Plain text of at most `DETAILS_MAX` characters.
    pub fn details(&self) -> Result<Option<String>, ApiError> {
        let details = note("details", self.details.as_deref(), DETAILS_MAX)?;
        if let Some(details) = &details {
            Text::Paragraphs
                .check(details, DETAILS_MAX)
                .map_err(|invalid| ApiError::validation(vec![invalid.at("details")]))?;
        }
        Ok(details)
    }
}

/// A free-text field, trimmed; blank is none, longer than `max` characters is refused.
fn note(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => {
            at_most(text, max).map_err(|e| e.at(field))?;
            Ok(Some(text.to_owned()))
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Received {
    #[schema(example = "received")]
    pub status: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    Open,
    Resolved,
    All,
}

impl ReportState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportState::Open => "open",
            ReportState::Resolved => "resolved",
            ReportState::All => "all",
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `open` (default), `resolved` or `all`.
    pub status: Option<ReportState>,
    pub listing_id: Option<Uuid>,
    pub reason: Option<ReportReason>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct ReportView {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub listing_slug: String,
    pub listing_display_name: String,
    pub reason: ReportReason,
    pub details: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub resolved_at: Option<OffsetDateTime>,
    pub resolved_by: Option<Uuid>,
    /// Set once resolved.
    #[schema(value_type = Option<Resolution>)]
    pub resolution: Option<String>,
    pub resolution_note: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The listing was corrected (or the therapist was reached).
    Fixed,
    /// Nothing was wrong.
    Dismissed,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Fixed => "fixed",
            Resolution::Dismissed => "dismissed",
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    pub resolution: Resolution,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

impl ResolveBody {
    /// The note, trimmed; blank is none.
    pub fn note(&self) -> Result<Option<String>, ApiError> {
        note("note", self.note.as_deref(), 2000)
    }
}
