//! Settings read once at start-up, from the environment (`APP_…`, `DATABASE_URL`) or the
//! equivalent flags, into complete types: a bad value stops start-up with the variable's
//! name. `settings.rs` is the table of variables; this module turns it into `Config`.

mod settings;

use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};
use secrecy::SecretString;

pub use crate::mail::settings::{MailSettings, MailTransport, OutboxSettings};
pub use settings::{MailTransportKind, Settings};

/// A configuration problem, always naming the variable at fault.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {var}: {message}")]
pub struct ConfigError {
    pub var: String,
    pub message: String,
}

/// What parsing the command line can end in besides a configuration.
#[derive(Debug)]
pub enum Stop {
    /// `--help` or `--version`: the text to print.
    Shown(String),
    Invalid(ConfigError),
}

impl From<ConfigError> for Stop {
    fn from(err: ConfigError) -> Self {
        Stop::Invalid(err)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Where the service runs: production falls back to the embedded cluster only when
/// `APP_ALLOW_EMBEDDED_DATABASE` says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Environment {
    Development,
    Production,
}

/// How `serve` builds the search index when its snapshot cannot be read: this executable
/// in a child process, against the service's database (`search::feed`).
#[derive(Clone, Debug)]
pub struct ChildBuild {
    pub executable: std::path::PathBuf,
    pub database_url: SecretString,
    pub jwt_secret: SecretString,
}

/// Where the directory's data lives.
#[derive(Debug, Clone)]
pub enum Database {
    /// An operator's PostgreSQL (`DATABASE_URL`), with the master secret the operator gives.
    Server {
        url: SecretString,
        /// The role that owns the schema, for migrations; the service connects with `url`.
        owner_url: Option<SecretString>,
        /// A read replica for reads that may lag (public profiles, taxonomy lists, the
        /// search index's reads).
        read_url: Option<SecretString>,
        jwt_secret: SecretString,
    },
    /// A private cluster under `dir`, started by the command line (the default).
    Embedded {
        dir: PathBuf,
        /// Demo listings loaded on the cluster's first start (0: none).
        demo_listings: u32,
        /// Unset: a secret generated once and kept beside the cluster.
        jwt_secret: Option<SecretString>,
    },
}

/// How the service's connection pool behaves.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub pool_size: u32,
    pub statement_timeout: Duration,
    pub acquire_timeout: Duration,
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
pub struct Config {
    /// `development` or `production` (`APP_ENV`).
    pub environment: Environment,
    pub host: IpAddr,
    pub port: u16,
    pub workers: usize,
    pub database: Database,
    pub pool: DatabaseSettings,
    /// Whether `serve` applies pending migrations before it starts.
    pub migrate_on_start: bool,
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
    /// How long a SIGTERM'd process keeps serving, unready, so balancers stop sending to it
    /// before its listener closes.
    pub shutdown_drain: Duration,
    /// Proxies (addresses or CIDR ranges) whose forwarding header is trusted, and that
    /// header; no proxies means the peer address is the client.
    pub trusted_proxies: crate::http::client_ip::TrustedProxies,
    /// Where `/metrics` is served instead of the public listener, when set.
    pub metrics_addr: Option<SocketAddr>,
    /// Inquiries older than this are deleted by the maintenance job.
    pub inquiry_retention: time::Duration,
    /// How often each replica attempts a maintenance pass (one runs at a time); zero: never.
    pub maintenance_interval: Duration,
    /// How long the search index may stay behind the change feed and still be ready.
    pub search_max_lag: Duration,
    /// How far the read replica may lag behind the primary and still take reads.
    pub read_max_lag: Duration,
    /// Where the search index is kept between starts (`search::snapshot`); none: always
    /// built from the database.
    pub search_snapshot: Option<std::path::PathBuf>,
    /// Whether views, appearances and searches are counted (`stats`).
    pub statistics: bool,
    /// How the search index is built when its snapshot cannot be read: in a child process
    /// (`serve` sets it), or here when `None`.
    pub search_build: Option<ChildBuild>,
    /// Where profile photos are kept and fetched from.
    pub media: crate::photos::media::MediaSettings,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Parses settings from any lookup, so tests can build a configuration without touching
    /// the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let command = Settings::augment_args(Command::new("settings"));
        let matches =
            parse(command, [OsString::from("settings")], get).map_err(|stop| match stop {
                Stop::Invalid(err) => err,
                Stop::Shown(text) => ConfigError {
                    var: "configuration".into(),
                    message: text,
                },
            })?;
        let settings = Settings::from_arg_matches(&matches).map_err(|e| error(&e))?;
        Self::from_settings(settings)
    }

    /// Checks the rules that tie several settings together.
    pub fn from_settings(s: Settings) -> Result<Self, ConfigError> {
        let invalid = |var: &str, message: &str| ConfigError {
            var: var.to_owned(),
            message: message.to_owned(),
        };
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let embedded_allowed = s.allow_embedded_database
            || (s.env == Environment::Development && s.host.is_loopback());
        if s.database_url.is_none() && !embedded_allowed {
            return Err(invalid(
                "DATABASE_URL",
                "required in production or when APP_HOST is not a loopback address \
                 (APP_ALLOW_EMBEDDED_DATABASE=true starts the embedded cluster anyway)",
            ));
        }
        // Beside the embedded cluster's data by default; where an operator says otherwise.
        let search_snapshot = s.search_snapshot.clone().or_else(|| {
            s.database_url
                .is_none()
                .then(|| s.embedded_pg_dir.join("search-index.snapshot"))
        });
        let database = match s.database_url {
            Some(url) => Database::Server {
                url,
                owner_url: s.database_owner_url,
                read_url: s.database_read_url,
                jwt_secret: s.jwt_secret.ok_or_else(|| {
                    invalid(
                        "APP_JWT_SECRET",
                        "required when DATABASE_URL is set (at least 32 random bytes)",
                    )
                })?,
            },
            None => Database::Embedded {
                dir: s.embedded_pg_dir.clone(),
                demo_listings: s.embedded_demo_listings as u32,
                jwt_secret: s.jwt_secret,
            },
        };
        let transport = match s.mail_transport {
            MailTransportKind::File => MailTransport::File { dir: s.mail_dir },
            MailTransportKind::Smtp => MailTransport::Smtp {
                url: s.smtp_url.ok_or_else(|| {
                    invalid("APP_SMTP_URL", "required when APP_MAIL_TRANSPORT=smtp")
                })?,
            },
        };
        Ok(Config {
            host: s.host,
            port: s.port,
            workers: s.workers.map_or(cores, |n| n as usize),
            database,
            pool: DatabaseSettings {
                pool_size: s.database_pool_size as u32,
                statement_timeout: Duration::from_millis(s.database_statement_timeout_ms),
                acquire_timeout: Duration::from_secs(5),
            },
            migrate_on_start: s.migrate_on_start,
            jwt_previous_secret: s.jwt_previous_secret,
            log_format: s.log_format,
            log_filter: s.log_filter,
            cors_allowed_origins: s.cors_allowed_origins.0,
            public_base_url: s.public_base_url,
            mail: MailSettings {
                transport,
                from: s.mail_from,
                outbox: OutboxSettings {
                    poll_interval: Duration::from_millis(s.mail_poll_ms),
                    retry_base: Duration::from_millis(s.mail_retry_base_ms),
                    max_attempts: s.mail_max_attempts as i32,
                },
            },
            passwords: PasswordSettings {
                memory_kib: s.argon2_memory_kib as u32,
                iterations: s.argon2_iterations as u32,
                parallelism: s.argon2_parallelism as u32,
                concurrency: s
                    .password_hash_concurrency
                    .map_or((cores / 2).max(1), |n| n as usize),
            },
            shutdown_timeout: Duration::from_secs(s.shutdown_timeout_secs),
            shutdown_drain: Duration::from_secs(s.shutdown_drain_secs),
            environment: s.env,
            trusted_proxies: crate::http::client_ip::TrustedProxies {
                nets: s.trusted_proxies.0,
                header: s.forwarded_header,
            },
            metrics_addr: s.metrics_addr,
            inquiry_retention: time::Duration::days(s.inquiry_retention_days as i64),
            maintenance_interval: Duration::from_secs(s.maintenance_interval_secs),
            search_max_lag: Duration::from_secs(s.search_max_lag_secs),
            search_snapshot,
            statistics: s.statistics,
            search_build: None,
            media: crate::photos::media::MediaSettings {
                store: s.media_store,
                public_url: s.media_public_url,
                s3: crate::photos::media::S3Settings {
                    endpoint: s.aws_endpoint_url,
                    region: s.aws_region,
                    access_key_id: s.aws_access_key_id,
                    secret_access_key: s.aws_secret_access_key,
                    allow_http: s.aws_allow_http,
                },
            },
            read_max_lag: Duration::from_millis(s.database_read_max_lag_ms),
        })
    }
}

/// Parses `args` (the program name first) with `command`, taking each setting that is not
/// on the command line from `get` (its environment variable). An empty or blank variable
/// counts as unset, which clap's own environment reading would not do, and any error names
/// the variable.
pub fn parse(
    command: Command,
    args: impl IntoIterator<Item = OsString>,
    get: impl Fn(&str) -> Option<String>,
) -> Result<ArgMatches, Stop> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    let program = if args.is_empty() {
        OsString::from("therapist-directory")
    } else {
        args.remove(0)
    };
    let mut from_environment = Vec::new();
    for arg in command.get_arguments() {
        let (Some(env), Some(long)) = (arg.get_env(), arg.get_long()) else {
            continue;
        };
        let value = env.to_str().and_then(&get).filter(|v| !v.trim().is_empty());
        if let Some(value) = value {
            from_environment.push(OsString::from(format!("--{long}={value}")));
        }
    }
    // The environment goes first so a flag on the command line overrides it; clap reads no
    // variable itself (an empty one would be a value to it).
    let parser = command
        .clone()
        .args_override_self(true)
        .mut_args(|arg| arg.env(None));
    let all = std::iter::once(program.clone())
        .chain(from_environment)
        .chain(args.iter().cloned());
    parser
        .try_get_matches_from(all)
        .map_err(|err| match err.kind() {
            // Help is rendered by the command as declared, which shows each flag's variable.
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                let shown = command
                    .try_get_matches_from(std::iter::once(program).chain(args))
                    .err()
                    .unwrap_or(err);
                Stop::Shown(shown.render().to_string())
            }
            _ => Stop::Invalid(error_for(&command, &err)),
        })
}

/// The variable a clap error is about, found from the flag it names.
fn error_for(command: &Command, err: &clap::Error) -> ConfigError {
    use clap::error::{ContextKind, ContextValue};
    let flag = match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(flag)) => flag.clone(),
        _ => String::new(),
    };
    let named = flag.split([' ', '=']).next().unwrap_or_default();
    let arg: Option<&Arg> = command.get_arguments().find(|arg| {
        arg.get_long()
            .is_some_and(|long| named.strip_prefix("--") == Some(long))
    });
    let var = arg
        .and_then(Arg::get_env)
        .and_then(|env| env.to_str())
        .map_or_else(|| flag.clone(), str::to_owned);
    let message = std::error::Error::source(err).map_or_else(
        || err.kind().as_str().unwrap_or("invalid value").to_owned(),
        ToString::to_string,
    );
    ConfigError { var, message }
}

fn error(err: &clap::Error) -> ConfigError {
    ConfigError {
        var: "configuration".into(),
        message: err.to_string(),
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

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
        assert!(matches!(config.database, Database::Embedded { .. }));
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

    #[test]
    fn the_embedded_cluster_needs_an_opt_in_in_production_or_off_loopback() {
        for pairs in [
            &[("APP_ENV", "production")][..],
            &[("APP_HOST", "0.0.0.0")][..],
        ] {
            let err = config(pairs).expect_err("no database");
            assert_eq!(err.var, "DATABASE_URL", "{pairs:?}");
        }
        let allowed = config(&[
            ("APP_ENV", "production"),
            ("APP_ALLOW_EMBEDDED_DATABASE", "true"),
        ]);
        assert!(matches!(
            allowed.unwrap().database,
            Database::Embedded { .. }
        ));
        let err = config(&[("APP_MIGRATE_ON_START", "maybe")]).expect_err("not a boolean");
        assert_eq!(err.var, "APP_MIGRATE_ON_START");
    }

    #[test]
    fn the_readme_documents_every_variable() {
        let readme = include_str!("../../README.md");
        let command = Settings::augment_args(Command::new("settings"));
        for arg in command.get_arguments() {
            let var = arg.get_env().and_then(|v| v.to_str()).unwrap_or_default();
            assert!(
                readme.contains(&format!("`{var}`")),
                "README.md does not document `{var}`"
            );
        }
    }
}
