//! Settings read from the environment (`APP_…` and `DATABASE_URL`).
//! Every variable is parsed here once, so a bad value stops start-up with the variable's name.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// A configuration problem, always naming the variable at fault.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn invalid(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

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
    pub outbox: crate::mail::outbox::OutboxSettings,
}

/// Argon2id parameters (stored in each PHC string; hashes are upgraded on login when these
/// change) and how many hashes may run at once.
#[derive(Debug, Clone, Copy)]
pub struct PasswordSettings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub concurrency: usize,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `None` selects the embedded default: a private cluster under `embedded_dir`.
    pub url: Option<SecretString>,
    /// The role that owns the schema, for migrations (`APP_DATABASE_OWNER_URL`); unset,
    /// migrations use `url`. The service itself connects with `url`.
    pub owner_url: Option<SecretString>,
    pub embedded_dir: PathBuf,
    pub pool_size: u32,
    pub statement_timeout: Duration,
    pub acquire_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub host: IpAddr,
    pub port: u16,
    pub workers: usize,
    pub database: DatabaseSettings,
    /// HMAC key for access tokens. `None` only on the embedded default, where a key is
    /// generated once and kept beside the cluster.
    pub jwt_secret: Option<SecretString>,
    /// The master secret before the last rotation: what it signed stays valid.
    pub jwt_previous_secret: Option<SecretString>,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub cors_allowed_origins: Vec<String>,
    /// Links in emails are built from this, never from a request's Host header.
    pub public_base_url: url::Url,
    pub mail: MailSettings,
    pub passwords: PasswordSettings,
    pub shutdown_timeout: Duration,
    /// Demo listings loaded on the first start of the embedded default (0 = none).
    pub embedded_demo_listings: u32,
    /// Proxies whose `X-Forwarded-For` is believed; empty means the peer address is the client.
    /// Proxies (addresses or CIDR ranges) whose `Forwarded` / `X-Forwarded-For` is trusted.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Where `/metrics` is served instead of the public listener, when set.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Inquiries older than this are deleted by the maintenance job.
    pub inquiry_retention: time::Duration,
    /// How often each replica attempts a maintenance pass (one runs at a time); zero: never.
    pub maintenance_interval: Duration,
}

/// Every variable the service reads, with its default, for the README and `--help`.
pub const VARIABLES: &[(&str, &str, &str)] = &[
    ("APP_HOST", "127.0.0.1", "address to listen on"),
    ("APP_PORT", "8080", "port to listen on (0 picks a free one)"),
    ("APP_WORKERS", "number of cores", "HTTP worker threads"),
    (
        "DATABASE_URL",
        "unset",
        "PostgreSQL URL; unset starts the embedded private cluster",
    ),
    (
        "APP_EMBEDDED_PG_DIR",
        "./var/postgres",
        "where the embedded cluster keeps its data",
    ),
    (
        "APP_DATABASE_POOL_SIZE",
        "4",
        "connections in the pool (1–200)",
    ),
    (
        "APP_DATABASE_STATEMENT_TIMEOUT_MS",
        "5000",
        "server-side statement timeout",
    ),
    (
        "APP_DATABASE_OWNER_URL",
        "DATABASE_URL",
        "PostgreSQL URL of the role that owns the schema, for migrations; the service connects with DATABASE_URL (a member of directory_service)",
    ),
    (
        "APP_JWT_SECRET",
        "generated on the embedded default",
        "master secret (at least 32 bytes) the keys for tokens, cursors and TOTP secrets derive from; required with DATABASE_URL",
    ),
    (
        "APP_JWT_PREVIOUS_SECRET",
        "unset",
        "the master secret before a rotation: tokens and cursors it signed stay valid until they expire",
    ),
    (
        "APP_LOG_FORMAT",
        "pretty",
        "`pretty` for people, `json` for production",
    ),
    (
        "APP_LOG",
        "info,sqlx=warn",
        "tracing filter, e.g. `debug,sqlx=warn`",
    ),
    (
        "APP_CORS_ALLOWED_ORIGINS",
        "empty",
        "comma-separated origins allowed to call the API from a browser",
    ),
    (
        "APP_PUBLIC_BASE_URL",
        "http://localhost:8080",
        "base of links in emails",
    ),
    ("APP_MAIL_TRANSPORT", "file", "`file` or `smtp`"),
    (
        "APP_MAIL_DIR",
        "./var/mail",
        "directory for `.eml` files (file transport)",
    ),
    (
        "APP_SMTP_URL",
        "unset",
        "`smtp://` or `smtps://user:pass@host:port` (smtp transport)",
    ),
    (
        "APP_MAIL_FROM",
        "Therapist Directory <no-reply@localhost>",
        "sender of every email",
    ),
    (
        "APP_MAIL_POLL_MS",
        "1000",
        "how often the outbox worker looks for due email",
    ),
    (
        "APP_MAIL_RETRY_BASE_MS",
        "5000",
        "first retry delay after a failed delivery (doubles each time, at most 1 h)",
    ),
    (
        "APP_MAIL_MAX_ATTEMPTS",
        "30",
        "deliveries tried before a message is marked failed",
    ),
    ("APP_ARGON2_MEMORY_KIB", "19456", "Argon2id memory cost"),
    ("APP_ARGON2_ITERATIONS", "2", "Argon2id time cost"),
    ("APP_ARGON2_PARALLELISM", "1", "Argon2id lanes"),
    (
        "APP_PASSWORD_HASH_CONCURRENCY",
        "half the cores (at least 1)",
        "password hashes computed at once; more wait their turn",
    ),
    (
        "APP_SHUTDOWN_TIMEOUT_SECS",
        "30",
        "time given to in-flight requests on shutdown",
    ),
    (
        "APP_EMBEDDED_DEMO_LISTINGS",
        "300",
        "demo listings loaded on the embedded default's first start (0 = none)",
    ),
    (
        "APP_TRUSTED_PROXIES",
        "empty",
        "comma-separated proxy addresses or CIDR ranges whose Forwarded / X-Forwarded-For is trusted",
    ),
    (
        "APP_METRICS_ADDR",
        "unset",
        "address:port to serve /metrics on instead of the public listener (e.g. 127.0.0.1:9090)",
    ),
    (
        "APP_INQUIRY_RETENTION_DAYS",
        "180",
        "client inquiries are deleted this many days after they arrive (1–3650)",
    ),
    (
        "APP_MAINTENANCE_INTERVAL_SECS",
        "900",
        "how often this instance attempts the maintenance job (freshness, retention): 10–86400, or 0 for never (another instance runs it)",
    ),
];

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let vars: HashMap<String, String> = std::env::vars().collect();
        Self::from_lookup(|name| vars.get(name).cloned())
    }

    /// Parses settings from any lookup, so tests can build a configuration without touching
    /// the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());

        let host = parse_or(&get, "APP_HOST", "127.0.0.1".parse().ok(), |v| {
            v.parse::<IpAddr>()
                .map_err(|_| "expected an IP address such as 127.0.0.1 or 0.0.0.0".into())
        })?;
        let port = parse_or(&get, "APP_PORT", Some(8080), |v| {
            v.parse::<u16>()
                .map_err(|_| "expected a port number 0–65535".into())
        })?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let workers = parse_or(&get, "APP_WORKERS", Some(cores), |v| {
            parse_range(v, 1, 256).map(|n| n as usize)
        })?;

        let url = get("DATABASE_URL").map(SecretString::from);
        if let Some(url) = &url {
            let parsed = url::Url::parse(url.expose_secret())
                .map_err(|_| invalid("DATABASE_URL", "not a valid URL"))?;
            if !matches!(parsed.scheme(), "postgres" | "postgresql") {
                return Err(invalid(
                    "DATABASE_URL",
                    "expected a postgres:// or postgresql:// URL",
                ));
            }
        }
        let owner_url = get("APP_DATABASE_OWNER_URL").map(SecretString::from);
        if owner_url
            .as_ref()
            .is_some_and(|u| url::Url::parse(u.expose_secret()).is_err())
        {
            return Err(invalid("APP_DATABASE_OWNER_URL", "not a valid URL"));
        }
        let database = DatabaseSettings {
            url,
            owner_url,
            embedded_dir: PathBuf::from(
                get("APP_EMBEDDED_PG_DIR").unwrap_or_else(|| "./var/postgres".into()),
            ),
            pool_size: parse_or(&get, "APP_DATABASE_POOL_SIZE", Some(4), |v| {
                parse_range(v, 1, 200).map(|n| n as u32)
            })?,
            statement_timeout: Duration::from_millis(parse_or(
                &get,
                "APP_DATABASE_STATEMENT_TIMEOUT_MS",
                Some(5000),
                |v| parse_range(v, 100, 600_000),
            )?),
            acquire_timeout: Duration::from_secs(5),
        };

        let jwt_secret = get("APP_JWT_SECRET").map(SecretString::from);
        match &jwt_secret {
            Some(secret) if secret.expose_secret().len() < 32 => {
                return Err(invalid("APP_JWT_SECRET", "must be at least 32 bytes long"));
            }
            None if database.url.is_some() => {
                return Err(invalid(
                    "APP_JWT_SECRET",
                    "required when DATABASE_URL is set (at least 32 random bytes)",
                ));
            }
            _ => {}
        }

        let jwt_previous_secret = get("APP_JWT_PREVIOUS_SECRET").map(SecretString::from);
        if jwt_previous_secret
            .as_ref()
            .is_some_and(|s| s.expose_secret().len() < 32)
        {
            return Err(invalid(
                "APP_JWT_PREVIOUS_SECRET",
                "must be at least 32 bytes long",
            ));
        }

        let log_format = parse_or(
            &get,
            "APP_LOG_FORMAT",
            Some(LogFormat::Pretty),
            |v| match v {
                "pretty" => Ok(LogFormat::Pretty),
                "json" => Ok(LogFormat::Json),
                _ => Err("expected `pretty` or `json`".into()),
            },
        )?;
        let log_filter = get("APP_LOG").unwrap_or_else(|| "info,sqlx=warn".into());
        if tracing_subscriber::EnvFilter::try_new(&log_filter).is_err() {
            return Err(invalid("APP_LOG", "not a valid tracing filter"));
        }

        let cors_allowed_origins = match get("APP_CORS_ALLOWED_ORIGINS") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|origin| {
                    parse_origin(origin).map_err(|m| invalid("APP_CORS_ALLOWED_ORIGINS", m))
                })
                .collect::<Result<_, _>>()?,
        };

        let public_base_url = parse_or(
            &get,
            "APP_PUBLIC_BASE_URL",
            url::Url::parse("http://localhost:8080").ok(),
            |v| {
                let url = url::Url::parse(v).map_err(|_| "not a valid URL".to_string())?;
                if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                    return Err("expected an http(s) URL with a host".into());
                }
                Ok(url)
            },
        )?;

        let transport = match get("APP_MAIL_TRANSPORT").as_deref().unwrap_or("file") {
            "file" => MailTransport::File {
                dir: PathBuf::from(get("APP_MAIL_DIR").unwrap_or_else(|| "./var/mail".into())),
            },
            "smtp" => {
                let url = get("APP_SMTP_URL").ok_or_else(|| {
                    invalid("APP_SMTP_URL", "required when APP_MAIL_TRANSPORT=smtp")
                })?;
                let parsed = url::Url::parse(&url)
                    .map_err(|_| invalid("APP_SMTP_URL", "not a valid URL"))?;
                if !matches!(parsed.scheme(), "smtp" | "smtps") || parsed.host().is_none() {
                    return Err(invalid(
                        "APP_SMTP_URL",
                        "expected smtp://host:port or smtps://user:pass@host:port",
                    ));
                }
                MailTransport::Smtp {
                    url: SecretString::from(url),
                }
            }
            _ => return Err(invalid("APP_MAIL_TRANSPORT", "expected `file` or `smtp`")),
        };
        let from = get("APP_MAIL_FROM")
            .unwrap_or_else(|| "Therapist Directory <no-reply@localhost>".into());
        if !from.contains('@') || from.len() > 200 || from.contains(['\r', '\n']) {
            return Err(invalid(
                "APP_MAIL_FROM",
                "expected a mailbox such as `Name <address@example.com>`",
            ));
        }

        let outbox = crate::mail::outbox::OutboxSettings {
            poll_interval: Duration::from_millis(parse_or(
                &get,
                "APP_MAIL_POLL_MS",
                Some(1000),
                |v| parse_range(v, 10, 600_000),
            )?),
            retry_base: Duration::from_millis(parse_or(
                &get,
                "APP_MAIL_RETRY_BASE_MS",
                Some(5000),
                |v| parse_range(v, 1, 3_600_000),
            )?),
            max_attempts: parse_or(&get, "APP_MAIL_MAX_ATTEMPTS", Some(30), |v| {
                parse_range(v, 1, 1000).map(|n| n as i32)
            })?,
        };
        let passwords = PasswordSettings {
            memory_kib: parse_or(&get, "APP_ARGON2_MEMORY_KIB", Some(19456), |v| {
                parse_range(v, 8, 4_194_304).map(|n| n as u32)
            })?,
            iterations: parse_or(&get, "APP_ARGON2_ITERATIONS", Some(2), |v| {
                parse_range(v, 1, 100).map(|n| n as u32)
            })?,
            parallelism: parse_or(&get, "APP_ARGON2_PARALLELISM", Some(1), |v| {
                parse_range(v, 1, 64).map(|n| n as u32)
            })?,
            concurrency: parse_or(
                &get,
                "APP_PASSWORD_HASH_CONCURRENCY",
                Some((cores / 2).max(1)),
                |v| parse_range(v, 1, 256).map(|n| n as usize),
            )?,
        };

        let shutdown_timeout = Duration::from_secs(parse_or(
            &get,
            "APP_SHUTDOWN_TIMEOUT_SECS",
            Some(30),
            |v| parse_range(v, 0, 3600),
        )?);
        let embedded_demo_listings =
            parse_or(&get, "APP_EMBEDDED_DEMO_LISTINGS", Some(300), |v| {
                parse_range(v, 0, 100_000).map(|n| n as u32)
            })?;
        let trusted_proxies = match get("APP_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|entry| {
                    entry
                        .parse::<ipnet::IpNet>()
                        .or_else(|_| entry.parse::<IpAddr>().map(ipnet::IpNet::from))
                        .map_err(|_| {
                            invalid(
                                "APP_TRUSTED_PROXIES",
                                format!("`{entry}` is not an IP address or CIDR range"),
                            )
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        let metrics_addr = match get("APP_METRICS_ADDR") {
            None => None,
            Some(addr) => Some(addr.trim().parse::<std::net::SocketAddr>().map_err(|_| {
                invalid(
                    "APP_METRICS_ADDR",
                    format!("`{addr}` is not an address:port such as 127.0.0.1:9090"),
                )
            })?),
        };

        let inquiry_retention = time::Duration::days(parse_or(
            &get,
            "APP_INQUIRY_RETENTION_DAYS",
            Some(180),
            |v| parse_range(v, 1, 3650),
        )? as i64);
        let maintenance_interval = Duration::from_secs(parse_or(
            &get,
            "APP_MAINTENANCE_INTERVAL_SECS",
            Some(900),
            |v| match parse_range(v, 0, 86_400)? {
                1..10 => Err("0 (off) or from 10 to 86400".into()),
                n => Ok(n),
            },
        )?);

        Ok(Config {
            host,
            port,
            workers,
            database,
            jwt_secret,
            jwt_previous_secret,
            log_format,
            log_filter,
            cors_allowed_origins,
            public_base_url,
            mail: MailSettings {
                transport,
                from,
                outbox,
            },
            passwords,
            shutdown_timeout,
            embedded_demo_listings,
            trusted_proxies,
            metrics_addr,
            inquiry_retention,
            maintenance_interval,
        })
    }
}

fn parse_or<T>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: Option<T>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    match get(var) {
        Some(value) => parse(value.trim()).map_err(|m| invalid(var, m)),
        None => default.ok_or_else(|| invalid(var, "required")),
    }
}

fn parse_range(value: &str, min: u64, max: u64) -> Result<u64, String> {
    match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from {min} to {max}")),
    }
}

/// A browser origin is scheme://host[:port] with nothing after it.
fn parse_origin(origin: &str) -> Result<String, String> {
    let url = url::Url::parse(origin).map_err(|_| format!("`{origin}` is not a URL"))?;
    let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || !bare {
        return Err(format!(
            "`{origin}` is not an origin such as https://app.example.com"
        ));
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_select_the_embedded_database() {
        let config = config(&[]).unwrap();
        assert!(config.database.url.is_none());
        assert_eq!(config.port, 8080);
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert!(matches!(config.mail.transport, MailTransport::File { .. }));
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let secret = "x".repeat(32);
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("APP_PORT", "70000")], "APP_PORT"),
            (&[("APP_HOST", "localhost:1")], "APP_HOST"),
            (&[("APP_DATABASE_POOL_SIZE", "0")], "APP_DATABASE_POOL_SIZE"),
            (&[("APP_LOG_FORMAT", "xml")], "APP_LOG_FORMAT"),
            (&[("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
            (&[("DATABASE_URL", "postgres://x/db")], "APP_JWT_SECRET"),
            (&[("APP_JWT_SECRET", "short")], "APP_JWT_SECRET"),
            (
                &[("APP_CORS_ALLOWED_ORIGINS", "https://a.example/path")],
                "APP_CORS_ALLOWED_ORIGINS",
            ),
            (&[("APP_MAIL_TRANSPORT", "smtp")], "APP_SMTP_URL"),
            (&[("APP_MAIL_TRANSPORT", "pigeon")], "APP_MAIL_TRANSPORT"),
            (&[("APP_PUBLIC_BASE_URL", "ftp://x")], "APP_PUBLIC_BASE_URL"),
            (
                &[("APP_TRUSTED_PROXIES", "10.0.0.1,nope")],
                "APP_TRUSTED_PROXIES",
            ),
            (
                &[("APP_JWT_SECRET", secret.as_str()), ("APP_LOG", "[[")],
                "APP_LOG",
            ),
        ];
        for (pairs, var) in cases {
            let err = config(pairs).expect_err(&format!("{pairs:?} should be refused"));
            assert_eq!(err.var, *var, "{pairs:?}");
        }
    }

    #[test]
    fn origins_are_normalised() {
        let config = config(&[(
            "APP_CORS_ALLOWED_ORIGINS",
            "https://app.example.com/, http://localhost:3000",
        )])
        .unwrap();
        assert_eq!(
            config.cors_allowed_origins,
            vec!["https://app.example.com", "http://localhost:3000"]
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let secret = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t";
        let config = config(&[
            ("DATABASE_URL", "postgres://u:hunter2@localhost/db"),
            ("APP_JWT_SECRET", secret),
        ])
        .unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains(secret));
        assert!(!printed.contains("hunter2"));
    }
}
