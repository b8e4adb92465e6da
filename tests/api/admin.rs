//! Admins: the review journey, who may call admin routes, state transitions, the taxonomy
//! and the audit log.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, access, assert_problem, spawn_app, submitted_therapist};

async fn listing_id(app: &TestApp, token: &str) -> String {
    let listing: Value = app.my_listing(token).await.json().await.unwrap();
    listing["id"].as_str().unwrap().to_owned()
}

async fn audit_count(app: &TestApp, action: &str, target: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_log where action = $1 and target_id = $2::uuid")
        .bind(action)
        .bind(target)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn review_journey_from_rejection_to_publication_to_suspension() {
    let app = spawn_app().await;
    let therapist = access(&submitted_therapist(&app, "review@example.com").await);
    let admin = access(&app.admin("admin@example.com").await);
    let id = listing_id(&app, &therapist).await;

    // The admin finds it in the queue.
    let queue: Value = app
        .get_as("/v1/admin/listings?status=pending_review", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    assert_eq!(queue["items"][0]["id"], id.as_str());
    assert_eq!(queue["items"][0]["account_email"], "review@example.com");
    assert!(queue["next_cursor"].is_null());

    // Rejected with a reason the therapist sees.
    let reason = "Please add your license expiry and a photo.";
    let rejected = app
        .decide(
            &format!("/v1/admin/listings/{id}/reject"),
            &admin,
            &json!({"reason": reason}),
        )
        .await;
    assert_eq!(rejected.status(), 200);
    app.email_to("review@example.com", "needs changes").await;
    let mine: Value = app.my_listing(&therapist).await.json().await.unwrap();
    assert_eq!(
        (mine["status"].as_str(), mine["review_note"].as_str()),
        (Some("rejected"), Some(reason))
    );

    // The therapist edits and resubmits.
    let edit = json!({"website_url": "https://hailey.example"});
    let patched = app
        .client
        .patch(app.url("/v1/me/listing"))
        .bearer_auth(&therapist)
        .header("content-type", "application/merge-patch+json")
        .body(edit.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    assert_eq!(app.submit_listing(&therapist).await.status(), 202);

    // The admin verifies the license and the Imago certification, then approves.
    let full: Value = app.admin_listing(&admin, &id).await.json().await.unwrap();
    assert_eq!(full["account_email"], "review@example.com");
    let license = full["licenses"][0]["id"].as_str().unwrap().to_owned();
    let certification = full["certifications"][0]["id"].as_str().unwrap().to_owned();
    let verified = app
        .decide(
            &format!("/v1/admin/licenses/{license}/verify"),
            &admin,
            &json!({"status": "verified", "note": "board site"}),
        )
        .await;
    assert_eq!(verified.status(), 200);
    let verified = app
        .decide(
            &format!("/v1/admin/certifications/{certification}/verify"),
            &admin,
            &json!({"status": "verified"}),
        )
        .await;
    assert_eq!(verified.status(), 200);
    let approved: Value = app.admin_approve(&admin, &id).await.json().await.unwrap();
    assert_eq!(approved["status"], "published");
    app.email_to("review@example.com", "is published").await;

    // Public at once, with the verified certification.
    let profile: Value = app.profile(&id).await.json().await.unwrap();
    assert_eq!(
        profile["certifications"][0]["name"],
        "Certified Imago Relationship Therapist"
    );
    assert_eq!(
        profile["certifications"][0]["verification_status"],
        "verified"
    );
    assert_eq!(profile["licenses"][0]["verification_status"], "verified");

    // Suspending the account hides the listing and refuses sign-in.
    let account = full["account_id"].as_str().unwrap().to_owned();
    let suspended = app
        .post_as(
            &format!("/v1/admin/accounts/{account}/suspend"),
            &admin,
            &json!({"reason": "complaint under review"}),
        )
        .await;
    assert_eq!(suspended.status(), 200);
    assert_problem(app.profile(&id).await, 404, "not_found").await;
    assert_problem(
        app.login("review@example.com", PASSWORD).await,
        403,
        "account_suspended",
    )
    .await;
    assert_problem(app.my_listing(&therapist).await, 401, "invalid_token").await;
    let reinstated = app
        .post_as(
            &format!("/v1/admin/accounts/{account}/reinstate"),
            &admin,
            &json!({"reason": "resolved"}),
        )
        .await;
    assert_eq!(reinstated.status(), 200);
    assert_eq!(app.profile(&id).await.status(), 200);

    for (action, target) in [
        ("listing.rejected", &id),
        ("listing.approved", &id),
        ("license.verified", &license),
        ("certification.verified", &certification),
        ("account.suspended", &account),
        ("account.reinstated", &account),
    ] {
        assert_eq!(audit_count(&app, action, target).await, 1, "{action}");
    }
}

#[tokio::test]
async fn every_admin_route_refuses_anonymous_and_therapists() {
    let app = spawn_app().await;
    let therapist = access(&app.verified_therapist("not-admin@example.com").await);
    let doc = serde_json::to_value(therapist_directory::openapi::document()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/admin") {
            continue;
        }
        let concrete = path
            .replace("{id}", &uuid::Uuid::now_v7().to_string())
            .replace("{slug}", "imago");
        for method in ["get", "post", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            checked += 1;
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let anonymous = app
                .client
                .request(method.clone(), app.url(&concrete))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_problem(anonymous, 401, "authentication_required").await;
            let as_therapist = app
                .client
                .request(method, app.url(&concrete))
                .bearer_auth(&therapist)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_problem(as_therapist, 403, "forbidden").await;
        }
    }
    assert!(
        checked >= 24,
        "admin routes found in the document: {checked}"
    );
    let modalities: i64 = sqlx::query_scalar("select count(*) from modality where slug = 'imago'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(modalities, 1, "nothing was deleted");
}

#[tokio::test]
async fn illegal_transitions_are_409_and_change_nothing() {
    let app = spawn_app().await;
    let admin = access(&app.admin("admin@example.com").await);
    let draft = access(&app.verified_therapist("draft@example.com").await);
    let draft_id = listing_id(&app, &draft).await;
    let published = access(&submitted_therapist(&app, "published@example.com").await);
    let published_id = listing_id(&app, &published).await;
    assert_eq!(app.admin_approve(&admin, &published_id).await.status(), 200);

    let reason = json!({"reason": "because"});
    let cases = [
        (format!("/v1/admin/listings/{draft_id}/approve"), json!({})),
        (
            format!("/v1/admin/listings/{draft_id}/reject"),
            reason.clone(),
        ),
        (
            format!("/v1/admin/listings/{draft_id}/reinstate"),
            reason.clone(),
        ),
        (
            format!("/v1/admin/listings/{published_id}/approve"),
            json!({}),
        ),
        (
            format!("/v1/admin/listings/{published_id}/reject"),
            reason.clone(),
        ),
        (
            format!("/v1/admin/listings/{published_id}/reinstate"),
            reason.clone(),
        ),
    ];
    let before: Vec<(String, i32)> =
        sqlx::query_as("select status::text, version from listing order by id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let audit_before: i64 = sqlx::query_scalar("select count(*) from audit_log")
        .fetch_one(&app.db)
        .await
        .unwrap();
    for (path, body) in &cases {
        assert_problem(app.decide(path, &admin, body).await, 409, "invalid_state").await;
    }
    let after: Vec<(String, i32)> =
        sqlx::query_as("select status::text, version from listing order by id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let audit_after: i64 = sqlx::query_scalar("select count(*) from audit_log")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(before, after);
    assert_eq!(
        audit_before, audit_after,
        "refused actions are not logged as done"
    );

    // Suspend, then suspend again (409), then reinstate back to published.
    let path = format!("/v1/admin/listings/{published_id}/suspend");
    assert_eq!(app.post_as(&path, &admin, &reason).await.status(), 200);
    assert_problem(
        app.post_as(&path, &admin, &reason).await,
        409,
        "invalid_state",
    )
    .await;
    assert_problem(app.profile(&published_id).await, 404, "not_found").await;
    let back: Value = app
        .post_as(
            &format!("/v1/admin/listings/{published_id}/reinstate"),
            &admin,
            &reason,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(back["status"], "published");
    assert_eq!(
        audit_count(&app, "listing.suspended", &published_id).await,
        1
    );
    assert_eq!(
        audit_count(&app, "listing.reinstated", &published_id).await,
        1
    );
    assert_eq!(
        audit_count(&app, "listing.approved", &published_id).await,
        1
    );

    let empty = assert_problem(
        app.post_as(&path, &admin, &json!({"reason": "  "})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(empty["errors"][0]["field"], "reason");
    let missing = uuid::Uuid::now_v7();
    assert_problem(app.admin_approve(&admin, &missing).await, 404, "not_found").await;
}

/// Reinstating returns a listing to the state its suspension interrupted, and edits made
/// while it was suspended wait for review as they would have on the published listing.
#[tokio::test]
async fn reinstating_returns_a_listing_to_where_its_suspension_found_it() {
    let app = spawn_app().await;
    let admin = access(&app.admin("admin@example.com").await);
    let reason = json!({"reason": "checking a complaint"});
    let suspend_and_reinstate = async |id: &str| -> Value {
        let suspend = format!("/v1/admin/listings/{id}/suspend");
        assert_eq!(app.post_as(&suspend, &admin, &reason).await.status(), 200);
        let reinstate = format!("/v1/admin/listings/{id}/reinstate");
        let back = app.post_as(&reinstate, &admin, &reason).await;
        assert_eq!(back.status(), 200);
        back.json().await.unwrap()
    };

    // Published once, then hidden by its therapist: it stays hidden.
    let hidden = access(&submitted_therapist(&app, "hidden@example.com").await);
    let hidden_id = listing_id(&app, &hidden).await;
    assert_eq!(app.admin_approve(&admin, &hidden_id).await.status(), 200);
    let unpublish = app
        .post_as("/v1/me/listing/unpublish", &hidden, &json!({}))
        .await;
    assert_eq!(unpublish.status(), 200);
    assert_eq!(
        suspend_and_reinstate(&hidden_id).await["status"],
        "unpublished"
    );
    assert_problem(app.profile(&hidden_id).await, 404, "not_found").await;

    // Waiting for review: back in the queue, not published.
    let waiting = access(&submitted_therapist(&app, "waiting@example.com").await);
    let waiting_id = listing_id(&app, &waiting).await;
    let back = suspend_and_reinstate(&waiting_id).await;
    assert_eq!(back["status"], "pending_review");
    assert!(back["review_requested_at"].is_string(), "{back}");

    // Published, renamed while suspended: public again, with the new name in the queue and
    // its license no longer vouched for.
    let renamed = access(&submitted_therapist(&app, "renamed@example.com").await);
    let renamed_id = listing_id(&app, &renamed).await;
    assert_eq!(app.admin_approve(&admin, &renamed_id).await.status(), 200);
    let license: Value = app
        .admin_listing(&admin, &renamed_id)
        .await
        .json()
        .await
        .unwrap();
    let license_id = license["licenses"][0]["id"].as_str().unwrap().to_owned();
    let verify = format!("/v1/admin/licenses/{license_id}/verify");
    let etag = app.admin_listing(&admin, &renamed_id).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let verified = app
        .client
        .post(app.url(&verify))
        .bearer_auth(&admin)
        .header("if-match", etag)
        .json(&json!({"status": "verified"}))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), 200);
    let suspend = format!("/v1/admin/listings/{renamed_id}/suspend");
    assert_eq!(app.post_as(&suspend, &admin, &reason).await.status(), 200);
    let patch = app
        .patch_listing(&renamed, &json!({"display_name": "Dr. Someone Else"}), None)
        .await;
    assert_eq!(patch.status(), 200);
    let reinstate = format!("/v1/admin/listings/{renamed_id}/reinstate");
    let back: Value = app
        .post_as(&reinstate, &admin, &reason)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(back["status"], "published");
    assert!(back["review_requested_at"].is_string(), "{back}");
    assert_eq!(back["licenses"][0]["verification_status"], "unverified");
    let queue: Value = app
        .get_as("/v1/admin/listings?needs_review=true", &admin)
        .await
        .json()
        .await
        .unwrap();
    let queued: Vec<&str> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert!(queued.contains(&renamed_id.as_str()), "{queue}");
}

#[tokio::test]
async fn the_audit_log_filters_pages_and_cannot_be_changed() {
    let app = spawn_app().await;
    let admin_login = app.admin("admin@example.com").await;
    let admin = access(&admin_login);
    for n in 0..3 {
        app.verified_therapist(&format!("t{n}@example.com")).await;
    }
    let first: Value = app
        .audit_log(&admin, "action=auth.&limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let mut seen: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    let mut next = Some(cursor.clone());
    while let Some(cursor) = next {
        let page: Value = app
            .audit_log(&admin, &format!("action=auth.&limit=2&cursor={cursor}"))
            .await
            .json()
            .await
            .unwrap();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned()),
        );
        next = page["next_cursor"].as_str().map(str::to_owned);
    }
    let total: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action like 'auth.%'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        (seen.len() as i64, unique.len() as i64),
        (total, total),
        "every record exactly once"
    );

    let mut tampered = cursor.clone();
    tampered.insert(3, 'x');
    assert_problem(
        app.audit_log(&admin, &format!("cursor={tampered}")).await,
        400,
        "invalid_cursor",
    )
    .await;
    assert_problem(
        app.audit_log(&admin, "from=yesterday").await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_problem(
        app.audit_log(&admin, "limit=1000").await,
        400,
        "invalid_parameter",
    )
    .await;

    let actor = admin_login["account"]["id"].as_str().unwrap();
    let mine: Value = app
        .audit_log(&admin, &format!("actor={actor}"))
        .await
        .json()
        .await
        .unwrap();
    let mine = mine["items"].as_array().unwrap();
    assert!(!mine.is_empty(), "the actor's own records are listed");
    assert!(mine.iter().all(|i| i["actor_id"] == actor));

    for statement in [
        "update audit_log set action = 'x.y'",
        "delete from audit_log",
        "truncate audit_log",
    ] {
        let refused = sqlx::query(statement).execute(&app.db).await;
        assert!(refused.is_err(), "{statement} must be refused");
    }
    let accounts: Value = app
        .get_as("/v1/admin/accounts?email=t1@", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accounts["items"].as_array().unwrap().len(), 1);
    assert_eq!(accounts["items"][0]["email"], "t1@example.com");
}

/// Two admins suspending each other at the same moment take turns: one of them is left.
#[tokio::test]
async fn two_admins_cannot_suspend_each_other_at_once() {
    let app = spawn_app().await;
    let first = app.admin("first-admin@example.com").await;
    let second = app.admin("second-admin@example.com").await;
    let id = |login: &Value| login["account"]["id"].as_str().unwrap().to_owned();
    let reason = json!({"reason": "a dispute"});
    let (first_path, second_path) = (
        format!("/v1/admin/accounts/{}/suspend", id(&second)),
        format!("/v1/admin/accounts/{}/suspend", id(&first)),
    );
    let (first_token, second_token) = (access(&first), access(&second));
    // Both requests are made to wait on the two accounts, then let go together, so they
    // overlap whatever the scheduling.
    let mut hold = app.db.begin().await.unwrap();
    sqlx::query("select id from account where role = 'admin' for update")
        .execute(&mut *hold)
        .await
        .unwrap();
    let release = async {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        hold.commit().await.unwrap();
    };
    let (a, b, ()) = tokio::join!(
        app.post_as(&first_path, &first_token, &reason),
        app.post_as(&second_path, &second_token, &reason),
        release,
    );
    let statuses = [a.status().as_u16(), b.status().as_u16()];
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    let active: i64 = sqlx::query_scalar(
        "select count(*) from account where role = 'admin' and status = 'active'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(active, 1);
}
