//! `GET /v1/therapists`: each parameter against fixtures whose answer is known, a seeded
//! randomized comparison with a plain in-Rust filter (with full cursor walks), visibility
//! rules and hostile input, and exact totals and facets over walks of seeded directories.

mod filters;
mod item;
mod oracle;
mod paging;
mod places;
mod snapshot;
mod spanish;
mod suggest;
mod text;

use serde_json::Value;
use uuid::Uuid;

use crate::helpers::TestApp;

pub(super) async fn ids(app: &TestApp, query: &str) -> Vec<String> {
    let response = app.search(query).await;
    assert_eq!(
        response.status(),
        200,
        "{query}: {}",
        response.text().await.unwrap_or_default()
    );
    let body: Value = response.json().await.unwrap();
    let mut ids: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

pub(super) fn sorted(ids: &[Uuid]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    v.sort();
    v
}
