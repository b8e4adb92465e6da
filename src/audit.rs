//! The audit log: who did what to what, when and from where. Append-only (the database
//! refuses UPDATE, DELETE and TRUNCATE). Never put a secret in `details`.

use std::net::IpAddr;

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// Who acted: an account with its role, or the system itself (background jobs).
#[derive(Debug, Clone, Copy)]
pub enum Actor {
    Account { id: Uuid, role: &'static str },
    Anonymous,
    System,
}

#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub actor: Actor,
    /// Dotted snake_case, e.g. `auth.login_failed`, `listing.approved`.
    pub action: &'a str,
    pub target: Option<(&'a str, Uuid)>,
    pub client_ip: Option<IpAddr>,
    pub details: Value,
}

impl<'a> AuditEntry<'a> {
    pub fn new(actor: Actor, action: &'a str) -> Self {
        AuditEntry {
            actor,
            action,
            target: None,
            client_ip: None,
            details: Value::Object(Default::default()),
        }
    }

    pub fn target(mut self, kind: &'a str, id: Uuid) -> Self {
        self.target = Some((kind, id));
        self
    }

    pub fn ip(mut self, ip: impl Into<IpAddr>) -> Self {
        self.client_ip = Some(ip.into());
        self
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub async fn record(self, conn: &mut PgConnection) -> sqlx::Result<()> {
        let (actor_id, actor_role) = match self.actor {
            Actor::Account { id, role } => (Some(id), Some(role)),
            Actor::Anonymous => (None, None),
            Actor::System => (None, Some("system")),
        };
        sqlx::query(
            "insert into audit_log (id, actor_id, actor_role, action, target_type, target_id, client_ip, details)
             values ($1, $2, $3, $4, $5, $6, $7::inet, $8)",
        )
        .bind(Uuid::now_v7())
        .bind(actor_id)
        .bind(actor_role)
        .bind(self.action)
        .bind(self.target.map(|(kind, _)| kind))
        .bind(self.target.map(|(_, id)| id))
        .bind(self.client_ip.map(|ip| ip.to_string()))
        .bind(&self.details)
        .execute(conn)
        .await?;
        Ok(())
    }
}
