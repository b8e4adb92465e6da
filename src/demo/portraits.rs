//! Demo portraits: simple generated faces (a head, hair and shoulders on a plain
//! background, in varied colours), cleaned and stored like any upload, so that a newcomer's
//! first search shows faces. No image is downloaded. `PORTRAITS` of them are shared by all
//! demo listings, which keeps a million-listing seed to seconds of image work.

use image::{DynamicImage, Rgb, RgbImage};

use crate::photos::clean;
use crate::photos::media::Media;
use crate::photos::model::Photo;

/// The most distinct portraits a seed draws.
pub const PORTRAITS: u64 = 128;
const SIDE: u32 = 800;

const BACKGROUNDS: [[u8; 3]; 6] = [
    [214, 228, 240],
    [236, 226, 214],
    [222, 236, 222],
    [238, 222, 230],
    [228, 228, 236],
    [244, 238, 220],
];
const SKIN: [[u8; 3]; 6] = [
    [255, 219, 189],
    [234, 192, 158],
    [198, 144, 110],
    [160, 110, 80],
    [120, 80, 56],
    [88, 58, 40],
];
const HAIR: [[u8; 3]; 6] = [
    [30, 24, 20],
    [70, 44, 28],
    [120, 80, 40],
    [196, 160, 96],
    [160, 160, 160],
    [140, 60, 30],
];
const CLOTHES: [[u8; 3]; 6] = [
    [52, 84, 130],
    [120, 40, 60],
    [40, 110, 90],
    [90, 90, 96],
    [180, 120, 40],
    [70, 60, 120],
];

/// A small deterministic mix of `seed` and `i` (splitmix64's finaliser).
fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i.wrapping_add(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Portrait `i` of `seed`.
pub fn draw(seed: u64, i: u64) -> RgbImage {
    let r = mix(seed, i);
    let pick = |shift: u32| ((r >> shift) % 6) as usize;
    let (background, skin, hair, clothes) = (
        BACKGROUNDS[pick(0)],
        SKIN[pick(8)],
        HAIR[pick(16)],
        CLOTHES[pick(24)],
    );
    let long_hair = (r >> 32) & 1 == 1;
    let head_r = 150.0 + ((r >> 40) % 40) as f32;
    let (cx, cy) = (400.0, 330.0 + ((r >> 48) % 30) as f32);
    RgbImage::from_fn(SIDE, SIDE, |x, y| {
        let (x, y) = (x as f32, y as f32);
        let in_ellipse = |ex: f32, ey: f32, rx: f32, ry: f32| {
            ((x - ex) / rx).powi(2) + ((y - ey) / ry).powi(2) <= 1.0
        };
        let colour = if in_ellipse(400.0, 820.0, 330.0, 260.0) {
            clothes
        } else if in_ellipse(cx, cy, head_r, head_r * 1.15) {
            if y < cy - head_r * 0.45 || (long_hair && (x - cx).abs() > head_r * 0.8) {
                hair
            } else {
                skin
            }
        } else if long_hair && in_ellipse(cx, cy + 60.0, head_r * 1.12, head_r * 1.4) {
            hair
        } else if (x - cx).abs() < head_r * 0.4 && y > cy && y < cy + head_r * 1.6 {
            skin
        } else {
            background
        };
        Rgb(colour)
    })
}

/// Cleans and stores `count` portraits of `seed` like uploads; their object names.
/// CPU-bound (the encoding), then the writes.
pub async fn store(media: &Media, seed: u64, count: u64) -> anyhow::Result<Vec<Photo>> {
    // Spread over the cores: the load waits for the portraits' names.
    let encoded = tokio::task::spawn_blocking(move || {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
        let count = count.max(1);
        std::thread::scope(|scope| {
            let parts: Vec<_> = (0..threads)
                .map(|part| {
                    scope.spawn(move || {
                        (part * count / threads..(part + 1) * count / threads)
                            .map(|i| clean::variants(DynamicImage::ImageRgb8(draw(seed, i))))
                            .collect::<Result<Vec<_>, _>>()
                    })
                })
                .collect();
            let mut all = Vec::with_capacity(count as usize);
            for part in parts {
                all.extend(part.join().map_err(|_| {
                    clean::Refused::Invalid("the drawing thread panicked".into())
                })??);
            }
            Ok::<_, clean::Refused>(all)
        })
    })
    .await?
    .map_err(|refused| anyhow::anyhow!("a demo portrait could not be encoded: {refused:?}"))?;
    let mut photos = Vec::with_capacity(encoded.len());
    for variants in encoded {
        for e in variants.each() {
            media.put(&e.name, e.bytes.clone()).await?;
        }
        photos.push(Photo::from(variants.map(|e| e.name)));
    }
    Ok(photos)
}
