//! An uploaded image turned into a profile photo's variants: the type decided from the
//! bytes, the size refused from the header before any pixel is decoded, turned upright
//! (EXIF orientation), cropped square at the centre and encoded anew at each size. Encoding
//! from pixels writes no metadata at all: EXIF (with any GPS position), XMP, IPTC, ICC
//! profiles and comments are left behind with the original.
//!
//! CPU-bound and blocking: the route runs it on a blocking thread, a bounded number at once.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits, RgbImage};

use super::model::{EXTENSIONS, ObjectName, Variants};

/// The largest side an upload may have, in pixels.
pub const MAX_SIDE: u32 = 12_000;
/// The most pixels an upload may have.
pub const MAX_PIXELS: u64 = 40_000_000;
/// The smallest side a photo needs: the smallest variant's.
pub const MIN_SIDE: u32 = 160;
/// Memory a decoder may allocate: 40 megapixels of RGBA with room for its own buffers.
const MAX_ALLOC: u64 = 256 << 20;
const WEBP_QUALITY: f32 = 80.0;
const JPEG_QUALITY: u8 = 85;

/// The image types an upload may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    WebP,
}

impl Kind {
    /// The kind a `Content-Type` names (parameters and case ignored).
    pub fn from_content_type(value: &str) -> Option<Kind> {
        let essence = value.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            "image/jpeg" => Some(Kind::Jpeg),
            "image/png" => Some(Kind::Png),
            "image/webp" => Some(Kind::WebP),
            _ => None,
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            Kind::Jpeg => ImageFormat::Jpeg,
            Kind::Png => ImageFormat::Png,
            Kind::WebP => ImageFormat::WebP,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Jpeg => "JPEG",
            Kind::Png => "PNG",
            Kind::WebP => "WebP",
        }
    }
}

/// Why an upload is refused, with what to tell the uploader.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not a JPEG, PNG or WebP, or not the type its `Content-Type` says (415).
    UnsupportedType(String),
    /// Over `MAX_SIDE` or `MAX_PIXELS` (422 `image_too_large`).
    TooLarge(String),
    /// Truncated, corrupt, animated or too small (422 `invalid_image`).
    Invalid(String),
}

/// One encoded variant and the name it is stored under: its content's SHA-256.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The variants of `bytes`, uploaded as `declared`.
pub fn clean(bytes: &[u8], declared: Kind) -> Result<Variants<Encoded>, Refused> {
    let found = match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => Kind::Jpeg,
        Ok(ImageFormat::Png) => Kind::Png,
        Ok(ImageFormat::WebP) => Kind::WebP,
        _ => {
            return Err(Refused::UnsupportedType(
                "the body is not a JPEG, PNG or WebP image".into(),
            ));
        }
    };
    if found != declared {
        return Err(Refused::UnsupportedType(format!(
            "the body is a {} image, not the {} its Content-Type says",
            found.name(),
            declared.name()
        )));
    }
    if found == Kind::WebP && is_animated_webp(bytes) {
        return Err(Refused::Invalid("animated images are not accepted".into()));
    }
    if found == Kind::Jpeg && !jpeg_is_complete(bytes) {
        return Err(Refused::Invalid("the JPEG is truncated".into()));
    }
    variants(decode(bytes, found)?)
}

/// The variants of an upright image: cropped square at the centre, then encoded at each
/// size.
pub fn variants(upright: DynamicImage) -> Result<Variants<Encoded>, Refused> {
    let side = upright.width().min(upright.height());
    if side < MIN_SIDE {
        return Err(Refused::Invalid(format!(
            "the image is {}×{} pixels; a photo needs at least {MIN_SIDE} on each side",
            upright.width(),
            upright.height()
        )));
    }
    let square = upright.crop_imm(
        (upright.width() - side) / 2,
        (upright.height() - side) / 2,
        side,
        side,
    );
    drop(upright);
    // Each size from the one above it: the large step once, then small ones.
    let w800 = flatten(&square.resize_exact(800, 800, FilterType::CatmullRom));
    drop(square);
    let w400 = image::imageops::resize(&w800, 400, 400, FilterType::CatmullRom);
    let w160 = image::imageops::resize(&w400, 160, 160, FilterType::CatmullRom);
    Ok(Variants {
        w160: named(webp(&w160)?, EXTENSIONS.w160),
        w400: named(webp(&w400)?, EXTENSIONS.w400),
        w800: named(webp(&w800)?, EXTENSIONS.w800),
        jpeg: named(jpeg(&w400)?, EXTENSIONS.jpeg),
    })
}

/// The image, upright, after the header's size was checked against the limits.
fn decode(bytes: &[u8], kind: Kind) -> Result<DynamicImage, Refused> {
    let too_large = || {
        Refused::TooLarge(format!(
            "at most {MAX_SIDE} pixels on a side and {} megapixels",
            MAX_PIXELS / 1_000_000
        ))
    };
    let invalid = |e: ImageError| match e {
        ImageError::Limits(_) => too_large(),
        other => Refused::Invalid(format!("the image could not be read: {other}")),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    // The header only: dimensions are checked here, before any pixel buffer exists.
    let mut decoder = reader.into_decoder().map_err(invalid)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS || decoder.total_bytes() > MAX_ALLOC {
        return Err(too_large());
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(invalid)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// RGB pixels, transparent ones laid on white.
fn flatten(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([over(r), over(g), over(b)])
    })
}

fn webp(pixels: &RgbImage) -> Result<Vec<u8>, Refused> {
    webp::Encoder::from_rgb(pixels.as_raw(), pixels.width(), pixels.height())
        .encode_simple(false, WEBP_QUALITY)
        .map(|memory| memory.to_vec())
        .map_err(|e| Refused::Invalid(format!("the image could not be encoded: {e:?}")))
}

fn jpeg(pixels: &RgbImage) -> Result<Vec<u8>, Refused> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(pixels)
        .map_err(|e| Refused::Invalid(format!("the image could not be encoded: {e}")))?;
    Ok(out)
}

fn named(bytes: Vec<u8>, extension: &'static str) -> Encoded {
    Encoded {
        name: ObjectName::of(&bytes, extension).to_string(),
        bytes,
    }
}

/// Whether a WebP file says it is animated (the VP8X header's animation flag). Only its
/// first frame would be decoded, so it is refused rather than shown frozen.
fn is_animated_webp(bytes: &[u8]) -> bool {
    bytes.len() > 20 && &bytes[12..16] == b"VP8X" && bytes[20] & 0x02 != 0
}

/// Whether a JPEG ends with its end-of-image marker (trailing padding aside). The decoder
/// fills the rows of a file cut short with grey rather than failing.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    bytes[..end].ends_with(&[0xFF, 0xD9])
}

#[cfg(test)]
mod tests {
    use image::{ImageEncoder, Rgb, RgbImage};
    use sha2::{Digest, Sha256};

    use super::*;

    /// A `width`×`height` image, red on its left half and blue on its right.
    fn halves(width: u32, height: u32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, _| {
            if x < width / 2 {
                Rgb([220, 20, 20])
            } else {
                Rgb([20, 20, 220])
            }
        })
    }

    fn jpeg_of(pixels: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(pixels)
            .unwrap();
        out
    }

    fn png_of(pixels: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(
                pixels,
                pixels.width(),
                pixels.height(),
                image::ExtendedColorType::Rgb8,
            )
            .unwrap();
        out
    }

    /// An EXIF block (APP1) saying "rotate 90° clockwise to show", with a GPS position.
    fn exif_rotated_with_gps() -> Vec<u8> {
        let mut tiff: Vec<u8> = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
        // IFD0 at 8: two entries (orientation 6; the GPS IFD's offset), then no next IFD.
        tiff.extend([2, 0]);
        tiff.extend([0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
        tiff.extend([0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]);
        tiff.extend([0, 0, 0, 0]);
        // GPS IFD at 38: latitude reference "N".
        tiff.extend([1, 0, 1, 0, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0, 0, 0, 0, 0]);
        let mut app1 = vec![0xFF, 0xE1];
        let len = (2 + 6 + tiff.len()) as u16;
        app1.extend(len.to_be_bytes());
        app1.extend(b"Exif\0\0");
        app1.extend(tiff);
        app1
    }

    fn decoded(bytes: &[u8], format: ImageFormat) -> DynamicImage {
        image::load_from_memory_with_format(bytes, format).unwrap()
    }

    fn is_red(p: Rgb<u8>) -> bool {
        p.0[0] > 150 && p.0[2] < 100
    }

    fn is_blue(p: Rgb<u8>) -> bool {
        p.0[2] > 150 && p.0[0] < 100
    }

    #[test]
    fn a_photo_is_turned_upright_cropped_square_and_stripped_of_its_metadata() {
        // 600×300, shown rotated 90° clockwise: upright it is 300×600, red above blue.
        let plain = jpeg_of(&halves(600, 300));
        let mut tagged = plain[..2].to_vec();
        tagged.extend(exif_rotated_with_gps());
        tagged.extend(&plain[2..]);
        let variants = clean(&tagged, Kind::Jpeg).unwrap();
        for (encoded, side) in variants.each().into_iter().zip([160, 400, 800, 400]) {
            let format = if encoded.name.ends_with(".jpg") {
                ImageFormat::Jpeg
            } else {
                ImageFormat::WebP
            };
            let image = decoded(&encoded.bytes, format).to_rgb8();
            assert_eq!(
                (image.width(), image.height()),
                (side, side),
                "{}",
                encoded.name
            );
            // Upright: red on top, blue below (unturned, it would be red left, blue right).
            assert!(
                is_red(*image.get_pixel(side / 2, side / 10)),
                "{}",
                encoded.name
            );
            assert!(
                is_blue(*image.get_pixel(side / 2, side - side / 10)),
                "{}",
                encoded.name
            );
            for marker in [
                &b"Exif"[..],
                b"GPS",
                b"http://ns.adobe.com/xap",
                b"ICC_PROFILE",
            ] {
                assert!(
                    !encoded.bytes.windows(marker.len()).any(|w| w == marker),
                    "{} keeps {:?}",
                    encoded.name,
                    String::from_utf8_lossy(marker)
                );
            }
            let hex = encoded.name.split('.').next().unwrap();
            let digest = crate::hex::hex(&Sha256::digest(&encoded.bytes));
            assert_eq!(hex, digest, "named by its content");
        }
        // The same upload gives the same names: a repeated upload stores nothing new.
        assert_eq!(
            clean(&tagged, Kind::Jpeg).unwrap().w400.name,
            variants.w400.name
        );
    }

    #[test]
    fn the_type_is_decided_from_the_bytes() {
        let png = png_of(&halves(300, 300));
        assert!(clean(&png, Kind::Png).is_ok());
        assert!(
            matches!(clean(&png, Kind::Jpeg), Err(Refused::UnsupportedType(m)) if m.contains("PNG"))
        );
        assert!(matches!(
            clean(b"GIF89a not a photo at all", Kind::Jpeg),
            Err(Refused::UnsupportedType(_))
        ));
        assert_eq!(
            Kind::from_content_type("Image/PNG; charset=x"),
            Some(Kind::Png)
        );
        assert_eq!(Kind::from_content_type("image/gif"), None);
    }

    /// A PNG whose header claims `width`×`height` over a one-pixel body.
    fn png_claiming(width: u32, height: u32) -> Vec<u8> {
        let mut png = png_of(&halves(2, 1));
        // IHDR's data starts after the signature (8), the length (4) and the type (4).
        png[16..20].copy_from_slice(&width.to_be_bytes());
        png[20..24].copy_from_slice(&height.to_be_bytes());
        let crc = crc32fast::hash(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        png
    }

    #[test]
    fn a_size_over_the_limits_is_refused_from_the_header() {
        // A decompression bomb's header: 100,000 × 100,000 would be 40 GB of pixels.
        for (w, h) in [(100_000, 100_000), (12_001, 200), (10_000, 5_000)] {
            assert!(
                matches!(
                    clean(&png_claiming(w, h), Kind::Png),
                    Err(Refused::TooLarge(_))
                ),
                "{w}×{h}"
            );
        }
    }

    #[test]
    fn truncated_corrupt_animated_and_tiny_images_are_invalid() {
        let jpeg = jpeg_of(&halves(400, 400));
        for cut in [jpeg.len() / 2, jpeg.len() - 3, 40] {
            assert!(
                matches!(clean(&jpeg[..cut], Kind::Jpeg), Err(Refused::Invalid(_))),
                "cut at {cut}"
            );
        }
        let png = png_of(&halves(300, 300));
        let mut broken = png.clone();
        for b in &mut broken[60..200] {
            *b ^= 0x5A;
        }
        assert!(matches!(
            clean(&broken, Kind::Png),
            Err(Refused::Invalid(_))
        ));
        assert!(matches!(
            clean(&png[..png.len() / 2], Kind::Png),
            Err(Refused::Invalid(_))
        ));
        // A WebP whose extended header says it is animated.
        let mut animated = b"RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00".to_vec();
        animated.extend([0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(
            matches!(clean(&animated, Kind::WebP), Err(Refused::Invalid(m)) if m.contains("animated"))
        );
        assert!(matches!(
            clean(&jpeg_of(&halves(100, 300)), Kind::Jpeg),
            Err(Refused::Invalid(m)) if m.contains("at least")
        ));
    }
}
