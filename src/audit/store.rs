//! The audit log's SQL: appending an entry, and reading the log back for admins.

use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Actor, AuditEntry};
use crate::http::page::NewestFirstPage;

impl AuditEntry<'_> {
    /// Appends the entry, in the caller's transaction so it stands or falls with the change.
    pub async fn record(self, conn: &mut PgConnection) -> sqlx::Result<()> {
        let (actor_id, actor_role) = match self.actor {
            Actor::Account { id, role } => (Some(id), Some(role)),
            Actor::Anonymous => (None, None),
            Actor::System => (None, Some("system")),
        };
        sqlx::query!("insert into audit_log (id, actor_id, actor_role, action, target_type, target_id, client_ip, details)
             values ($1, $2, $3, $4, $5, $6, $7::text::inet, $8)", Uuid::now_v7(), actor_id, actor_role, self.action, self.target.map(|(kind, _)| kind), self.target.map(|(_, id)| id), self.client_ip.map(|ip| ip.to_string()), &self.details)
        .execute(conn)
        .await?;
        Ok(())
    }
}

// An entry as admins read it (a `///` comment would enter the document).
#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<Uuid>,
    pub client_ip: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// Every entry the account made or that is about it or its listing, oldest first (the
/// account's export).
pub async fn about(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    listing_id: Option<Uuid>,
) -> sqlx::Result<Vec<AuditRecord>> {
    sqlx::query_as(
        "select id, occurred_at, actor_id, actor_role, action, target_type, target_id, host(client_ip) as client_ip, details
         from audit_log where actor_id = $1 or target_id = $1 or target_id = $2
         order by occurred_at, id",
    )
    .bind(account_id)
    .bind(listing_id)
    .fetch_all(db)
    .await
}

/// Which entries to read; every condition given must hold.
#[derive(Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<Uuid>,
    pub target: Option<Uuid>,
    /// The whole action, or (ending in a dot) its prefix.
    pub action: Option<String>,
    /// Inclusive.
    pub from: Option<OffsetDateTime>,
    /// Exclusive.
    pub to: Option<OffsetDateTime>,
}

/// Entries newest first.
pub async fn list(
    db: impl PgExecutor<'_>,
    filter: AuditFilter,
    page: NewestFirstPage,
) -> sqlx::Result<Vec<AuditRecord>> {
    let (exact, prefix) = match filter.action {
        Some(a) if a.ends_with('.') => (None, Some(format!("{a}%"))),
        Some(a) => (Some(a), None),
        None => (None, None),
    };
    let query = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select id, occurred_at, actor_id, actor_role, action, target_type, target_id, host(client_ip) as client_ip, details
         from audit_log
         where ($1::uuid is null or actor_id = $1)
           and ($2::uuid is null or target_id = $2)
           and ($3::text is null or action = $3)
           and ($4::text is null or action like $4)
           and ($5::timestamptz is null or occurred_at >= $5)
           and ($6::timestamptz is null or occurred_at < $6)
           and {}",
        NewestFirstPage::sql("occurred_at", "id", 7)
    )))
    .bind(filter.actor)
    .bind(filter.target)
    .bind(exact)
    .bind(prefix)
    .bind(filter.from)
    .bind(filter.to);
    page.bind(query).fetch_all(db).await
}
