//! The sweep's photo steps: uploads (an image body), decisions and deletion.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Call, Sweep, Therapist, id};
use crate::helpers::TestApp;

/// The ids of the photos waiting for review.
async fn photo_queue(app: &TestApp, admin: &str) -> Vec<String> {
    let page: Value = app
        .get_as("/v1/admin/photos", admin)
        .await
        .json()
        .await
        .unwrap();
    page["items"]
        .as_array()
        .expect("the queue")
        .iter()
        .map(|p| id(p).to_owned())
        .collect()
}

/// Photos: uploaded, approved, uploaded again and rejected, deleted.
pub(super) async fn photos(sweep: &mut Sweep<'_>, admin: &str, therapists: &[Therapist]) {
    let app = sweep.app;
    let photo = |shade: u8| {
        let pixels = image::RgbImage::from_pixel(300, 300, image::Rgb([shade, 90, 160]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
            .encode_image(&pixels)
            .unwrap();
        out
    };
    let path = "/v1/me/listing/photo";
    let upload = |i: usize| {
        Call::default()
            .by(&therapists[i].access)
            .bytes(photo(10 * i as u8))
    };
    sweep.run(Method::PUT, path, upload).await;
    let pending = photo_queue(app, admin).await;
    let decide = |i: usize| Call::at(&pending[i]).by(admin);
    sweep
        .run(Method::POST, "/v1/admin/photos/{id}/approve", decide)
        .await;
    let again = |i: usize| {
        Call::default()
            .by(&therapists[i].access)
            .bytes(photo(100 + i as u8))
    };
    sweep.run(Method::PUT, path, again).await;
    let pending = photo_queue(app, admin).await;
    let reject = |i: usize| {
        Call::at(&pending[i])
            .by(admin)
            .with(json!({"reason": "Please use a photo of yourself."}))
    };
    sweep
        .run(Method::POST, "/v1/admin/photos/{id}/reject", reject)
        .await;
    let remove = |i: usize| Call::default().by(&therapists[i].access);
    sweep.run(Method::DELETE, path, remove).await;
}
