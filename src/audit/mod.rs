//! The audit log: who did what to what, when and from where. Append-only (the database
//! refuses UPDATE, DELETE and TRUNCATE). Never put a secret in `details`.

pub mod store;

use std::net::IpAddr;

use serde_json::Value;
use uuid::Uuid;

/// Who acted: an account with its role (as the log stores it, `therapist` or `admin`), or
/// the system itself (background jobs). The log is plumbing below every feature, so it
/// takes the role's text rather than the auth feature's type.
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
}
