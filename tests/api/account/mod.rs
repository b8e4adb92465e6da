//! The account's own life: editing without re-reading, the preview of a draft, and what
//! an admin console counts.

use reqwest::header::ETAG;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, access, assert_problem, json_of, published_therapist, spawn_app, submitted_therapist,
};
use crate::photos::{jpeg, upload};

mod life;

fn etag(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(ETAG)
        .unwrap_or_else(|| panic!("no ETag on {} {}", response.status(), response.url()))
        .to_str()
        .unwrap()
        .to_owned()
}

async fn current_etag(app: &TestApp, token: &str) -> String {
    etag(&app.my_listing(token).await)
}

/// Every write to a part answers with the listing's new tag, which the next conditional
/// write of the listing accepts.
#[tokio::test]
async fn part_writes_answer_the_listing_new_etag() {
    let app = spawn_app().await;
    let token = access(&app.verified_therapist("parts-etag@example.com").await);
    let before = current_etag(&app, &token).await;

    let office =
        json!({"address_line1": "1 Main St", "city": "Raleigh", "state": "NC", "zip": "27601"});
    let created = app.add_office(&token, &office).await;
    let after_office = etag(&created);
    let office_id = json_of(created, 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(after_office, before);
    assert_eq!(after_office, current_etag(&app, &token).await);

    let patched = app
        .patch_as(
            &format!("/v1/me/listing/offices/{office_id}"),
            &token,
            &json!({"city": "Durham", "zip": "27701"}),
            None,
        )
        .await;
    assert_eq!(patched.status(), 200);
    let after_patch = etag(&patched);
    assert_eq!(after_patch, current_etag(&app, &token).await);

    let license = json!({"type": "LPC", "number": "E1", "state": "NC", "expires_on": "2030-01-31"});
    let created = app.add_license(&token, &license).await;
    assert_eq!(created.status(), 201);
    let after_license = etag(&created);
    assert_ne!(after_license, after_patch);

    let deleted = app
        .delete_as(&format!("/v1/me/listing/offices/{office_id}"), &token)
        .await;
    assert_eq!(deleted.status(), 204);
    let after_delete = etag(&deleted);
    assert_eq!(after_delete, current_etag(&app, &token).await);

    let photo = upload(&app, &token, "image/jpeg", jpeg(400, 400, [1, 2, 3])).await;
    assert_eq!(photo.status(), 200);
    let after_photo = etag(&photo);
    assert_eq!(after_photo, current_etag(&app, &token).await);
    let removed = app.delete_as("/v1/me/listing/photo", &token).await;
    assert_eq!(removed.status(), 204);
    let after_removal = etag(&removed);
    assert_ne!(after_removal, after_photo);
    // Nothing left to remove: the tag stays the current one.
    let again = app.delete_as("/v1/me/listing/photo", &token).await;
    assert_eq!(etag(&again), after_removal);

    // The editor goes on with the tag it was given: no 412.
    let listing = app
        .patch_listing(
            &token,
            &json!({"pronouns": "she/her"}),
            Some(&after_removal),
        )
        .await;
    assert_eq!(listing.status(), 200);
    // And a stale one is still refused.
    let stale = app
        .patch_listing(
            &token,
            &json!({"pronouns": "they/them"}),
            Some(&after_delete),
        )
        .await;
    assert_problem(stale, 412, "precondition_failed").await;
}

/// A draft has no public profile, but its owner sees it in that shape; nobody else does.
#[tokio::test]
async fn the_preview_shows_a_draft_in_the_public_profile_shape() {
    let app = spawn_app().await;
    let (_, _, published_slug) = published_therapist(&app, "published@example.com").await;
    let public = json_of(app.profile(&published_slug).await, 200).await;
    assert!(public["updated_at"].is_string(), "{public}");

    let token = access(&submitted_therapist(&app, "draft@example.com").await);
    let mine = json_of(app.my_listing(&token).await, 200).await;
    let slug = mine["slug"].as_str().unwrap();
    assert_eq!(app.profile(slug).await.status(), 404, "not public yet");
    let upload = upload(&app, &token, "image/jpeg", jpeg(400, 400, [9, 9, 9])).await;
    assert_eq!(upload.status(), 200);

    let preview = json_of(app.get_as("/v1/me/listing/preview", &token).await, 200).await;
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&preview), keys(&public), "the public profile's shape");
    assert_eq!(preview["slug"], mine["slug"]);
    assert_eq!(preview["display_name"], "Hailey Shafir");
    assert_eq!(preview["offices"][0]["city"], "Raleigh");
    assert!(
        preview["photo"]["w400"].is_string(),
        "the upload under review"
    );
    let mine = json_of(app.my_listing(&token).await, 200).await;
    assert_eq!(preview["updated_at"], mine["updated_at"]);

    let admin = access(&app.admin("preview-admin@example.com").await);
    assert_eq!(
        app.get_as("/v1/me/listing/preview", &admin).await.status(),
        403
    );
    assert_eq!(app.get("/v1/me/listing/preview").await.status(), 401);
}

/// The counts behind an admin console's badges follow each queue.
#[tokio::test]
async fn the_admin_summary_counts_what_waits() {
    let app = spawn_app().await;
    let admin = access(&app.admin("summary-admin@example.com").await);
    let summary = || async { json_of(app.get_as("/v1/admin/summary", &admin).await, 200).await };
    assert_eq!(
        summary().await,
        json!({"pending_review": 0, "pending_photos": 0, "unverified_credentials": 0, "open_reports": 0})
    );

    let token = access(&submitted_therapist(&app, "queued@example.com").await);
    assert_eq!(
        upload(&app, &token, "image/jpeg", jpeg(400, 400, [5, 5, 5]))
            .await
            .status(),
        200
    );
    let (_, _, slug) = published_therapist(&app, "reported@example.com").await;
    let report = app
        .report_listing(
            &slug,
            &json!({"reason": "inaccurate_info", "details": "The phone number is wrong."}),
        )
        .await;
    assert_eq!(report.status(), 202);
    // Each submitted listing holds a license and a certification, unverified.
    assert_eq!(
        summary().await,
        json!({"pending_review": 2, "pending_photos": 1, "unverified_credentials": 4, "open_reports": 1})
    );

    let therapist = access(&app.verified_therapist("not-admin@example.com").await);
    assert_eq!(
        app.get_as("/v1/admin/summary", &therapist).await.status(),
        403
    );
}
