//! The embedded default's private cluster: data survives a restart, and what a crash
//! leaves behind (a stale lock file, an orphaned server) does not stop the next start.

use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use sqlx::{Connection, PgConnection};
use therapist_directory::db::embedded::{ClusterOptions, LocalCluster};

fn options(dir: &Path) -> ClusterOptions {
    ClusterOptions {
        dir: dir.to_owned(),
        ephemeral: false,
    }
}

async fn query(cluster: &LocalCluster, sql: &'static str) -> i64 {
    let mut conn = PgConnection::connect(cluster.url("probe").expose_secret())
        .await
        .unwrap();
    let value: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    value
}

fn postmaster_running(dir: &Path) -> bool {
    let data = dir.join("data").canonicalize().unwrap_or_default();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .any(|entry| std::fs::read_link(entry.path().join("cwd")).is_ok_and(|cwd| cwd == data))
}

#[tokio::test]
async fn the_cluster_restarts_on_its_data_after_a_crash() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("embedded-{}", uuid::Uuid::new_v4().simple()));

    let first = LocalCluster::start(&options(&dir)).unwrap();
    first.ensure_database("probe").await.unwrap();
    query(&first, "select count(*) from (select 1) x").await;
    {
        let mut conn = PgConnection::connect(first.url("probe").expose_secret())
            .await
            .unwrap();
        sqlx::raw_sql("create table kept (n int); insert into kept values (1), (2)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    let base = first.dir().to_owned();
    // A crash of the service and its watchdog: the server is left running with its lock
    // file.
    first.abandon();
    assert!(postmaster_running(&base));

    let second = LocalCluster::start(&options(&dir)).unwrap();
    assert_eq!(
        query(&second, "select count(*) from kept").await,
        2,
        "data survived"
    );
    second.stop();
    assert!(!postmaster_running(&base), "stop leaves no server behind");
    assert!(!base.join("data/postmaster.pid").exists());

    // A machine crash: a lock file naming a process that no longer exists.
    std::fs::write(base.join("data/postmaster.pid"), "999999\n/nowhere\n").unwrap();
    let third = LocalCluster::start(&options(&dir)).unwrap();
    assert_eq!(query(&third, "select count(*) from kept").await, 2);
    third.stop();

    std::fs::remove_dir_all(&base).unwrap();
}

#[tokio::test]
async fn processes_share_one_cluster_and_the_last_one_out_stops_it() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("embedded-shared-{}", uuid::Uuid::new_v4().simple()));
    // The server, then `create-admin` in a second terminal.
    let server = LocalCluster::start(&options(&dir)).unwrap();
    server.ensure_database("probe").await.unwrap();
    let base = server.dir().to_owned();
    let second_terminal = LocalCluster::start(&options(&dir)).unwrap();
    assert_eq!(
        second_terminal.port(),
        server.port(),
        "the second process attaches"
    );
    assert_eq!(query(&second_terminal, "select 1::bigint").await, 1);
    // The short command ends: the server's cluster keeps running.
    second_terminal.stop();
    assert!(postmaster_running(&base));
    assert_eq!(query(&server, "select 1::bigint").await, 1);

    // A third process starts before the first has left; the first leaving stops nothing.
    let third = LocalCluster::start(&options(&dir)).unwrap();
    server.stop();
    assert!(postmaster_running(&base));
    assert_eq!(query(&third, "select 1::bigint").await, 1);
    // The last one out stops it.
    third.stop();
    assert!(
        !postmaster_running(&base),
        "the last user stops the cluster"
    );
    std::fs::remove_dir_all(&base).unwrap();
}

/// Two processes whose first start is at the same moment (`cargo run` in one terminal, a
/// command in another): one creates the cluster while the other waits, and both use it. An
/// initdb that never finished is made again rather than started.
#[tokio::test]
async fn a_first_start_in_two_processes_makes_one_cluster() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("embedded-first-{}", uuid::Uuid::new_v4().simple()));
    let (first, second) = std::thread::scope(|s| {
        let first = s.spawn(|| LocalCluster::start(&options(&dir)));
        let second = s.spawn(|| LocalCluster::start(&options(&dir)));
        (first.join().unwrap(), second.join().unwrap())
    });
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(
        first.url("x").expose_secret(),
        second.url("x").expose_secret()
    );
    first.ensure_database("probe").await.unwrap();
    assert_eq!(query(&second, "select 1::bigint").await, 1);
    let base = first.dir().to_owned();
    first.stop();
    second.stop();
    assert!(!postmaster_running(&base));

    // An initdb cut short: its marker is left, and the next start makes the cluster anew.
    std::fs::remove_dir_all(base.join("data")).unwrap();
    std::fs::create_dir_all(base.join("data")).unwrap();
    std::fs::write(base.join("data/PG_VERSION"), "17\n").unwrap();
    std::fs::write(base.join("initialising"), "").unwrap();
    let again = LocalCluster::start(&options(&dir)).unwrap();
    again.ensure_database("probe").await.unwrap();
    assert_eq!(query(&again, "select 1::bigint").await, 1);
    again.stop();
    std::fs::remove_dir_all(&base).unwrap();
}
