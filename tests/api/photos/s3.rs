//! The photo store on S3, against a real S3-protocol server (`helpers::s3`): objects are
//! written signed, served by every process, deleted with their photo, and an object no row
//! refers to is collected once it is old enough (never an upload still in flight).

use std::time::{Duration, SystemTime};

use therapist_directory::maintenance::{self, MaintenanceSettings};
use therapist_directory::photos::media::{Media, MediaSettings, S3Settings};

use super::{jpeg, upload};
use crate::helpers::json_of;
use crate::helpers::s3::{self, ACCESS_KEY, SECRET_KEY};
use crate::helpers::{TestAppBuilder, access, published_therapist};

#[tokio::test]
async fn the_s3_store_keeps_serves_deletes_and_collects_objects() {
    let server = s3::start("photos");
    let settings = MediaSettings {
        store: "s3://photos/media".into(),
        public_url: None,
        s3: S3Settings {
            endpoint: Some(server.endpoint.clone()),
            region: Some("us-east-1".into()),
            access_key_id: Some(ACCESS_KEY.into()),
            secret_access_key: Some(SECRET_KEY.to_owned().into()),
            allow_http: true,
        },
    };
    let app = TestAppBuilder::default()
        .env("APP_MEDIA_STORE", &settings.store)
        .env("AWS_ENDPOINT_URL", &server.endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_ALLOW_HTTP", "true")
        .spawn()
        .await;
    let admin = access(&app.admin("s3-admin@example.com").await);
    let (token, _, _) = published_therapist(&app, "s3-owner@example.com").await;
    let photo = json_of(
        upload(&app, &token, "image/jpeg", jpeg(640, 480, [40, 160, 90])).await,
        200,
    )
    .await;
    let stored = |url: &serde_json::Value| {
        let name = url.as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        server.root.join("photos/media").join(name)
    };
    for variant in ["w160", "w400", "w800", "jpeg"] {
        assert!(
            stored(&photo["urls"][variant]).exists(),
            "{variant} is not in the bucket"
        );
    }
    let id = photo["id"].as_str().unwrap();
    let approved = app
        .client
        .post(app.url(&format!("/v1/admin/photos/{id}/approve")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), 200);
    // Another process reads the same bucket.
    let sibling = app.sibling().await;
    let w800 = photo["urls"]["w800"].as_str().unwrap();
    let path = w800.strip_prefix(&app.address).unwrap();
    let served = sibling.client.get(sibling.url(path)).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(
        served.bytes().await.unwrap(),
        std::fs::read(stored(&photo["urls"]["w800"])).unwrap()
    );

    // Collection: an old object no row names goes; a fresh one (an upload between its
    // objects and its row) and the photo's own stay.
    let media = Media::open(&settings, "http://unused/").unwrap();
    let (old, fresh) = (
        format!("{}.webp", "a".repeat(64)),
        format!("{}.webp", "b".repeat(64)),
    );
    media.put(&old, b"left behind".to_vec()).await.unwrap();
    media.put(&fresh, b"in flight".to_vec()).await.unwrap();
    let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
    for name in [&old, w800.rsplit('/').next().unwrap()] {
        std::fs::File::options()
            .write(true)
            .open(server.root.join("photos/media").join(name))
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
    }
    let pass = MaintenanceSettings {
        interval: Duration::ZERO,
        inquiry_retention: time::Duration::days(180),
        public_base_url: app.public_base_url.clone(),
        media: Some(media.clone()),
    };
    let report = maintenance::run_once(&app.db, &app.clock, &pass)
        .await
        .unwrap();
    assert_eq!(report.media_objects_deleted, 1, "{report:?}");
    assert!(media.get(&old).await.unwrap().is_none());
    assert!(media.get(&fresh).await.unwrap().is_some());
    assert!(stored(&photo["urls"]["w800"]).exists());

    // Deleting the photo deletes its objects.
    let deleted = app
        .client
        .delete(app.url("/v1/me/listing/photo"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    for variant in ["w160", "w400", "w800", "jpeg"] {
        assert!(
            !stored(&photo["urls"][variant]).exists(),
            "{variant} is still in the bucket"
        );
    }
}
