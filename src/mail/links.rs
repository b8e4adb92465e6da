//! The frontend pages the emails link to: the one list of them, and how a link is built
//! from `APP_PUBLIC_BASE_URL` (its path kept, so a frontend served under `/app/` gets
//! `/app/verify-email`). docs/frontend-links.md describes each page; a test holds the two
//! together.

use url::Url;

/// A page of the frontend an email links to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page<'a> {
    /// `?token=`: `POST /v1/auth/verify-email`.
    VerifyEmail,
    /// `?token=`: `POST /v1/auth/password-reset/confirm` (a reset, or taking the account
    /// back after a second factor changed).
    ResetPassword,
    /// `?token=`: `POST /v1/auth/confirm-email-change`.
    ConfirmEmailChange,
    /// A published listing's public profile.
    Profile(&'a str),
    /// The therapist's listing editor.
    MyListing,
    /// The therapist's inquiries.
    MyInquiries,
}

impl Page<'_> {
    /// Every page, as the docs name it (a profile with its placeholder).
    pub const ALL: [Page<'static>; 6] = [
        Page::VerifyEmail,
        Page::ResetPassword,
        Page::ConfirmEmailChange,
        Page::Profile("{slug}"),
        Page::MyListing,
        Page::MyInquiries,
    ];

    /// The page's path below the base.
    pub fn path(&self) -> String {
        match self {
            Page::VerifyEmail => "verify-email".into(),
            Page::ResetPassword => "reset-password".into(),
            Page::ConfirmEmailChange => "confirm-email-change".into(),
            Page::Profile(slug) => format!("therapists/{slug}"),
            Page::MyListing => "me/listing".into(),
            Page::MyInquiries => "me/inquiries".into(),
        }
    }

    /// The page's address under `base`, with `token` as its query when given.
    pub fn url(&self, base: &Url, token: Option<&str>) -> String {
        let mut url = base.clone();
        let path = format!("{}/{}", base.path().trim_end_matches('/'), self.path());
        url.set_path(&path);
        url.set_query(None);
        url.set_fragment(None);
        if let Some(token) = token {
            url.query_pairs_mut().append_pair("token", token);
        }
        url.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_base_path() {
        for (base, expected) in [
            (
                "https://directory.example",
                "https://directory.example/verify-email?token=t",
            ),
            (
                "https://directory.example/",
                "https://directory.example/verify-email?token=t",
            ),
            (
                "https://directory.example/app",
                "https://directory.example/app/verify-email?token=t",
            ),
            (
                "https://directory.example/app/",
                "https://directory.example/app/verify-email?token=t",
            ),
            (
                "https://directory.example/app/?x=1#top",
                "https://directory.example/app/verify-email?token=t",
            ),
        ] {
            let base = Url::parse(base).unwrap();
            assert_eq!(Page::VerifyEmail.url(&base, Some("t")), expected);
        }
        let base = Url::parse("https://directory.example/app/").unwrap();
        assert_eq!(
            Page::Profile("jane-doe").url(&base, None),
            "https://directory.example/app/therapists/jane-doe"
        );
    }

    #[test]
    fn every_page_is_documented() {
        let docs = include_str!("../../docs/frontend-links.md");
        for page in Page::ALL {
            let path = format!("`/{}`", page.path());
            assert!(docs.contains(&path), "docs/frontend-links.md lacks {path}");
        }
    }
}
