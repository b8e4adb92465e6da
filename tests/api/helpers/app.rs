//! The application under test: its settings, its builder and the running instance.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use therapist_directory::clock::Clock;
use therapist_directory::config::Config;
use therapist_directory::mail::transport::{LettreMailer, Mailer};
use therapist_directory::search::SearchIndex;
use therapist_directory::startup::{Application, Stop};

use super::cluster::TestDatabase;
use super::logs::init_logs;
use super::proxy::DbProxy;
use crate::contract::ContractClient;

pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// The `/metrics` listener's port, with `APP_METRICS_ADDR`.
    pub metrics_port: Option<u16>,
    /// Checks every answer against the OpenAPI document (see `contract`).
    pub client: ContractClient,
    /// A pool on the test's database, for setting up and asserting stored state.
    pub db: PgPool,
    pub mail_dir: PathBuf,
    pub database: Arc<TestDatabase>,
    pub proxy: Option<DbProxy>,
    overrides: Vec<(String, String)>,
    pub clock: Clock,
    pub public_base_url: url::Url,
    /// The instance's search index, to wait for a change to become searchable.
    pub search_index: SearchIndex,
    /// The instance's statistics counters (tests flush them instead of waiting ten seconds).
    pub stats: therapist_directory::stats::Counters,
    /// Stops the instance as a signal would (`Stop::Drain` for SIGTERM).
    pub stop: tokio::sync::mpsc::Sender<Stop>,
}

/// Settings every test app starts from; `overrides` can change any variable.
pub fn test_config(mail_dir: &std::path::Path, overrides: &[(String, String)]) -> Config {
    let mut vars: HashMap<String, String> = [
        ("APP_HOST", "127.0.0.1"),
        ("APP_PORT", "0"),
        ("APP_WORKERS", "1"),
        ("APP_DATABASE_POOL_SIZE", "3"),
        ("APP_JWT_SECRET", TEST_JWT_SECRET),
        ("APP_LOG_FORMAT", "json"),
        ("APP_PUBLIC_BASE_URL", "https://directory.example"),
        ("APP_SHUTDOWN_TIMEOUT_SECS", "1"),
        ("APP_MAIL_POLL_MS", "25"),
        ("APP_MAIL_RETRY_BASE_MS", "20"),
        ("APP_PASSWORD_HASH_CONCURRENCY", "2"),
        // Tests run maintenance passes themselves, with a clock they move.
        ("APP_MAINTENANCE_INTERVAL_SECS", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    vars.insert("APP_MAIL_DIR".into(), mail_dir.display().to_string());
    // Beside the mail: one store per test database, shared by its instances.
    if let (Some(dir), Some(name)) = (mail_dir.parent(), mail_dir.file_name()) {
        let media = dir.with_file_name("media").join(name);
        vars.insert("APP_MEDIA_STORE".into(), media.display().to_string());
    }
    for (k, v) in overrides {
        vars.insert(k.clone(), v.clone());
    }
    Config::from_lookup(|k| vars.get(k).cloned()).expect("test configuration")
}

pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

pub async fn spawn_app() -> TestApp {
    TestAppBuilder::default().spawn().await
}

/// Options for a test app: environment overrides, a database proxy the test can cut, a
/// mail transport of the test's choosing.
#[derive(Default)]
pub struct TestAppBuilder {
    overrides: Vec<(String, String)>,
    through_proxy: bool,
    mailer: Option<Arc<dyn Mailer>>,
    database: Option<Arc<TestDatabase>>,
    clock: Option<Clock>,
    login: Option<(String, String)>,
    child_build: Option<PathBuf>,
}

impl TestAppBuilder {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.overrides.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn through_proxy(mut self) -> Self {
        self.through_proxy = true;
        self
    }

    pub fn mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// Another instance on an existing test database.
    pub fn database(mut self, database: Arc<TestDatabase>) -> Self {
        self.database = Some(database);
        self
    }

    /// The service connects as this login role instead of the owning one.
    pub fn connect_as(mut self, role: &str, password: &str) -> Self {
        self.login = Some((role.to_owned(), password.to_owned()));
        self
    }

    /// Builds the search index in a child process running `executable`, as `serve` does.
    pub fn child_build(mut self, executable: impl Into<PathBuf>) -> Self {
        self.child_build = Some(executable.into());
        self
    }

    /// The clock the service reads (tests move it forward instead of sleeping).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    pub async fn spawn(self) -> TestApp {
        init_logs();
        let database = match self.database {
            Some(database) => database,
            None => Arc::new(TestDatabase::create().await),
        };
        let mail_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("mail")
            .join(&database.name);

        let (app_url, proxy) = if self.through_proxy {
            let mut url = url::Url::parse(&database.url).expect("url");
            let target = format!(
                "{}:{}",
                url.host_str().unwrap_or("127.0.0.1"),
                url.port().unwrap_or(5432)
            );
            let proxy = DbProxy::start(target).await;
            url.set_host(Some("127.0.0.1")).expect("host");
            url.set_port(Some(proxy.addr.port())).expect("port");
            (url.to_string(), Some(proxy))
        } else {
            (database.url.clone(), None)
        };

        let app_url = match &self.login {
            Some((role, password)) => {
                let mut url = url::Url::parse(&app_url).expect("url");
                url.set_username(role).expect("username");
                url.set_password(Some(password)).expect("password");
                url.to_string()
            }
            None => app_url,
        };
        let mut overrides = self.overrides.clone();
        overrides.push(("DATABASE_URL".to_owned(), app_url));
        let mut config = test_config(&mail_dir, &overrides);
        if let (
            Some(executable),
            therapist_directory::config::Database::Server {
                url, jwt_secret, ..
            },
        ) = (self.child_build, &config.database)
        {
            config.search_build = Some(therapist_directory::search::feed::ChildBuild {
                executable,
                database_url: url.clone(),
                jwt_secret: jwt_secret.clone(),
            });
        }
        let clock = self.clock.unwrap_or_default();
        let mailer = match self.mailer {
            Some(mailer) => mailer,
            None => Arc::new(LettreMailer::from_settings(&config.mail).expect("mailer")),
        };
        let public_base_url = config.public_base_url.clone();
        let app = Application::build_with(config, mailer, clock.clone())
            .await
            .expect("building the application");
        let port = app.port();
        let metrics_port = app.metrics_port();
        let search = app.search_index();
        let stats = app.stats();
        let (stop, stops) = tokio::sync::mpsc::channel(4);
        tokio::spawn(app.run_until(stops));
        // As a load balancer would, wait for readiness: the search index is built.
        search.wait_for(0, Duration::from_secs(10)).await;

        let db = PgPoolOptions::new()
            .max_connections(2)
            .connect(&database.url)
            .await
            .expect("test pool");
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            metrics_port,
            client: ContractClient::new(),
            db,
            mail_dir,
            database,
            proxy,
            overrides: self.overrides,
            clock,
            public_base_url,
            search_index: search,
            stats,
            stop,
        }
    }
}

impl TestApp {
    /// Another instance of the service on the same database, as after a restart or beside
    /// another replica.
    pub async fn sibling(&self) -> TestApp {
        TestAppBuilder {
            overrides: self.overrides.clone(),
            through_proxy: false,
            mailer: None,
            database: Some(self.database.clone()),
            clock: Some(self.clock.clone()),
            login: None,
            child_build: None,
        }
        .spawn()
        .await
    }

    /// The photo store this instance uses (a directory per test database).
    pub fn media(&self) -> therapist_directory::photos::media::Media {
        let config = test_config(&self.mail_dir, &self.overrides);
        therapist_directory::photos::media::Media::open(
            &config.media,
            &format!("{}/media/", self.address),
        )
        .expect("the test's photo store")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Waits until every change committed so far is searchable on this instance (the index
    /// follows the database within a second; tests that write then search wait for it).
    pub async fn sync_search(&self) {
        let latest: i64 = sqlx::query_scalar("select coalesce(max(seq), 0) from directory_change")
            .fetch_one(&self.db)
            .await
            .expect("reading the change feed");
        assert!(
            self.search_index
                .wait_for(latest, Duration::from_secs(10))
                .await,
            "the search index did not reach change {latest} within 10 s"
        );
    }
}
