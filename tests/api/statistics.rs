//! Issue 32: what a therapist learns about their listing (`GET /v1/me/stats`) and what an
//! admin learns about searches (`GET /v1/admin/insights/searches`), counted without storing
//! anything about the visitors.

use reqwest::Method;
use serde_json::{Value, json};
use therapist_directory::maintenance::{self, MaintenanceSettings};
use therapist_directory::startup::Stop;

use crate::helpers::{TestApp, TestAppBuilder, access, assert_problem, published_therapist};

const BROWSER: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 \
                       (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
const CRAWLER: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// A request as a browser sends it.
fn browser(app: &TestApp, method: Method, path: &str) -> crate::contract::ContractRequest {
    app.client
        .request(method, app.url(path))
        .header("user-agent", BROWSER)
}

async fn flush(app: &TestApp) {
    app.stats.flush(&app.db).await.expect("flushing statistics");
}

async fn stats(app: &TestApp, token: &str, query: &str) -> Value {
    let response = app.get_as(&format!("/v1/me/stats{query}"), token).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn today(app: &TestApp) -> String {
    app.clock.now().date().to_string()
}

/// The last day of a report (today, by default).
fn last_day(report: &Value) -> &Value {
    report["days"].as_array().unwrap().last().unwrap()
}

#[tokio::test]
async fn profile_views_count_people_but_not_owners_heads_or_crawlers() {
    let app = TestAppBuilder::default().spawn().await;
    let (token, _, slug) = published_therapist(&app, "seen@example.com").await;
    let other = access(&app.verified_therapist("other@example.com").await);
    let path = format!("/v1/therapists/{slug}");

    let first = browser(&app, Method::GET, &path).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = browser(&app, Method::GET, &path)
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304, "a conditional view is a view");
    let by_other = browser(&app, Method::GET, &path)
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(by_other.status(), 200);
    // Not counted: a HEAD, a crawler, no user agent at all, the owner, an unknown slug.
    assert_eq!(
        browser(&app, Method::HEAD, &path)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let crawled = app
        .client
        .get(app.url(&path))
        .header("user-agent", CRAWLER)
        .send()
        .await;
    assert_eq!(crawled.unwrap().status(), 200);
    assert_eq!(app.get(&path).await.status(), 200);
    let own = browser(&app, Method::GET, &path)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    let unknown = browser(&app, Method::GET, "/v1/therapists/nobody-here")
        .send()
        .await;
    assert_eq!(unknown.unwrap().status(), 404);
    flush(&app).await;

    let report = stats(&app, &token, "").await;
    assert_eq!(report["days"].as_array().unwrap().len(), 30, "{report}");
    assert_eq!(report["to"], json!(today(&app)));
    assert_eq!(last_day(&report)["date"], json!(today(&app)));
    assert_eq!(last_day(&report)["profile_views"], 3, "{report}");
    assert_eq!(report["totals"]["profile_views"], 3);
    // The rows hold counts only: no address, agent or visitor.
    let columns: Vec<String> = sqlx::query_scalar(
        "select column_name::text from information_schema.columns where table_name = 'listing_stat_day' order by 1",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        columns,
        [
            "day",
            "inquiries",
            "listing_id",
            "profile_views",
            "search_appearances"
        ]
    );
}

#[tokio::test]
async fn each_place_on_a_page_served_is_an_appearance_and_inquiries_count_at_once() {
    let app = TestAppBuilder::default().spawn().await;
    let (token, listing_id, slug) = published_therapist(&app, "shown@example.com").await;
    app.sync_search().await;
    for _ in 0..2 {
        let page = browser(&app, Method::GET, "/v1/therapists?limit=50")
            .send()
            .await
            .unwrap();
        let page: Value = page.json().await.unwrap();
        assert!(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["slug"] == json!(slug))
        );
    }
    let crawled = app
        .client
        .get(app.url("/v1/therapists"))
        .header("user-agent", CRAWLER);
    assert_eq!(crawled.send().await.unwrap().status(), 200);
    let inquiry = json!({
        "name": "Sam Rivera", "email": "sam.rivera@client.example", "message": "Do you see couples?",
        "preferred_contact": "email", "consent": true,
    });
    assert_eq!(app.send_inquiry(&slug, &inquiry).await.status(), 202);
    let before_flush = stats(&app, &token, "").await;
    assert_eq!(
        last_day(&before_flush)["inquiries"],
        1,
        "counted with the inquiry itself"
    );
    flush(&app).await;
    let report = stats(&app, &token, "").await;
    assert_eq!(last_day(&report)["search_appearances"], 2, "{report}");
    assert_eq!(report["totals"]["inquiries"], 1);

    // The export carries them; the account's deletion takes them along.
    let export: Value = app
        .get_as("/v1/me/export", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(export["statistics"][0]["search_appearances"], 2, "{export}");
    let gone = app
        .client
        .request(Method::DELETE, app.url("/v1/me"))
        .bearer_auth(&token)
        .json(&json!({"password": crate::helpers::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    let left: i64 =
        sqlx::query_scalar("select count(*) from listing_stat_day where listing_id = $1")
            .bind(listing_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn report_ranges_are_checked_and_only_therapists_have_one() {
    let app = TestAppBuilder::default().spawn().await;
    let (token, _, _) = published_therapist(&app, "ranges@example.com").await;
    let year = stats(&app, &token, "?from=2024-01-01&to=2024-12-31").await;
    assert_eq!(year["days"].as_array().unwrap().len(), 366);
    assert_eq!(year["days"][59]["date"], "2024-02-29");
    assert_eq!(
        year["totals"],
        json!({"profile_views": 0, "search_appearances": 0, "inquiries": 0})
    );
    for (query, field) in [
        ("?from=2024-01-01&to=2025-01-01", "to"),
        ("?from=2026-12-07&to=2026-12-06", "from"),
        ("?from=2026-02-30", "from"),
        ("?to=yesterday", "to"),
        ("?days=7", "days"),
    ] {
        let response = app.get_as(&format!("/v1/me/stats{query}"), &token).await;
        let problem = assert_problem(response, 400, "invalid_parameter").await;
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
    let admin = access(&app.admin("stats-admin@example.com").await);
    assert_problem(app.get_as("/v1/me/stats", &admin).await, 403, "forbidden").await;
    assert_eq!(app.get("/v1/me/stats").await.status(), 401);
}

#[tokio::test]
async fn counts_from_several_processes_add_up_and_a_stopping_process_writes_its_own() {
    let app = TestAppBuilder::default().spawn().await;
    let other = app.sibling().await;
    let (token, _, slug) = published_therapist(&app, "twice@example.com").await;
    let path = format!("/v1/therapists/{slug}");
    for (instance, views) in [(&app, 2), (&other, 3)] {
        for _ in 0..views {
            browser(instance, Method::GET, &path).send().await.unwrap();
        }
    }
    flush(&app).await;
    // The sibling is not flushed by the test: it writes its counts as it stops.
    other.stop.send(Stop::Now).await.unwrap();
    let mut views = json!(null);
    for _ in 0..100 {
        views = last_day(&stats(&app, &token, "").await)["profile_views"].clone();
        if views == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(views, 5);
}

/// A search for `query` from the client `address`, as the trusted proxy forwards it.
async fn search_from(app: &TestApp, address: &str, query: &str) -> Value {
    let response = browser(app, Method::GET, &format!("/v1/therapists?{query}"))
        .header("x-forwarded-for", address)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn admins_see_what_five_networks_looked_for_and_not_found_and_no_one_alone() {
    let app = TestAppBuilder::default()
        .env("APP_TRUSTED_PROXIES", "127.0.0.1")
        .spawn()
        .await;
    published_therapist(&app, "present@example.com").await;
    app.sync_search().await;
    for network in 0..5 {
        let address = format!("198.51.{network}.7");
        search_from(&app, &address, "q=ketamine%20%20Assisted%20therapy").await;
        search_from(&app, &address, "language=vi&insurer=aetna&state=TX").await;
        search_from(&app, &address, "near=Boise,%20ID").await;
    }
    // Another address of a network already counted is not another network.
    search_from(&app, "198.51.0.99", "q=ketamine%20assisted%20therapy").await;
    for network in 10..14 {
        let address = format!("198.51.{network}.7");
        search_from(&app, &address, "q=Dana%20Whitfield%20Boise").await;
    }
    search_from(&app, "198.51.20.7", "limit=5").await;
    flush(&app).await;

    let admin = access(&app.admin("insights@example.com").await);
    let response = app.get_as("/v1/admin/insights/searches", &admin).await;
    assert_eq!(response.status(), 200);
    let insights: Value = response.json().await.unwrap();
    let today = insights["days"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(today["searches"], 21, "{insights}");
    let little =
        today["without_results"].as_i64().unwrap() + today["with_few_results"].as_i64().unwrap();
    assert_eq!(
        little, 21,
        "one listing exists: every search found little: {insights}"
    );
    let terms = |kind: &str| -> Vec<String> {
        insights[kind]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["term"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        terms("queries"),
        ["ketamine assisted therapy"],
        "four networks are not shown: {insights}"
    );
    assert_eq!(insights["queries"][0]["networks"], 5);
    assert_eq!(insights["queries"][0]["searches"], 6);
    assert_eq!(insights["queries"][0]["days"], 1);
    assert_eq!(terms("places"), ["Boise, ID"]);
    assert_eq!(terms("filters"), ["insurer=aetna&language=vi&state=TX"]);
    assert_eq!(insights["min_networks"], 5);

    // Nothing stored names a network, and a day once sealed keeps no sketch and no term
    // fewer than five networks sent.
    let stored: Vec<String> =
        sqlx::query_scalar("select row_to_json(d)::text from search_demand_day d")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert!(
        stored.iter().all(|row| !row.contains("198.51")),
        "{stored:?}"
    );
    app.clock.advance(time::Duration::days(2));
    let settings = MaintenanceSettings {
        interval: std::time::Duration::from_secs(86_400),
        inquiry_retention: time::Duration::days(180),
        public_base_url: app.public_base_url.clone(),
        media: None,
    };
    let report = maintenance::run_once(&app.db, &app.clock, &settings)
        .await
        .unwrap();
    assert!(report.failed_steps.is_empty(), "{report:?}");
    let left: Vec<(String, Option<String>)> =
        sqlx::query_as("select term, network_sketch::text from search_demand_day order by term")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(
        left.iter()
            .all(|(term, sketch)| !term.contains("whitfield") && sketch.is_none())
    );
    // A year and more later, nothing is left.
    app.clock.advance(time::Duration::days(400));
    maintenance::run_once(&app.db, &app.clock, &settings)
        .await
        .unwrap();
    let rows: i64 = sqlx::query_scalar(
        "select (select count(*) from search_demand_day) + (select count(*) from search_day)
              + (select count(*) from listing_stat_day)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn with_statistics_off_nothing_is_counted_but_inquiries() {
    let app = TestAppBuilder::default()
        .env("APP_STATISTICS", "false")
        .spawn()
        .await;
    let (token, _, slug) = published_therapist(&app, "off@example.com").await;
    app.sync_search().await;
    let path = format!("/v1/therapists/{slug}");
    assert_eq!(
        browser(&app, Method::GET, &path)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let page = browser(&app, Method::GET, "/v1/therapists?q=nothing%20like%20this").send();
    assert_eq!(page.await.unwrap().status(), 200);
    let inquiry = json!({
        "name": "Sam Rivera", "email": "sam.rivera@client.example", "message": "Hello there",
        "preferred_contact": "email", "consent": true,
    });
    assert_eq!(app.send_inquiry(&slug, &inquiry).await.status(), 202);
    flush(&app).await;
    let report = stats(&app, &token, "").await;
    assert_eq!(
        report["totals"],
        json!({"profile_views": 0, "search_appearances": 0, "inquiries": 1})
    );
    let searches: i64 = sqlx::query_scalar("select count(*) from search_day")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(searches, 0);
}
