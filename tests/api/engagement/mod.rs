//! Issue 8: client inquiries (journey, abuse controls, retention, privacy from admins),
//! listing freshness with a moved clock, and problem reports.

mod availability;
mod inquiries;
mod sign_in_records;

use serde_json::{Value, json};
use therapist_directory::maintenance::{self, MaintenanceSettings, PassReport};
use time::Duration;

use crate::helpers::TestApp;

fn inquiry(message: &str) -> Value {
    json!({
        "name": "Sam Rivera",
        "email": "sam.rivera@client.example",
        "phone": "+1 919 555 0142",
        "message": message,
        "preferred_contact": "email",
        "consent": true,
    })
}

fn settings(app: &TestApp) -> MaintenanceSettings {
    MaintenanceSettings {
        interval: std::time::Duration::from_secs(86_400),
        inquiry_retention: Duration::days(180),
        public_base_url: app.public_base_url.clone(),
        media: None,
    }
}

async fn pass(app: &TestApp) -> PassReport {
    let report = maintenance::run_once(&app.db, &app.clock, &settings(app))
        .await
        .expect("maintenance pass");
    assert!(report.ran, "no other pass runs in this test");
    report
}

async fn profile(app: &TestApp, slug: &str) -> Value {
    let response = app.profile(&slug).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn search_ids(app: &TestApp, query: &str) -> Vec<(String, bool)> {
    let response = app.search(query).await;
    assert_eq!(response.status(), 200, "{query}");
    let body: Value = response.json().await.unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_owned(),
                i["stale"].as_bool().unwrap(),
            )
        })
        .collect()
}
