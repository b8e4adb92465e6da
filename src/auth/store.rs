//! The one read every authenticated request makes: the state its token is checked
//! against. Accounts, sessions and sign-in records are written by `accounts::store`.

use sqlx::PgExecutor;
use uuid::Uuid;

use super::model::{AccountStatus, Role};

/// What an access token is checked against on every request.
#[derive(Debug)]
pub struct TokenState {
    pub role: Role,
    pub status: AccountStatus,
    pub token_version: i32,
    pub session_live: bool,
    /// The session was opened with a second factor.
    pub second_factor: bool,
}

pub async fn token_state(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    session_id: Uuid,
) -> sqlx::Result<Option<TokenState>> {
    sqlx::query_as!(
        TokenState,
        r#"select a.role as "role: Role", a.status as "status: AccountStatus", a.token_version,
                (s.revoked_at is null and s.expires_at > now()) as "session_live!",
                s.second_factor_at is not null as "second_factor!"
         from account a join session s on s.account_id = a.id
         where a.id = $1 and s.id = $2"#,
        account_id,
        session_id
    )
    .fetch_optional(db)
    .await
}
