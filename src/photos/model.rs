//! A profile photo as the API shows it, and the states of its review.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

/// The four variants of a photo. Stored as object names (`<sha256>.webp`); served as
/// absolute URLs (`Media::urls`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Photo {
    /// 160×160 WebP.
    #[schema(format = "uri")]
    pub w160: String,
    /// 400×400 WebP.
    #[schema(format = "uri")]
    pub w400: String,
    /// 800×800 WebP.
    #[schema(format = "uri")]
    pub w800: String,
    /// 400×400 JPEG, for clients without WebP.
    #[schema(format = "uri")]
    pub jpeg: String,
}

/// The same four variants of anything (the cleaner's encoded bytes, then their names).
#[derive(Debug, Clone)]
pub struct Variants<T> {
    pub w160: T,
    pub w400: T,
    pub w800: T,
    pub jpeg: T,
}

impl<T> Variants<T> {
    pub fn each(&self) -> [&T; 4] {
        [&self.w160, &self.w400, &self.w800, &self.jpeg]
    }

    pub fn map<U>(self, f: impl Fn(T) -> U) -> Variants<U> {
        Variants {
            w160: f(self.w160),
            w400: f(self.w400),
            w800: f(self.w800),
            jpeg: f(self.jpeg),
        }
    }
}

impl From<Variants<String>> for Photo {
    fn from(v: Variants<String>) -> Photo {
        Photo {
            w160: v.w160,
            w400: v.w400,
            w800: v.w800,
            jpeg: v.jpeg,
        }
    }
}

impl Photo {
    /// The object names (or URLs), in the order `Variants::each` gives them.
    pub fn names(&self) -> [&str; 4] {
        [&self.w160, &self.w400, &self.w800, &self.jpeg]
    }

    pub fn map(self, f: impl Fn(String) -> String) -> Photo {
        Photo {
            w160: f(self.w160),
            w400: f(self.w400),
            w800: f(self.w800),
            jpeg: f(self.jpeg),
        }
    }
}

/// Each variant's file format, as its object name's extension.
pub const EXTENSIONS: Variants<&str> = Variants {
    w160: "webp",
    w400: "webp",
    w800: "webp",
    jpeg: "jpg",
};

/// A stored variant's object name, `<SHA-256 of its bytes in hex>.<extension>`: named by
/// its content, so the same upload stores nothing new and a stored object never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectName {
    pub digest: [u8; 32],
    pub extension: &'static str,
}

impl ObjectName {
    pub fn of(bytes: &[u8], extension: &'static str) -> Self {
        ObjectName {
            digest: Sha256::digest(bytes).into(),
            extension,
        }
    }

    /// The digest a name written by `ObjectName` carries; `None` for any other string.
    pub fn digest_of(name: &str) -> Option<[u8; 32]> {
        let (hex, _extension) = name.split_once('.')?;
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(out)
    }
}

/// Written without allocating: search pages write one for every photo they show.
impl std::fmt::Display for ObjectName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut hex = [0u8; 64];
        f.write_str(crate::hex::hex_into(&self.digest, &mut hex))?;
        f.write_str(".")?;
        f.write_str(self.extension)
    }
}

/// Where a photo stands in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum PhotoStatus {
    /// Uploaded; an admin has not decided yet. The previous approved photo stays public.
    PendingReview,
    /// Public on the profile and in search.
    Approved,
    /// Not shown; `review_note` says why.
    Rejected,
}

/// The therapist's photo as they see it: the newest upload, or the approved one.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MyPhoto {
    pub id: Uuid,
    pub status: PhotoStatus,
    /// Why an admin rejected it.
    #[schema(required = true)]
    pub review_note: Option<String>,
    pub urls: Photo,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_name_is_its_contents_digest_and_reads_back() {
        let name = ObjectName::of(b"abc", EXTENSIONS.jpeg);
        assert_eq!(
            name.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.jpg"
        );
        assert_eq!(ObjectName::digest_of(&name.to_string()), Some(name.digest));
        for other in [
            "",
            "ba7816bf.jpg",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.jpg",
            "https://photos.example/dana.jpg",
        ] {
            assert_eq!(ObjectName::digest_of(other), None, "{other}");
        }
    }
}
