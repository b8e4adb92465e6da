//! The text of every email the service sends. Links are built from the configured public
//! base URL, never from a request's Host header.

use url::Url;

use super::OutgoingEmail;

fn link(base: &Url, path: &str, token: &str) -> String {
    let mut url = base.clone();
    url.set_path(path);
    url.query_pairs_mut().clear().append_pair("token", token);
    url.to_string()
}

pub fn verify_email(base: &Url, to: &str, name: &str, token: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_owned(),
        reply_to: None,
        subject: "Confirm your email to join the directory".into(),
        body: format!(
            "Hello {name},\n\nThank you for joining the therapist directory. Confirm your email address \
             within 24 hours by opening this link:\n\n{}\n\nIf you did not sign up, ignore this message; \
             no account is activated without this confirmation.\n",
            link(base, "/verify-email", token)
        ),
    }
}

/// Sent instead of a verification email when someone signs up with an address that already
/// has an account, so the signup response itself reveals nothing.
pub fn account_exists(base: &Url, to: &str) -> OutgoingEmail {
    let mut reset = base.clone();
    reset.set_path("/reset-password");
    OutgoingEmail {
        to: to.to_owned(),
        reply_to: None,
        subject: "You already have a directory account".into(),
        body: format!(
            "Hello,\n\nSomeone (hopefully you) tried to join the therapist directory with this email \
             address, but it already has an account. Sign in as usual, or if you forgot your password, \
             reset it here:\n\n{reset}\n\nIf this was not you, you can ignore this message.\n"
        ),
    }
}

pub fn password_reset(base: &Url, to: &str, token: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_owned(),
        reply_to: None,
        subject: "Reset your directory password".into(),
        body: format!(
            "Hello,\n\nTo choose a new password, open this link within 30 minutes:\n\n{}\n\n\
             Resetting signs you out everywhere. If you did not ask for this, ignore this message; \
             your password stays as it is.\n",
            link(base, "/reset-password", token)
        ),
    }
}

pub fn password_changed(to: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_owned(),
        reply_to: None,
        subject: "Your directory password was changed".into(),
        body: "Hello,\n\nThe password of your therapist directory account was just changed and other \
               sessions were signed out. If this was not you, reset your password at once and contact \
               support.\n"
            .into(),
    }
}

pub fn listing_approved(base: &Url, to: &str, slug: &str) -> OutgoingEmail {
    let mut profile = base.clone();
    profile.set_path(&format!("/therapists/{slug}"));
    OutgoingEmail {
        to: to.to_owned(),
        reply_to: None,
        subject: "Your directory listing is published".into(),
        body: format!(
            "Hello,\n\nAn admin reviewed and approved your listing. It is now in the directory:\n\n{profile}\n\n\
             Please confirm it is current every couple of months so clients can trust it.\n"
        ),
    }
}

pub fn listing_rejected(to: &str, reason: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_owned(),
        reply_to: None,
        subject: "Your directory listing needs changes".into(),
        body: format!(
            "Hello,\n\nAn admin reviewed your listing and could not publish it yet. Their note:\n\n{reason}\n\n\
             Edit your listing and submit it again when it is ready.\n"
        ),
    }
}

pub fn listing_suspended(to: &str, reason: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_owned(),
        reply_to: None,
        subject: "Your directory listing is suspended".into(),
        body: format!(
            "Hello,\n\nYour listing has been suspended and is no longer shown in the directory. The reason:\n\n\
             {reason}\n\nReply to support if you believe this is a mistake.\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_use_the_configured_base() {
        let base = Url::parse("https://directory.example/app/").unwrap();
        let email = verify_email(&base, "a@b.co", "Ana", "tok_en-123");
        assert!(
            email
                .body
                .contains("https://directory.example/verify-email?token=tok_en-123"),
            "{}",
            email.body
        );
        assert!(email.body.lines().all(|l| l.len() < 998));
    }
}
