//! Profile photos end to end: upload, review, the public photo in profiles and search,
//! the served variants, deletion, and what an upload may not be.

use image::{ImageEncoder, Rgb, RgbImage};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use serde_json::{Value, json};

use crate::helpers::{TestApp, access, assert_problem, json_of, published_therapist, spawn_app};

mod s3;

/// A `width`×`height` JPEG of one colour.
pub(crate) fn jpeg(width: u32, height: u32, colour: [u8; 3]) -> Vec<u8> {
    let pixels = RgbImage::from_pixel(width, height, Rgb(colour));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&pixels)
        .unwrap();
    out
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let pixels = RgbImage::from_pixel(width, height, Rgb([10, 200, 10]));
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&pixels, width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

pub(crate) async fn upload(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.client
        .put(app.url("/v1/me/listing/photo"))
        .bearer_auth(token)
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn profile_photo(app: &TestApp, slug: &str) -> Value {
    let profile = json_of(app.profile(slug).await, 200).await;
    assert_eq!(
        profile["photo_url"],
        profile["photo"].get("w400").cloned().unwrap_or(Value::Null)
    );
    profile["photo"].clone()
}

async fn search_photo(app: &TestApp, slug: &str) -> Value {
    let page = json_of(app.search("limit=50").await, 200).await;
    let item = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["slug"] == slug)
        .unwrap_or_else(|| panic!("{slug} is not in search: {page}"))
        .clone();
    assert_eq!(
        item["photo_url"],
        item["photo"].get("w400").cloned().unwrap_or(Value::Null)
    );
    item["photo"].clone()
}

#[tokio::test]
async fn a_photo_is_public_once_approved_and_served_as_immutable_media() {
    let app = spawn_app().await;
    let admin = access(&app.admin("photo-admin@example.com").await);
    let (token, _, slug) = published_therapist(&app, "photo-owner@example.com").await;

    let first = json_of(
        upload(&app, &token, "image/jpeg", jpeg(900, 600, [200, 30, 30])).await,
        200,
    )
    .await;
    assert_eq!(first["status"], "pending_review");
    let w400 = first["urls"]["w400"].as_str().unwrap().to_owned();
    assert!(
        w400.starts_with(&app.address) && w400.ends_with(".webp"),
        "{w400}"
    );
    assert_eq!(
        json_of(app.get_as("/v1/me/listing/photo", &token).await, 200).await,
        first
    );
    // Waiting for review: not public.
    assert_eq!(profile_photo(&app, &slug).await, Value::Null);
    assert_eq!(search_photo(&app, &slug).await, Value::Null);

    let queue = json_of(app.get_as("/v1/admin/photos", &admin).await, 200).await;
    assert_eq!(queue["items"][0]["id"], first["id"]);
    assert_eq!(queue["items"][0]["listing_slug"], slug);
    let id = first["id"].as_str().unwrap();
    let approved = app
        .client
        .post(app.url(&format!("/v1/admin/photos/{id}/approve")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(approved, 200).await["status"], "approved");
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'photo.approved' and target_id = $1::uuid",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    assert_eq!(profile_photo(&app, &slug).await, first["urls"]);
    assert_eq!(search_photo(&app, &slug).await, first["urls"]);

    // The variants are served with the headers a cache needs; a sibling process serves
    // them too.
    for url in [&w400, first["urls"]["jpeg"].as_str().unwrap()] {
        let path = url.strip_prefix(&app.address).unwrap();
        let got = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(got.status(), 200);
        let expected = if path.ends_with(".jpg") {
            "image/jpeg"
        } else {
            "image/webp"
        };
        assert_eq!(got.headers()[CONTENT_TYPE], expected);
        assert_eq!(
            got.headers()[CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(got.headers()["x-content-type-options"], "nosniff");
        let tag = got.headers()[ETAG].to_str().unwrap().to_owned();
        let bytes = got.bytes().await.unwrap();
        assert!(image::load_from_memory(&bytes).is_ok());
        let again = app
            .client
            .get(app.url(path))
            .header(IF_NONE_MATCH, &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
        let head = app.client.head(app.url(path)).send().await.unwrap();
        assert_eq!(head.status(), 200);
        assert!(head.bytes().await.unwrap().is_empty());
    }
    let sibling = app.sibling().await;
    let path = w400.strip_prefix(&app.address).unwrap();
    assert_eq!(
        sibling
            .client
            .get(sibling.url(path))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    for missing in [
        "/media/not-a-name.webp",
        &format!("/media/{}.webp", "0".repeat(64)),
    ] {
        assert_eq!(
            app.client
                .get(app.url(missing))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
    }

    // A new upload waits while the approved photo stays public; rejected, the owner sees why.
    let second = json_of(upload(&app, &token, "image/png", png(500, 500)).await, 200).await;
    assert_eq!(profile_photo(&app, &slug).await, first["urls"]);
    let second_id = second["id"].as_str().unwrap();
    let rejected = app
        .client
        .post(app.url(&format!("/v1/admin/photos/{second_id}/reject")))
        .bearer_auth(&admin)
        .json(&json!({"reason": "Please upload a photo of yourself."}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(rejected, 200).await["status"], "rejected");
    let mine = json_of(app.get_as("/v1/me/listing/photo", &token).await, 200).await;
    assert_eq!(mine["status"], "rejected");
    assert_eq!(mine["review_note"], "Please upload a photo of yourself.");
    assert_eq!(profile_photo(&app, &slug).await, first["urls"]);
    let twice = app
        .client
        .post(app.url(&format!("/v1/admin/photos/{second_id}/approve")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_problem(twice, 409, "invalid_state").await;

    // Deleting removes every photo, its public use and its objects.
    let deleted = app
        .client
        .delete(app.url("/v1/me/listing/photo"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(profile_photo(&app, &slug).await, Value::Null);
    assert_eq!(search_photo(&app, &slug).await, Value::Null);
    assert_eq!(
        app.client.get(app.url(path)).send().await.unwrap().status(),
        404
    );
    assert_problem(
        app.get_as("/v1/me/listing/photo", &token).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn an_upload_that_is_not_a_usable_photo_is_refused_clearly() {
    let app = spawn_app().await;
    let (token, _, _) = published_therapist(&app, "photo-refused@example.com").await;
    let photo = jpeg(400, 400, [0, 0, 200]);

    assert_problem(
        upload(&app, &token, "text/plain", photo.clone()).await,
        415,
        "unsupported_media_type",
    )
    .await;
    assert_problem(
        upload(&app, &token, "image/png", photo.clone()).await,
        415,
        "unsupported_media_type",
    )
    .await;
    assert_problem(
        upload(&app, &token, "image/jpeg", b"not an image".to_vec()).await,
        415,
        "unsupported_media_type",
    )
    .await;
    assert_problem(
        upload(
            &app,
            &token,
            "image/jpeg",
            photo[..photo.len() / 2].to_vec(),
        )
        .await,
        422,
        "invalid_image",
    )
    .await;
    assert_problem(
        upload(&app, &token, "image/jpeg", jpeg(100, 100, [1, 2, 3])).await,
        422,
        "invalid_image",
    )
    .await;
    // A header claiming 20,000 × 20,000 pixels over a few bytes.
    let mut bomb = png(2, 2);
    bomb[16..20].copy_from_slice(&20_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&20_000u32.to_be_bytes());
    let crc = crc32fast::hash(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    assert_problem(
        upload(&app, &token, "image/png", bomb).await,
        422,
        "image_too_large",
    )
    .await;
    let mut huge = photo.clone();
    huge.resize(11 << 20, 0);
    assert_problem(
        upload(&app, &token, "image/jpeg", huge).await,
        413,
        "payload_too_large",
    )
    .await;
    // Nothing was stored.
    let rows: i64 = sqlx::query_scalar("select count(*) from listing_photo")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 0);
    // A typed photo_url is no longer a field of the listing.
    let patched = app
        .patch_listing(
            &token,
            &json!({"photo_url": "https://elsewhere.example/me.jpg"}),
            None,
        )
        .await;
    let problem = assert_problem(patched, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "photo_url");
}
