//! The reason an admin gives for a decision (reject, suspend, reinstate) or an account
//! action: shown to the therapist and kept in the audit log.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::at_most;
use crate::error::{ApiError, FieldCode};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Shown to the therapist (reject, suspend) and kept in the audit log.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    reason: String,
}

/// The reason, trimmed: present and at most 2000 characters.
pub fn reason(body: &ReasonBody) -> Result<String, ApiError> {
    let reason = body.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::field(
            "reason",
            FieldCode::Required,
            "give a reason",
        ));
    }
    at_most(reason, 2000).map_err(|e| e.at("reason"))?;
    Ok(reason.to_owned())
}
