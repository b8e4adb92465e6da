//! Every API process follows the change feed: a change committed in PostgreSQL is
//! searchable on each of two instances sharing the database within a second, whatever
//! kind of change it is.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::data::Fixture;
use crate::helpers::{TestApp, spawn_app};

/// Polls a search on `app` (without waiting for the feed first) until `done` holds; the
/// time it took.
/// How long after `started` the search `query` answers what `done` wants.
async fn until(
    app: &TestApp,
    started: Instant,
    query: &str,
    done: impl Fn(&Value) -> bool,
) -> Duration {
    loop {
        let body: Value = app
            .client
            .get(app.url(&format!("/v1/therapists?{query}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if done(&body) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{query}: not visible after 5 s: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What changes, the SQL that changes it, the search that shows it and when it shows.
type Change = (&'static str, &'static str, &'static str, fn(&Value) -> bool);

fn total(body: &Value) -> u64 {
    body["total"].as_u64().unwrap_or(u64::MAX)
}

#[tokio::test]
async fn a_change_is_searchable_within_a_second_on_two_processes() {
    let first = spawn_app().await;
    let second = first.sibling().await;
    let id = Fixture {
        modalities: vec!["gottman"],
        ..Fixture::new("Winifred Quarrington")
    }
    .insert(&first.db)
    .await;
    first.sync_search().await;
    second.sync_search().await;

    let changes: Vec<Change> = vec![
        (
            "listing edit",
            "update listing set display_name = 'Winifred Zabriskie', version = version + 1 where id = $1",
            "q=zabriskie",
            |b| total(b) == 1,
        ),
        (
            "suspension",
            "update listing set status = 'suspended', version = version + 1 where id = $1",
            "q=zabriskie",
            |b| total(b) == 0,
        ),
        (
            "approval",
            "update listing set status = 'published', version = version + 1 where id = $1",
            "q=zabriskie",
            |b| total(b) == 1,
        ),
        (
            "account suspension",
            "update account set status = 'suspended' where id = (select account_id from listing where id = $1)",
            "q=zabriskie",
            |b| total(b) == 0,
        ),
        (
            "account reinstated",
            "update account set status = 'active' where id = (select account_id from listing where id = $1)",
            "q=zabriskie",
            |b| total(b) == 1,
        ),
        (
            "stale marking",
            "update listing set stale_at = now(), version = version + 1 where id = $1",
            "q=zabriskie",
            |b| total(b) == 0,
        ),
        (
            "confirmed again",
            "update listing set stale_at = null, version = version + 1 where id = $1",
            "q=zabriskie",
            |b| total(b) == 1,
        ),
        (
            "taxonomy rename",
            "update modality set name = 'Gottman Sound Relationship House' where slug = 'gottman' and $1 is not null",
            "q=sound+relationship+house",
            |b| total(b) == 1,
        ),
        (
            "taxonomy retirement",
            "update modality set retired_at = now() where slug = 'gottman' and $1 is not null",
            "facets=modality",
            |b| {
                b["facets"]["modality"]
                    .as_array()
                    .is_some_and(|m| m.is_empty())
            },
        ),
    ];
    for (what, sql, query, done) in changes {
        // Both processes are timed from the moment the change is sent.
        let sent = Instant::now();
        sqlx::query(sql).bind(id).execute(&first.db).await.unwrap();
        for app in [&first, &second] {
            let took = until(app, sent, query, done).await;
            assert!(
                took < Duration::from_secs(1),
                "{what}: visible after {took:?}"
            );
        }
    }
}

/// A suspension that commits while an edit of the listing is committing cannot leave the
/// edit's entry in the directory: rebuilding an entry waits for the listing's writer and
/// reads what it committed.
#[tokio::test]
async fn a_suspension_racing_an_edit_still_hides_the_listing() {
    use serde_json::json;

    let app = spawn_app().await;
    let admin = crate::helpers::access(&app.admin("admin@example.com").await);
    let (_, listing_id, _) = crate::helpers::published_therapist(&app, "raced@example.com").await;
    let account: uuid::Uuid = sqlx::query_scalar("select account_id from listing where id = $1")
        .bind(listing_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    // An edit whose entry is rebuilt but not yet committed.
    let mut edit = app.db.begin().await.unwrap();
    sqlx::query("update listing set accepting = 'waitlist', version = version + 1 where id = $1")
        .bind(listing_id)
        .execute(&mut *edit)
        .await
        .unwrap();
    sqlx::query("set constraints listing_directory_refresh immediate")
        .execute(&mut *edit)
        .await
        .unwrap();
    // The admin suspends the account meanwhile; the edit commits half a second later.
    let path = format!("/v1/admin/accounts/{account}/suspend");
    let reason = json!({"reason": "a complaint"});
    let suspend = app.post_as(&path, &admin, &reason);
    let commit_later = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        edit.commit().await.unwrap();
    };
    let (suspended, ()) = tokio::join!(suspend, commit_later);
    assert_eq!(suspended.status(), 200);
    let entries: i64 =
        sqlx::query_scalar("select count(*) from directory_entry where listing_id = $1")
            .bind(listing_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        entries, 0,
        "a suspended account's listing is in the directory"
    );
    app.sync_search().await;
    let body: Value = app.search("").await.json().await.unwrap();
    assert_eq!(body["total"], 0, "{body}");
}

/// After a restore from an older backup the feed numbers changes again from below what a
/// process applied. The process notices that the feed stays behind and builds its index
/// anew, so changes made after the restore are searchable.
#[tokio::test]
async fn a_feed_that_goes_back_rebuilds_the_index() {
    let app = spawn_app().await;
    let id = Fixture::new("Winifred Quarrington").insert(&app.db).await;
    // The process has applied change 1000 and more when the database is restored.
    sqlx::query("select setval('directory_change_seq', 1000)")
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("update listing set version = version + 1 where id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    app.sync_search().await;
    for restore in [
        "delete from directory_change",
        "select setval('directory_change_seq', 1, false)",
    ] {
        sqlx::query(restore).execute(&app.db).await.unwrap();
    }
    sqlx::query("update listing set display_name = 'Philippa Restored', version = version + 1 where id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    let started = Instant::now();
    loop {
        let body: Value = app.search("q=philippa").await.json().await.unwrap();
        if total(&body) == 1 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(25),
            "a change after the restore is not searchable: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A term renamed (its rebuild in progress) while the listing's account is suspended: the
/// suspension commits after the rename's rebuild read the account active. The listing must
/// still leave the directory; and a reinstatement racing a rename is never an error.
#[tokio::test]
async fn a_suspension_racing_a_term_edit_still_removes_the_listing() {
    let app = spawn_app().await;
    let listing = Fixture::new("Racing Rename").store(&app.db).await;
    let entries = |db: sqlx::PgPool, id: uuid::Uuid| async move {
        sqlx::query_scalar::<_, i64>("select count(*) from directory_entry where listing_id = $1")
            .bind(id)
            .fetch_one(&db)
            .await
            .unwrap()
    };
    assert_eq!(entries(app.db.clone(), listing.id).await, 1);

    for (status, expected) in [("suspended", 0), ("active", 1)] {
        // Session one renames the listing's modality and keeps its transaction open.
        let mut rename = app.db.begin().await.unwrap();
        sqlx::query("update modality set name = name || '.' where slug = 'cbt'")
            .execute(&mut *rename)
            .await
            .unwrap();
        // Session two changes the account meanwhile.
        let db = app.db.clone();
        let account = listing.account_id;
        let change = tokio::spawn(async move {
            sqlx::query("update account set status = $2::account_status, suspended_reason = case when $2 = 'suspended' then 'racing' end where id = $1")
                .bind(account)
                .bind(status)
                .execute(&db)
                .await
        });
        tokio::time::sleep(Duration::from_millis(400)).await;
        rename.commit().await.unwrap();
        change
            .await
            .unwrap()
            .expect("the account change is never an error");
        assert_eq!(
            entries(app.db.clone(), listing.id).await,
            expected,
            "after the account turned {status}"
        );
    }
}
