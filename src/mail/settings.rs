//! How email leaves the service: the transport, the sender, and the outbox worker's pace.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

#[derive(Debug, Clone)]
pub enum MailTransport {
    /// One `.eml` file per message in a directory: development and tests.
    File { dir: PathBuf },
    /// SMTP through lettre, e.g. `smtps://user:pass@smtp.example.com:465`.
    Smtp { url: SecretString },
}

#[derive(Debug, Clone)]
pub struct MailSettings {
    pub transport: MailTransport,
    pub from: String,
    pub outbox: OutboxSettings,
}

/// How often the outbox worker looks for due mail, and how it retries a failed delivery.
#[derive(Debug, Clone, Copy)]
pub struct OutboxSettings {
    pub poll_interval: Duration,
    pub retry_base: Duration,
    pub max_attempts: i32,
}
