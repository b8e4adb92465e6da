//! The one table of settings: every variable the service reads, with its flag, default and
//! meaning. clap renders it as `--help`, errors name its variables, and a test holds the
//! README's configuration table to it. Values are checked here one by one; rules that tie
//! several together are in `Config::from_settings`.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use secrecy::SecretString;

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Settings (each flag can also be given as its environment variable)")]
pub struct Settings {
    /// Address to listen on
    #[arg(long, env = "APP_HOST", default_value = "127.0.0.1", value_parser = ip_address)]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free one)
    #[arg(long, env = "APP_PORT", default_value = "8080", value_parser = port)]
    pub port: u16,
    /// HTTP worker threads (1–256) [default: the number of cores]
    #[arg(long, env = "APP_WORKERS", value_parser = whole(1, 256))]
    pub workers: Option<u64>,

    /// PostgreSQL URL the service connects with; unset starts the embedded private cluster
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_parser = postgres_url)]
    pub database_url: Option<SecretString>,
    /// PostgreSQL URL of a read replica for public profiles, taxonomy lists and the search index's reads [default: DATABASE_URL]
    #[arg(long, env = "APP_DATABASE_READ_URL", hide_env_values = true, value_parser = postgres_url)]
    pub database_read_url: Option<SecretString>,
    /// Apply pending migrations when `serve` starts; false where a `migrate` step runs first (also `serve --no-migrate`)
    #[arg(long, env = "APP_MIGRATE_ON_START", default_value = "true", value_parser = boolean, action = clap::ArgAction::Set)]
    pub migrate_on_start: bool,
    /// `development` or `production`; production refuses the embedded cluster unless APP_ALLOW_EMBEDDED_DATABASE is true
    #[arg(long, env = "APP_ENV", default_value = "development")]
    pub env: crate::config::Environment,
    /// Start the embedded cluster without DATABASE_URL even in production or on a non-loopback address
    #[arg(long, env = "APP_ALLOW_EMBEDDED_DATABASE", default_value = "false", value_parser = boolean, action = clap::ArgAction::Set)]
    pub allow_embedded_database: bool,
    /// PostgreSQL URL of the role that owns the schema, for migrations [default: DATABASE_URL]
    #[arg(long, env = "APP_DATABASE_OWNER_URL", hide_env_values = true, value_parser = postgres_url)]
    pub database_owner_url: Option<SecretString>,
    /// Where the embedded cluster keeps its data
    #[arg(long, env = "APP_EMBEDDED_PG_DIR", default_value = "./var/postgres")]
    pub embedded_pg_dir: PathBuf,
    /// Demo listings loaded on the embedded cluster's first start (0–100000)
    #[arg(long, env = "APP_EMBEDDED_DEMO_LISTINGS", default_value = "300", value_parser = whole(0, 100_000))]
    pub embedded_demo_listings: u64,
    /// Connections in the pool (3–200; one stays with the search index's change listener)
    #[arg(long, env = "APP_DATABASE_POOL_SIZE", default_value = "4", value_parser = whole(3, 200))]
    pub database_pool_size: u64,
    /// Server-side statement timeout in milliseconds (100–600000)
    #[arg(long, env = "APP_DATABASE_STATEMENT_TIMEOUT_MS", default_value = "5000", value_parser = whole(100, 600_000))]
    pub database_statement_timeout_ms: u64,

    /// Master secret (at least 32 bytes) that the keys of tokens, cursors and TOTP secrets derive from; required with DATABASE_URL [default: generated once beside the embedded cluster]
    #[arg(long, env = "APP_JWT_SECRET", hide_env_values = true, value_parser = master_secret)]
    pub jwt_secret: Option<SecretString>,
    /// The master secret before a rotation: what it signed stays valid until it expires
    #[arg(long, env = "APP_JWT_PREVIOUS_SECRET", hide_env_values = true, value_parser = master_secret)]
    pub jwt_previous_secret: Option<SecretString>,

    /// Log lines for people or for machines
    #[arg(long, env = "APP_LOG_FORMAT", default_value = "pretty")]
    pub log_format: crate::config::LogFormat,
    /// Tracing filter, e.g. `debug,sqlx=warn`
    #[arg(long = "log", env = "APP_LOG", default_value = "info,sqlx=warn", value_parser = log_filter)]
    pub log_filter: String,
    /// Comma-separated origins allowed to call the API from a browser
    #[arg(long, env = "APP_CORS_ALLOWED_ORIGINS", default_value = "", value_parser = origins)]
    pub cors_allowed_origins: Origins,
    /// Base of the links in emails (never taken from a request's Host header)
    #[arg(long, env = "APP_PUBLIC_BASE_URL", default_value = "http://localhost:8080", value_parser = public_url)]
    pub public_base_url: url::Url,
    /// Comma-separated proxy addresses or CIDR ranges whose forwarding header is trusted
    #[arg(long, env = "APP_TRUSTED_PROXIES", default_value = "", value_parser = proxies)]
    pub trusted_proxies: Proxies,
    /// The header the trusted proxies write the client into; the other one is ignored
    #[arg(long, env = "APP_FORWARDED_HEADER", default_value = "x-forwarded-for")]
    pub forwarded_header: crate::http::client_ip::ForwardedHeader,
    /// Address:port to serve /metrics on instead of the public listener, e.g. 127.0.0.1:9090
    #[arg(long, env = "APP_METRICS_ADDR", value_parser = socket_address)]
    pub metrics_addr: Option<SocketAddr>,
    /// Seconds given to in-flight requests on shutdown (0–3600)
    #[arg(long, env = "APP_SHUTDOWN_TIMEOUT_SECS", default_value = "30", value_parser = whole(0, 3600))]
    pub shutdown_timeout_secs: u64,
    /// Seconds a SIGTERM'd process keeps serving with /readyz 503 before it closes its listener (0–300)
    #[arg(long, env = "APP_SHUTDOWN_DRAIN_SECS", default_value = "5", value_parser = whole(0, 300))]
    pub shutdown_drain_secs: u64,

    /// How email leaves: `.eml` files in APP_MAIL_DIR, or SMTP to APP_SMTP_URL
    #[arg(long, env = "APP_MAIL_TRANSPORT", default_value = "file")]
    pub mail_transport: MailTransportKind,
    /// Directory of the `.eml` files (file transport)
    #[arg(long, env = "APP_MAIL_DIR", default_value = "./var/mail")]
    pub mail_dir: PathBuf,
    /// `smtp://host:port` or `smtps://user:pass@host:port` (smtp transport)
    #[arg(long, env = "APP_SMTP_URL", hide_env_values = true, value_parser = smtp_url)]
    pub smtp_url: Option<SecretString>,
    /// Sender of every email
    #[arg(long, env = "APP_MAIL_FROM", default_value = "Therapist Directory <no-reply@localhost>", value_parser = mailbox)]
    pub mail_from: String,
    /// How often the outbox worker looks for due email, in milliseconds (10–600000)
    #[arg(long, env = "APP_MAIL_POLL_MS", default_value = "1000", value_parser = whole(10, 600_000))]
    pub mail_poll_ms: u64,
    /// First retry delay after a failed delivery in milliseconds, doubling each time up to an hour (1–3600000)
    #[arg(long, env = "APP_MAIL_RETRY_BASE_MS", default_value = "5000", value_parser = whole(1, 3_600_000))]
    pub mail_retry_base_ms: u64,
    /// Deliveries tried before a message is marked failed (1–1000)
    #[arg(long, env = "APP_MAIL_MAX_ATTEMPTS", default_value = "30", value_parser = whole(1, 1000))]
    pub mail_max_attempts: u64,

    /// Argon2id memory cost in KiB (8–4194304)
    #[arg(long, env = "APP_ARGON2_MEMORY_KIB", default_value = "19456", value_parser = whole(8, 4_194_304))]
    pub argon2_memory_kib: u64,
    /// Argon2id time cost (1–100)
    #[arg(long, env = "APP_ARGON2_ITERATIONS", default_value = "2", value_parser = whole(1, 100))]
    pub argon2_iterations: u64,
    /// Argon2id lanes (1–64)
    #[arg(long, env = "APP_ARGON2_PARALLELISM", default_value = "1", value_parser = whole(1, 64))]
    pub argon2_parallelism: u64,
    /// Password hashes computed at once; more wait their turn (1–256) [default: half the cores, at least 1]
    #[arg(long, env = "APP_PASSWORD_HASH_CONCURRENCY", value_parser = whole(1, 256))]
    pub password_hash_concurrency: Option<u64>,

    /// Client inquiries are deleted this many days after they arrive (1–3650)
    #[arg(long, env = "APP_INQUIRY_RETENTION_DAYS", default_value = "180", value_parser = whole(1, 3650))]
    pub inquiry_retention_days: u64,
    /// Seconds between this instance's attempts at the maintenance job (freshness, retention): 10–86400, or 0 for never (another instance runs it)
    #[arg(long, env = "APP_MAINTENANCE_INTERVAL_SECS", default_value = "900", value_parser = maintenance_interval)]
    pub maintenance_interval_secs: u64,
    /// Milliseconds the read replica may lag behind the primary before reads go to the primary (100–600000)
    #[arg(long, env = "APP_DATABASE_READ_MAX_LAG_MS", default_value = "2000", value_parser = whole(100, 600_000))]
    pub database_read_max_lag_ms: u64,
    /// Seconds the search index may stay behind the change feed before `/readyz` answers 503 (1–3600)
    #[arg(long, env = "APP_SEARCH_MAX_LAG_SECS", default_value = "30", value_parser = whole(1, 3600))]
    pub search_max_lag_secs: u64,
    /// File the search index is written to after a build and read from at the next start, when it belongs to the same database and build [default: search-index.snapshot in APP_EMBEDDED_PG_DIR on the embedded cluster; none with DATABASE_URL]
    #[arg(long, env = "APP_SEARCH_SNAPSHOT")]
    pub search_snapshot: Option<PathBuf>,
    /// Count profile views, search appearances and searches for the statistics (false: nothing is counted but inquiries)
    #[arg(long, env = "APP_STATISTICS", default_value = "true", value_parser = boolean, action = clap::ArgAction::Set)]
    pub statistics: bool,
    /// Where profile photos are kept: a directory, or s3://bucket[/prefix] of any S3-compatible store (with the AWS_* settings)
    #[arg(long, env = "APP_MEDIA_STORE", default_value = "./var/media")]
    pub media_store: String,
    /// Base URL clients fetch photos from, when a CDN or a public bucket serves them [default: this service's own /media/ at APP_HOST:APP_PORT]
    #[arg(long, env = "APP_MEDIA_PUBLIC_URL")]
    pub media_public_url: Option<String>,
    /// S3 endpoint for APP_MEDIA_STORE=s3://… (MinIO, Garage, another provider) [default: AWS]
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,
    /// S3 region
    #[arg(long, env = "AWS_REGION")]
    pub aws_region: Option<String>,
    /// S3 access key id [default: the instance's or container's role]
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    pub aws_access_key_id: Option<String>,
    /// S3 secret access key
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY")]
    pub aws_secret_access_key: Option<SecretString>,
    /// Allow a plain-http S3 endpoint (a store on the same private network)
    #[arg(long, env = "AWS_ALLOW_HTTP", default_value = "false", value_parser = boolean, action = clap::ArgAction::Set)]
    pub aws_allow_http: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MailTransportKind {
    File,
    Smtp,
}

/// Browser origins, each normalised to scheme://host[:port].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins(pub Vec<String>);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proxies(pub Vec<ipnet::IpNet>);

fn whole(
    min: u64,
    max: u64,
) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    move |value| match value.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from {min} to {max}")),
    }
}

fn boolean(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

fn maintenance_interval(value: &str) -> Result<u64, String> {
    match whole(0, 86_400)(value)? {
        1..10 => Err("0 (off) or from 10 to 86400".into()),
        n => Ok(n),
    }
}

fn ip_address(value: &str) -> Result<IpAddr, String> {
    value
        .trim()
        .parse()
        .map_err(|_| "expected an IP address such as 127.0.0.1 or 0.0.0.0".into())
}

fn port(value: &str) -> Result<u16, String> {
    value
        .trim()
        .parse()
        .map_err(|_| "expected a port number 0–65535".into())
}

fn socket_address(value: &str) -> Result<SocketAddr, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not an address:port such as 127.0.0.1:9090"))
}

fn postgres_url(value: &str) -> Result<SecretString, String> {
    let url = url::Url::parse(value.trim()).map_err(|_| "not a valid URL".to_string())?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Err("expected a postgres:// or postgresql:// URL".into());
    }
    Ok(SecretString::from(value.trim()))
}

fn smtp_url(value: &str) -> Result<SecretString, String> {
    let url = url::Url::parse(value.trim()).map_err(|_| "not a valid URL".to_string())?;
    if !matches!(url.scheme(), "smtp" | "smtps") || url.host().is_none() {
        return Err("expected smtp://host:port or smtps://user:pass@host:port".into());
    }
    Ok(SecretString::from(value.trim()))
}

fn master_secret(value: &str) -> Result<SecretString, String> {
    if value.len() < 32 {
        return Err("must be at least 32 bytes long".into());
    }
    Ok(SecretString::from(value))
}

fn log_filter(value: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::try_new(value)
        .map(|_| value.to_owned())
        .map_err(|_| "not a valid tracing filter".into())
}

fn public_url(value: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(value.trim()).map_err(|_| "not a valid URL".to_string())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("expected an http(s) URL with a host".into());
    }
    Ok(url)
}

fn mailbox(value: &str) -> Result<String, String> {
    if !value.contains('@') || value.len() > 200 || value.contains(['\r', '\n']) {
        return Err("expected a mailbox such as `Name <address@example.com>`".into());
    }
    Ok(value.to_owned())
}

fn list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// A browser origin is scheme://host[:port] with nothing after it.
fn origins(value: &str) -> Result<Origins, String> {
    list(value)
        .map(|origin| {
            let url = url::Url::parse(origin).map_err(|_| format!("`{origin}` is not a URL"))?;
            let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || !bare {
                return Err(format!(
                    "`{origin}` is not an origin such as https://app.example.com"
                ));
            }
            Ok(url.origin().ascii_serialization())
        })
        .collect::<Result<_, _>>()
        .map(Origins)
}

fn proxies(value: &str) -> Result<Proxies, String> {
    list(value)
        .map(|entry| {
            entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("`{entry}` is not an IP address or CIDR range"))
        })
        .collect::<Result<_, _>>()
        .map(Proxies)
}
