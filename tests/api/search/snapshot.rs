//! The search index kept between starts (`search::snapshot`): a restart on the same
//! database reads the snapshot instead of building, and catches up with the changes made
//! since; a snapshot of another database, or a damaged one, is never served but rebuilt.

use std::path::{Path, PathBuf};

use uuid::Uuid;

use super::ids;
use crate::helpers::data::Fixture;
use crate::helpers::{TestApp, TestAppBuilder, log_lines_containing};

fn snapshot_of(app: &TestApp, path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e} ({})", path.display(), app.address))
}

/// A directory of its own for a test's snapshot, and the snapshot's path in it.
fn fresh_snapshot_path() -> (PathBuf, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("snapshots")
        .join(Uuid::now_v7().to_string());
    let path = dir.join("index.snapshot");
    (dir, path)
}

#[tokio::test]
async fn a_restart_reads_its_snapshot_and_catches_up_and_another_database_never_does() {
    let (dir, path) = fresh_snapshot_path();
    let setting = path.to_str().unwrap();

    // The first start builds (an empty directory) and writes a snapshot; a listing follows.
    let first = TestAppBuilder::default()
        .env("APP_SEARCH_SNAPSHOT", setting)
        .spawn()
        .await;
    let a = Fixture::new("Snapshot Held").insert(&first.db).await;
    first.sync_search().await;
    // A start without a snapshot builds again, with the listing, and writes it down.
    std::fs::remove_file(&path).unwrap();
    let second = first.sibling().await;
    let written = snapshot_of(&second, &path);
    let b = Fixture::new("Snapshot Later").insert(&first.db).await;

    // A restart reads that snapshot (it writes none: it did not build) and catches up
    // with the listing published after it.
    let third = first.sibling().await;
    third.sync_search().await;
    assert_eq!(
        snapshot_of(&third, &path),
        written,
        "the restart built again"
    );
    let mut both = vec![a.to_string(), b.to_string()];
    both.sort();
    assert_eq!(ids(&third, "").await, both);

    // Another database's start refuses the snapshot: it builds its own (and writes it).
    let other = TestAppBuilder::default()
        .env("APP_SEARCH_SNAPSHOT", setting)
        .spawn()
        .await;
    assert_eq!(ids(&other, "").await, Vec::<String>::new());
    assert_ne!(snapshot_of(&other, &path), written);

    // A damaged snapshot is rebuilt from the database.
    let whole = snapshot_of(&other, &path);
    std::fs::write(&path, &whole[..whole.len() / 2]).unwrap();
    let fourth = first.sibling().await;
    fourth.sync_search().await;
    assert_eq!(ids(&fourth, "").await, both);
    assert_ne!(snapshot_of(&fourth, &path).len(), whole.len() / 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn without_a_usable_snapshot_a_child_process_builds_it_and_the_service_reads_it() {
    let (dir, path) = fresh_snapshot_path();
    let setting = path.to_str().unwrap();
    let first = TestAppBuilder::default()
        .env("APP_SEARCH_SNAPSHOT", setting)
        .spawn()
        .await;
    let listing = Fixture::new("Built Apart").insert(&first.db).await;
    first.sync_search().await;

    // As `serve` starts: this executable builds the snapshot in a child process, and the
    // service reads it.
    std::fs::remove_file(&path).unwrap();
    let child = TestAppBuilder::default()
        .env("APP_SEARCH_SNAPSHOT", setting)
        .database(first.database.clone())
        .child_build(env!("CARGO_BIN_EXE_therapist-directory"))
        .spawn()
        .await;
    child.sync_search().await;
    assert!(path.exists(), "the child wrote the snapshot");
    assert_eq!(ids(&child, "").await, vec![listing.to_string()]);
    let fell_back = || log_lines_containing("index-building process ended").len();
    assert_eq!(fell_back(), 0, "the child built it");

    // A child that fails leaves the build to the service itself.
    std::fs::remove_file(&path).unwrap();
    let fallback = TestAppBuilder::default()
        .env("APP_SEARCH_SNAPSHOT", setting)
        .database(first.database.clone())
        .child_build("/bin/false")
        .spawn()
        .await;
    fallback.sync_search().await;
    assert_eq!(ids(&fallback, "").await, vec![listing.to_string()]);
    assert!(path.exists(), "the service wrote the snapshot itself");
    assert_eq!(fell_back(), 1, "the failed child was noticed");
    std::fs::remove_dir_all(&dir).unwrap();
}
