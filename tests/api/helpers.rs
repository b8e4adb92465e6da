//! `spawn_app()` and friends. The PostgreSQL server is `DATABASE_URL` when set, otherwise a
//! private cluster started once per test run under `target/tmp` and stopped (and deleted) by
//! its watchdog when the test process exits, however it exits.

// Shared by every test file; not each file uses each helper.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex, Once, OnceLock};
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use secrecy::ExposeSecret;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use therapist_directory::clock::Clock;
use therapist_directory::config::{Config, LogFormat};
use therapist_directory::db::MIGRATOR;
use therapist_directory::db::embedded::{ClusterOptions, LocalCluster};
use therapist_directory::mail::transport::{LettreMailer, Mailer};
use therapist_directory::search::SearchIndex;
use therapist_directory::startup::Application;
use therapist_directory::telemetry;
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::contract::ContractClient;

// ---------------------------------------------------------------------------------------
// Logs: captured in memory so a test can prove what the service logged.

static LOGS: LazyLock<Arc<Mutex<Vec<u8>>>> = LazyLock::new(Default::default);

struct CapturedLog;

impl Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if std::env::var_os("TEST_LOG").is_some() {
            std::io::stderr().write_all(buf)?;
        }
        LOGS.lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line so far that mentions `needle`.
pub fn log_lines_containing(needle: &str) -> Vec<String> {
    let logs = LOGS.lock().unwrap_or_else(|e| e.into_inner());
    String::from_utf8_lossy(&logs)
        .lines()
        .filter(|l| l.contains(needle))
        .map(str::to_owned)
        .collect()
}

fn init_logs() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        telemetry::init(LogFormat::Json, "info,sqlx=warn,actix_server=warn", || {
            CapturedLog
        });
    });
}

// ---------------------------------------------------------------------------------------
// The database server shared by the whole run, and a migrated template database on it.

struct TestServer {
    /// URL of a database to run administrative statements from.
    admin_url: String,
    template: String,
    _cluster: Option<LocalCluster>,
}

static SERVER: OnceLock<TestServer> = OnceLock::new();

fn server() -> &'static TestServer {
    SERVER.get_or_init(|| {
        // Its own thread and runtime: the connections it makes must not belong to the runtime
        // of whichever test happened to come first.
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(start_server())
        })
        .join()
        .expect("starting the test database server failed")
    })
}

async fn start_server() -> TestServer {
    init_logs();
    let (admin_url, cluster) = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => (url, None),
        _ => {
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("test-postgres-{}", std::process::id()));
            let cluster = LocalCluster::start(&ClusterOptions {
                dir,
                ephemeral: true,
            })
            .expect("starting the private test cluster");
            let url = cluster.url("postgres").expose_secret().to_owned();
            (url, Some(cluster))
        }
    };
    let template = ensure_template(&admin_url).await;
    TestServer {
        admin_url,
        template,
        _cluster: cluster,
    }
}

/// The template is named after the migrations it holds, so a changed migration gets a new
/// template; an advisory lock keeps concurrent test runs on one server from racing.
async fn ensure_template(admin_url: &str) -> String {
    let mut hasher = Sha256::new();
    for migration in MIGRATOR.iter() {
        hasher.update(migration.version.to_le_bytes());
        hasher.update(&migration.checksum);
    }
    let digest = hasher.finalize();
    let name: String = format!(
        "td_template_{}",
        digest[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let building = format!("{name}_building");

    let mut admin = PgConnection::connect(admin_url)
        .await
        .expect("connect to the test server");
    sqlx::query("select pg_advisory_lock(727072)")
        .execute(&mut admin)
        .await
        .expect("advisory lock");
    let exists: bool =
        sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .expect("look up template");
    if !exists {
        exec(
            &mut admin,
            format!("drop database if exists {building} with (force)"),
        )
        .await;
        exec(&mut admin, format!("create database {building}")).await;
        let mut conn = PgConnection::connect(&database_url(admin_url, &building))
            .await
            .expect("connect to the template");
        MIGRATOR
            .run(&mut conn)
            .await
            .expect("migrating the template");
        conn.close().await.expect("close");
        exec(
            &mut admin,
            format!("alter database {building} rename to {name}"),
        )
        .await;
    }
    sqlx::query("select pg_advisory_unlock(727072)")
        .execute(&mut admin)
        .await
        .expect("advisory unlock");
    admin.close().await.ok();
    name
}

async fn exec(conn: &mut PgConnection, sql: String) {
    sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
        .execute(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn database_url(server_url: &str, database: &str) -> String {
    let mut url = url::Url::parse(server_url).expect("server URL");
    url.set_path(&format!("/{database}"));
    url.to_string()
}

/// A fresh database cloned from the template (milliseconds), dropped when the guard drops.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let server = server();
        let name = format!("td_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&server.admin_url)
            .await
            .expect("connect");
        exec(
            &mut admin,
            format!("create database {name} template {}", server.template),
        )
        .await;
        admin.close().await.ok();
        TestDatabase {
            url: database_url(&server.admin_url, &name),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(server) = SERVER.get() else { return };
        let admin_url = server.admin_url.clone();
        let sql = format!("drop database if exists {} with (force)", self.name);
        // Detached on purpose: joining here would block the test's runtime, and a connection
        // that runtime was opening would stall in authentication, holding up the DROP for
        // PostgreSQL's 60 s authentication timeout. A database left behind when the process
        // exits first is deleted with the private cluster (on an external server, remove
        // leftover `td_test_*` databases by hand).
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut admin)
                    .await
                    .ok()?;
                admin.close().await.ok()
            })
        });
    }
}

// ---------------------------------------------------------------------------------------
// The application under test.

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
    pub search: SearchIndex,
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
        let config = test_config(&mail_dir, &overrides);
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
        tokio::spawn(app.run());
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
            search,
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
        }
        .spawn()
        .await
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
            self.search.wait_for(latest, Duration::from_secs(10)).await,
            "the search index did not reach change {latest} within 10 s"
        );
    }

    /// GET; a search first waits for the index to hold every committed change.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        if path == "/v1/therapists" || path.starts_with("/v1/therapists?") {
            self.sync_search().await;
        }
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_raw(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        content_type: &str,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("request")
    }
}

/// Asserts an error response: its status, problem+json media type, `code`, and a request id
/// equal to the `x-request-id` header. Returns the body.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    let got_status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("body");
    assert_eq!(got_status, status, "status; body: {text}");
    assert_eq!(
        content_type, "application/problem+json",
        "content type; body: {text}"
    );
    let body: Value = serde_json::from_str(&text).expect("problem body is JSON");
    assert_eq!(body["code"], code, "code; body: {text}");
    assert_eq!(body["status"], status, "status field; body: {text}");
    assert!(!request_id.is_empty(), "x-request-id header missing");
    assert_eq!(
        body["request_id"],
        request_id.as_str(),
        "request_id; body: {text}"
    );
    for key in ["type", "title", "detail"] {
        assert!(body[key].is_string(), "{key} missing: {text}");
    }
    body
}

// ---------------------------------------------------------------------------------------
// A TCP proxy in front of the database that a test can cut and restore.

pub struct DbProxy {
    pub addr: SocketAddr,
    enabled: watch::Sender<bool>,
}

impl DbProxy {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy bind");
        let addr = listener.local_addr().expect("proxy addr");
        let (enabled, rx) = watch::channel(true);
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    break;
                };
                let mut rx = rx.clone();
                if !*rx.borrow() {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut upstream) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = copy_bidirectional(&mut client, &mut upstream) => {}
                        _ = rx.wait_for(|on| !*on) => {}
                    }
                });
            }
        });
        DbProxy { addr, enabled }
    }

    /// Cuts every open connection and refuses new ones, or lets them through again.
    pub fn set_enabled(&self, on: bool) {
        self.enabled.send_replace(on);
    }
}

// ---------------------------------------------------------------------------------------
// Email (file transport) and accounts.

pub const PASSWORD: &str = "a calm river at dawn";

static TOTP_SECRETS: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Default::default);

impl TestApp {
    /// Every `.eml` the file transport wrote so far.
    pub fn emails(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.mail_dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .map(|raw| decode_quoted_printable(&raw))
            .collect()
    }

    /// Waits (up to 10 s) for an email to `to` whose subject contains `subject`.
    pub async fn email_to(&self, to: &str, subject: &str) -> String {
        for _ in 0..400 {
            if let Some(email) = self
                .emails()
                .into_iter()
                .find(|e| e.contains(&format!("To: {to}")) && e.contains(subject))
            {
                return email;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!(
            "no email to {to} about {subject:?}; have: {:#?}",
            self.emails()
        );
    }

    pub async fn signup(&self, email: &str, password: &str, name: &str) -> reqwest::Response {
        self.post_json(
            "/v1/auth/signup",
            &serde_json::json!({"email": email, "password": password, "full_name": name, "accept_terms": true}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/v1/auth/login",
            &serde_json::json!({"email": email, "password": password}),
        )
        .await
    }

    /// Signs up, verifies through the emailed link and logs in: the login response body.
    pub async fn verified_therapist(&self, email: &str) -> Value {
        assert_eq!(
            self.signup(email, PASSWORD, "Test Therapist")
                .await
                .status(),
            202
        );
        let mail = self.email_to(email, "Confirm your email").await;
        let token = token_in(&mail);
        let verified = self
            .post_json(
                "/v1/auth/verify-email",
                &serde_json::json!({"token": token}),
            )
            .await;
        assert_eq!(verified.status(), 200);
        let login = self.login(email, PASSWORD).await;
        assert_eq!(login.status(), 200);
        login.json().await.expect("login body")
    }

    /// An admin created as `create-admin` does, logged in, with a TOTP authenticator
    /// enrolled and confirmed (admin routes need a session that passed a second factor; the
    /// confirming session does): the login response body. The authenticator's secret is
    /// kept on the account for `totp_code`.
    pub async fn admin(&self, email: &str) -> Value {
        let passwords =
            therapist_directory::auth::password::Passwords::new(19456, 2, 1, 1).expect("hasher");
        therapist_directory::auth::admin::create_admin(
            &self.db,
            &passwords,
            email,
            "Admin Person",
            PASSWORD,
        )
        .await
        .expect("create admin");
        let login = self.login(email, PASSWORD).await;
        assert_eq!(login.status(), 200);
        let login: Value = login.json().await.expect("login body");
        let token = access(&login);
        let enrolled = self
            .post_as("/v1/me/mfa/totp", &token, &serde_json::json!({}))
            .await;
        assert_eq!(enrolled.status(), 201);
        let enrolled: Value = enrolled.json().await.expect("enrolment");
        let secret = enrolled["secret"].as_str().expect("secret").to_owned();
        let confirmed = self
            .post_as(
                "/v1/me/mfa/totp/confirm",
                &token,
                &serde_json::json!({"code": self.totp_code(&secret, 0)}),
            )
            .await;
        assert_eq!(confirmed.status(), 200);
        TOTP_SECRETS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(email.to_owned(), secret);
        login
    }

    /// The code an authenticator shows for `secret` at the service's clock, `steps` time
    /// steps ahead (a code is accepted once, so a second sign-in in one step takes the next).
    pub fn totp_code(&self, secret: &str, steps: u64) -> String {
        let secret = totp_rs::Secret::try_from_base32(secret).expect("base32 secret");
        let totp = therapist_directory::mfa::model::totp(secret.as_bytes(), "").expect("totp");
        let now = self.clock.now().unix_timestamp() as u64;
        totp.generate(now + 30 * steps).to_string()
    }

    /// The TOTP secret `admin()` enrolled for `email`.
    pub fn totp_secret(email: &str) -> String {
        TOTP_SECRETS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(email)
            .cloned()
            .expect("an admin enrolled by admin()")
    }

    pub async fn get_as(&self, path: &str, access_token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("request")
    }

    /// An admin decision (`…/approve`, `…/reject`, `…/verify`, or any admin POST on a listing)
    /// sent with `If-Match`: the ETag of the listing as the admin reads it now.
    pub async fn decide(&self, path: &str, admin_token: &str, body: &Value) -> reqwest::Response {
        let segments: Vec<&str> = path.split('/').collect();
        let listing_id: Option<uuid::Uuid> = match segments.as_slice() {
            ["", "v1", "admin", "listings", id, _] => id.parse().ok(),
            [
                "",
                "v1",
                "admin",
                table @ ("licenses" | "certifications"),
                id,
                _,
            ] => {
                let sql = format!(
                    "select listing_id from {} where id = $1",
                    table.trim_end_matches('s')
                );
                match id.parse::<uuid::Uuid>() {
                    Ok(id) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .fetch_optional(&self.db)
                        .await
                        .expect("credential lookup"),
                    Err(_) => None,
                }
            }
            _ => None,
        };
        let mut request = self.client.post(self.url(path)).bearer_auth(admin_token);
        if let Some(listing_id) = listing_id {
            let read = self
                .get_as(&format!("/v1/admin/listings/{listing_id}"), admin_token)
                .await;
            if let Some(etag) = read.headers().get("etag") {
                request = request.header("if-match", etag.to_str().expect("etag").to_owned());
            }
        }
        request.json(body).send().await.expect("request")
    }

    /// Sends `body` to a write route of the document, with the token it needs.
    pub async fn send_to(
        &self,
        route: &crate::contract::WriteRoute,
        therapist: &str,
        admin: &str,
        body: String,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(route.method.clone(), self.url(&route.path))
            .header(CONTENT_TYPE, route.media_type.as_str())
            .body(body);
        match route.needs {
            Some(crate::contract::Identity::Admin) => request = request.bearer_auth(admin),
            Some(crate::contract::Identity::Therapist) => request = request.bearer_auth(therapist),
            None => {}
        }
        request.send().await.expect("request")
    }

    pub async fn post_as(&self, path: &str, access_token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(access_token)
            .json(body)
            .send()
            .await
            .expect("request")
    }
}

/// Reads a message as a mail client would: soft line breaks joined, `=XX` decoded.
fn decode_quoted_printable(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `token=` value of the first link in an email.
pub fn token_in(email: &str) -> String {
    let start = email.find("token=").expect("a link with a token") + "token=".len();
    email[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

pub fn access(login: &Value) -> String {
    login["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}
