//! A profile photo as the API shows it, and the states of its review.

use serde::{Deserialize, Serialize};
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
