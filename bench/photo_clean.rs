//! `photo_clean [OUT_DIR]`: the work an upload of a large photo costs, in one process: a
//! 24-megapixel (6000×4000) JPEG of about 10 MiB (photographic noise, so it does not
//! compress to nothing) is cleaned as `PUT /v1/me/listing/photo` cleans it, and its four
//! variants written to a local photo store. Prints the time of each step and the process's
//! peak resident memory (VmHWM) before and after.

// A benchmark: any failure ends it with its message.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Instant;

use image::{Rgb, RgbImage};
use therapist_directory::photos::clean::{self, Kind};
use therapist_directory::photos::media::{Media, MediaSettings, S3Settings};

fn peak_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/bench/photo-store".into());
    // A smooth picture with per-pixel noise: JPEG at quality 92 makes it about 10 MiB.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let pixels = RgbImage::from_fn(6000, 4000, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let noise = (state % 24) as u8;
        Rgb([
            ((x / 24) as u8).wrapping_add(noise),
            ((y / 16) as u8).wrapping_add(noise / 2),
            (((x + y) / 40) as u8).wrapping_add(noise),
        ])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 92)
        .encode_image(&pixels)
        .expect("encoding the test photo");
    drop(pixels);
    println!(
        "upload: 6000×4000 JPEG, {:.1} MiB; peak resident memory so far {} MB",
        jpeg.len() as f64 / (1 << 20) as f64,
        peak_mb()
    );
    let started = Instant::now();
    let variants = clean::clean(&jpeg, Kind::Jpeg).expect("cleaning");
    let cleaned = started.elapsed();
    let media = Media::open(
        &MediaSettings {
            store: out,
            public_url: None,
            s3: S3Settings::default(),
        },
        "http://localhost/media/",
    )
    .expect("the store");
    let stored_at = Instant::now();
    for v in variants.each() {
        media.put(&v.name, v.bytes.clone()).await.expect("storing");
    }
    let sizes: Vec<String> = variants
        .each()
        .iter()
        .map(|v| format!("{} B", v.bytes.len()))
        .collect();
    println!(
        "cleaned (decode, orient, crop, resize, encode 4 variants) in {:.0} ms; stored in {:.1} ms; variants {}",
        cleaned.as_secs_f64() * 1000.0,
        stored_at.elapsed().as_secs_f64() * 1000.0,
        sizes.join(", ")
    );
    println!("peak resident memory after: {} MB", peak_mb());
}
