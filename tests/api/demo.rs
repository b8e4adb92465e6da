//! `seed-demo`: deterministic published listings, loaded once per seed, never touching
//! real data.

use therapist_directory::demo::{self, SeedOptions};

use crate::helpers::data;
use crate::helpers::spawn_app;

async fn count(db: &sqlx::PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

#[tokio::test]
async fn demo_listings_are_published_complete_and_deterministic() {
    let app = spawn_app().await;
    let real = data::listing(&app.db, "a-real-therapist", "published").await;

    let report = demo::seed(
        &app.db,
        &app.media(),
        SeedOptions {
            count: 120,
            seed: 42,
        },
        |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(report.listings, 120);
    assert_eq!(
        count(
            &app.db,
            "select count(*) from listing where status = 'published'"
        )
        .await,
        121
    );
    assert_eq!(
        count(&app.db, "select count(*) from account where is_demo").await,
        120
    );
    // Every demo listing has what a real one needs to be found.
    assert_eq!(
        count(
            &app.db,
            "select count(*) from listing l join account a on a.id = l.account_id where a.is_demo and (
                 not exists (select 1 from listing_modality m where m.listing_id = l.id)
              or not exists (select 1 from listing_specialty s where s.listing_id = l.id)
              or not exists (select 1 from license c where c.listing_id = l.id)
              or (not exists (select 1 from office o where o.listing_id = l.id) and cardinality(l.telehealth_states) = 0))"
        )
        .await,
        0
    );
    assert!(count(&app.db, "select count(*) from office").await > 80);
    assert!(
        count(&app.db, "select count(distinct zip) from office").await > 50,
        "offices spread over many ZIPs"
    );

    // A demo profile is served like any other.
    let slug: String = sqlx::query_scalar(
        "select slug from listing l join account a on a.id = l.account_id where a.is_demo limit 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let profile: serde_json::Value = app.profile(&slug).await.json().await.unwrap();
    // With a portrait, shared among the listings (one per eight), served like an upload.
    assert_eq!(
        count(
            &app.db,
            "select count(*) from listing_photo where status = 'approved'"
        )
        .await,
        120
    );
    assert_eq!(
        count(&app.db, "select count(distinct objects) from listing_photo").await,
        15
    );
    let w400 = profile["photo"]["w400"].as_str().expect("a demo portrait");
    let portrait = app
        .client
        .get(app.url(w400.strip_prefix(&app.address).unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(portrait.status(), 200);
    let image = image::load_from_memory(&portrait.bytes().await.unwrap()).unwrap();
    assert_eq!((image.width(), image.height()), (400, 400));
    let page: serde_json::Value = app.search("limit=5").await.json().await.unwrap();
    let demo_items = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["slug"] != "a-real-therapist");
    assert!(demo_items.clone().count() >= 4);
    for item in demo_items {
        assert!(item["photo"]["w160"].is_string(), "{item}");
    }

    // The same seed elsewhere gives the same directory.
    let other = spawn_app().await;
    demo::seed(
        &other.db,
        &other.media(),
        SeedOptions {
            count: 120,
            seed: 42,
        },
        |_, _| {},
    )
    .await
    .unwrap();
    let slugs = |db: sqlx::PgPool| async move {
        sqlx::query_scalar::<_, String>("select slug from listing l join account a on a.id = l.account_id where a.is_demo order by slug")
            .fetch_all(&db)
            .await
            .unwrap()
    };
    assert_eq!(slugs(app.db.clone()).await, slugs(other.db.clone()).await);
    assert_eq!(app.profile(&real.slug).await.status(), 200);
}

#[tokio::test]
async fn a_seed_loads_once_and_other_seeds_add() {
    let app = spawn_app().await;
    data::listing(&app.db, "keep-me", "draft").await;
    demo::seed(
        &app.db,
        &app.media(),
        SeedOptions { count: 30, seed: 1 },
        |_, _| {},
    )
    .await
    .unwrap();

    let again = demo::seed(
        &app.db,
        &app.media(),
        SeedOptions { count: 30, seed: 1 },
        |_, _| {},
    )
    .await;
    let message = format!("{:#}", again.unwrap_err());
    assert!(message.contains("already loaded"), "{message}");
    assert_eq!(
        count(&app.db, "select count(*) from listing").await,
        31,
        "nothing duplicated or deleted"
    );

    demo::seed(
        &app.db,
        &app.media(),
        SeedOptions { count: 20, seed: 2 },
        |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(count(&app.db, "select count(*) from listing").await, 51);
    assert_eq!(
        count(
            &app.db,
            "select count(*) from listing where slug = 'keep-me'"
        )
        .await,
        1
    );
    assert!(
        demo::seed(
            &app.db,
            &app.media(),
            SeedOptions { count: 0, seed: 3 },
            |_, _| {}
        )
        .await
        .is_err()
    );
}

/// The load writes each listing's public rows itself (`src/demo/entry.rs`); they must be
/// what the database's own `directory_refresh` builds from the loaded listing.
#[tokio::test]
async fn demo_entries_are_what_the_database_builds() {
    let app = spawn_app().await;
    let superuser: bool =
        sqlx::query_scalar("select rolsuper from pg_roles where rolname = current_user")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(
        superuser,
        "the load writes entries itself only as a superuser"
    );
    demo::seed(
        &app.db,
        &app.media(),
        SeedOptions {
            count: 400,
            seed: 7,
        },
        |_, _| {},
    )
    .await
    .unwrap();

    let mut conn = app.db.acquire().await.unwrap();
    let snapshot = |sql: &'static str| sqlx::query_scalar::<_, String>(sql);
    const ENTRIES: &str = "select row_to_json(e)::text from directory_entry e order by listing_id";
    const OFFICES: &str =
        "select listing_id || ' ' || position || ' ' || location::text || ' ' || state
        from directory_office order by 1";
    let written = snapshot(ENTRIES).fetch_all(&mut *conn).await.unwrap();
    let offices = snapshot(OFFICES).fetch_all(&mut *conn).await.unwrap();
    assert_eq!(written.len(), 400);
    assert!(offices.len() > 300, "{} offices", offices.len());
    // Each new entry is a change of the search indexes' feed.
    assert_eq!(
        count(
            &app.db,
            "select count(*) from directory_entry e join directory_change c on c.subject = e.listing_id"
        )
        .await,
        400
    );

    // PostgreSQL writes a timestamp into JSON in the session's time zone.
    sqlx::query("set timezone = 'UTC'")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("select directory_refresh(array(select listing_id from directory_entry))")
        .execute(&mut *conn)
        .await
        .unwrap();
    let rebuilt = snapshot(ENTRIES).fetch_all(&mut *conn).await.unwrap();
    for (written, rebuilt) in written.iter().zip(&rebuilt) {
        assert_eq!(written, rebuilt);
    }
    assert_eq!(written.len(), rebuilt.len());
    assert_eq!(
        offices,
        snapshot(OFFICES).fetch_all(&mut *conn).await.unwrap()
    );
}

/// Prepares a transaction holding `statement`'s rows under `gid`.
async fn prepare(db: &sqlx::PgPool, gid: &str, statement: &str) {
    let mut conn = db.acquire().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "begin; {statement}; prepare transaction '{gid}'"
    )))
    .execute(&mut *conn)
    .await
    .unwrap();
}

/// A load on two sessions that stopped between preparing and committing is finished by
/// one rule: its seed's record committed, so commit the rest; otherwise roll it back.
#[tokio::test]
async fn an_interrupted_load_is_finished_whole_or_not_at_all() {
    let app = spawn_app().await;
    let lanes: i32 = sqlx::query_scalar("select current_setting('max_prepared_transactions')::int")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(
        lanes >= 2,
        "the test cluster loads demo data on two sessions"
    );
    let record =
        |seed: i64| format!("insert into demo_seed_run (seed, listings) values ({seed}, 1)");
    let account = |email: &str| {
        format!(
            "insert into account (id, email, password_hash, full_name, is_demo) \
             values (gen_random_uuid(), '{email}', '{}', 'Demo', true)",
            demo::DEMO_PASSWORD_HASH
        )
    };
    let accounts = "select count(*) from account where is_demo";
    let prepared = "select count(*) from pg_prepared_xacts where database = current_database()";

    // Stopped after both prepares: nothing was committed, so nothing is.
    let run = uuid::Uuid::new_v4();
    prepare(&app.db, &format!("seed-demo/7/{run}/1"), &record(7)).await;
    prepare(
        &app.db,
        &format!("seed-demo/7/{run}/0"),
        &account("a@demo.invalid"),
    )
    .await;
    // A load committing right now is left alone.
    demo::load::recover(&app.db, demo::load::STRANDED_AFTER)
        .await
        .unwrap();
    assert_eq!(count(&app.db, prepared).await, 2);
    demo::load::recover(&app.db, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(count(&app.db, prepared).await, 0);
    assert_eq!(count(&app.db, accounts).await, 0);
    assert_eq!(
        count(&app.db, "select count(*) from demo_seed_run").await,
        0
    );

    // Stopped after the record's lane committed: the rest is committed too.
    let run = uuid::Uuid::new_v4();
    prepare(&app.db, &format!("seed-demo/8/{run}/1"), &record(8)).await;
    prepare(
        &app.db,
        &format!("seed-demo/8/{run}/0"),
        &account("b@demo.invalid"),
    )
    .await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "commit prepared 'seed-demo/8/{run}/1'"
    )))
    .execute(&app.db)
    .await
    .unwrap();
    demo::load::recover(&app.db, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(count(&app.db, prepared).await, 0);
    assert_eq!(count(&app.db, accounts).await, 1);

    // Another tool's prepared transaction is not this module's to finish.
    prepare(&app.db, "someone-else", &account("c@demo.invalid")).await;
    demo::load::recover(&app.db, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(count(&app.db, prepared).await, 1);
    sqlx::raw_sql("rollback prepared 'someone-else'")
        .execute(&app.db)
        .await
        .unwrap();

    // And a whole load, on two sessions, commits both.
    demo::seed(
        &app.db,
        &app.media(),
        SeedOptions { count: 40, seed: 9 },
        |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(count(&app.db, accounts).await, 41);
    assert_eq!(
        count(&app.db, "select count(*) from directory_entry").await,
        40
    );
    assert_eq!(count(&app.db, prepared).await, 0);
}
