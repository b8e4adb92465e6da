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
    assert_eq!(app.profile(&slug).await.status(), 200);

    // The same seed elsewhere gives the same directory.
    let other = spawn_app().await;
    demo::seed(
        &other.db,
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
    demo::seed(&app.db, SeedOptions { count: 30, seed: 1 }, |_, _| {})
        .await
        .unwrap();

    let again = demo::seed(&app.db, SeedOptions { count: 30, seed: 1 }, |_, _| {}).await;
    let message = format!("{:#}", again.unwrap_err());
    assert!(message.contains("already loaded"), "{message}");
    assert_eq!(
        count(&app.db, "select count(*) from listing").await,
        31,
        "nothing duplicated or deleted"
    );

    demo::seed(&app.db, SeedOptions { count: 20, seed: 2 }, |_, _| {})
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
        demo::seed(&app.db, SeedOptions { count: 0, seed: 3 }, |_, _| {})
            .await
            .is_err()
    );
}
