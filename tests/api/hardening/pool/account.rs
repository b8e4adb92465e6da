//! The sweep's steps of an account's own life: its name, its address, its end.

use reqwest::Method;
use serde_json::json;

use super::{CHANGED, Call, Sweep, Therapist, links};
use crate::helpers::access;

/// Renamed, moved to a new address through its link, then deleted (the last step).
pub(super) async fn own_life(sweep: &mut Sweep<'_>, therapists: &[Therapist]) {
    let app = sweep.app;
    // Suspension and reinstatement signed the sweep's sessions out: sign in again.
    let mut tokens = Vec::new();
    for t in therapists {
        let login = app.login(&t.email, CHANGED).await;
        assert_eq!(login.status(), 200);
        tokens.push(access(&login.json().await.unwrap()));
    }
    let rename = |i: usize| {
        Call::default()
            .by(&tokens[i])
            .with(json!({"full_name": format!("Renamed Therapist {i}")}))
    };
    sweep.run(Method::PATCH, "/v1/me", rename).await;
    let moved: Vec<String> = (0..therapists.len())
        .map(|i| format!("pool-moved-{i}@example.com"))
        .collect();
    let change = |i: usize| {
        Call::default()
            .by(&tokens[i])
            .with(json!({"new_email": moved[i], "password": CHANGED}))
    };
    sweep.run(Method::POST, "/v1/me/email", change).await;
    let links = links(app, &moved, "Confirm your new sign-in address").await;
    let confirm = |i: usize| Call::default().with(json!({"token": links[i]}));
    sweep
        .run(Method::POST, "/v1/auth/confirm-email-change", confirm)
        .await;
    let delete = |i: usize| {
        Call::default()
            .by(&tokens[i])
            .with(json!({"password": CHANGED}))
    };
    sweep.run(Method::DELETE, "/v1/me", delete).await;
}
