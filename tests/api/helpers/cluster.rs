//! The PostgreSQL server shared by the whole run (`DATABASE_URL`, or a private cluster
//! under `target/tmp` that its watchdog stops and deletes when the test process exits), a
//! migrated template database on it, and a fresh clone of it per test.

use std::path::PathBuf;
use std::sync::OnceLock;

use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};
use therapist_directory::db::MIGRATOR;
use therapist_directory::db::embedded::{ClusterOptions, LocalCluster};

use super::logs::init_logs;

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
