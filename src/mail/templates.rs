//! The text of every email the service sends. Links are built from the configured public
//! base URL, never from a request's Host header.

use url::Url;

use super::OutgoingEmail;
use super::links::Page;

pub fn verify_email(base: &Url, to: &str, name: &str, token: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_owned(),
        reply_to: None,
        subject: "Confirm your email to join the directory".into(),
        body: format!(
            "Hello {name},\n\nThank you for joining the therapist directory. Confirm your email address \
             within 24 hours by opening this link:\n\n{}\n\nIf you did not sign up, ignore this message; \
             no account is activated without this confirmation.\n",
            Page::VerifyEmail.url(base, Some(token))
        ),
    }
}

/// Sent instead of a verification email when someone signs up with an address that already
/// has an account, so the signup response itself reveals nothing.
pub fn account_exists(base: &Url, to: &str) -> OutgoingEmail {
    let reset = Page::ResetPassword.url(base, None);
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
            Page::ResetPassword.url(base, Some(token))
        ),
    }
}

/// The notice of a second factor turned on or off, with the link that takes the account
/// back (7 days): on the reset page it removes the factor, signs every session out and sets
/// a new password.
pub fn second_factor_changed(base: &Url, to: &str, enabled: bool, token: &str) -> OutgoingEmail {
    let (subject, what) = if enabled {
        ("Two-step sign-in was turned on", "turned on")
    } else {
        ("Two-step sign-in was turned off", "turned off")
    };
    OutgoingEmail {
        to: to.to_owned(),
        reply_to: None,
        subject: subject.into(),
        body: format!(
            "Hello,\n\nTwo-step sign-in (an authenticator app) was just {what} for your therapist \
             directory account. If this was you, there is nothing to do.\n\nIf it was not, open this \
             link within 7 days: it removes the authenticator, signs out every session and lets you \
             choose a new password.\n\n{}\n",
            Page::ResetPassword.url(base, Some(token))
        ),
    }
}

/// To the address an account is moving to: the link that completes the move.
pub fn email_change_link(base: &Url, to: &str, name: &str, token: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_owned(),
        reply_to: None,
        subject: "Confirm your new sign-in address".into(),
        body: format!(
            "Hello {name},\n\nYou asked to sign in to the therapist directory with this address from now \
             on. Confirm it within 24 hours by opening this link:\n\n{}\n\nUntil then your account keeps \
             its current address. If you did not ask for this, ignore this message.\n",
            Page::ConfirmEmailChange.url(base, Some(token))
        ),
    }
}

/// To an account's current address when a move to `new_address` is asked for.
pub fn email_change_requested(base: &Url, to: &str, new_address: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_owned(),
        reply_to: None,
        subject: "A new sign-in address was requested".into(),
        body: format!(
            "Hello,\n\nSomeone signed in to your therapist directory account with its password asked to \
             move it to {new_address}. The account keeps this address unless the link sent there is \
             used.\n\nIf this was not you, reset your password now, which also cancels the change:\n\n{}\n",
            Page::ResetPassword.url(base, None)
        ),
    }
}

/// To an account's former address once the move is done.
pub fn email_changed(to: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_owned(),
        reply_to: None,
        subject: "Your sign-in address was changed".into(),
        body: "Hello,\n\nYour therapist directory account now signs in with another address, confirmed \
               from that mailbox. This address no longer signs in. If this was not you, contact support.\n"
            .into(),
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
    let profile = Page::Profile(slug).url(base, None);
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

/// A client's inquiry, to the therapist; replying answers the client directly.
pub struct InquiryEmail<'a> {
    pub therapist_email: &'a str,
    pub client_name: &'a str,
    pub client_email: &'a str,
    pub client_phone: Option<&'a str>,
    pub preferred_contact: &'a str,
    pub message: &'a str,
}

pub fn inquiry_to_therapist(base: &Url, inquiry: &InquiryEmail<'_>) -> OutgoingEmail {
    let phone = inquiry
        .client_phone
        .map(|p| format!("Phone: {p}\n"))
        .unwrap_or_default();
    OutgoingEmail {
        to: inquiry.therapist_email.to_owned(),
        reply_to: Some(inquiry.client_email.to_owned()),
        subject: format!("New inquiry from {}", inquiry.client_name),
        body: format!(
            "Hello,\n\n{name} contacted you through the directory.\n\nEmail: {email}\n{phone}\
             Prefers to be contacted by: {preferred}\n\n---\n{message}\n---\n\nReply to this email to answer \
             {name} directly. The inquiry is also in your inbox, where marking it responded keeps your \
             response time up to date: {inbox}\n",
            name = inquiry.client_name,
            email = inquiry.client_email,
            preferred = inquiry.preferred_contact,
            message = inquiry.message,
            inbox = Page::MyInquiries.url(base, None),
        ),
    }
}

/// The client's receipt. It does not repeat the message: the address is the client's word.
/// Goes to an address nobody has verified, so it carries nothing the sender wrote (not even
/// the name): the directory's sender cannot be made to deliver a stranger's words.
pub fn inquiry_receipt(to: &str, therapist: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_owned(),
        reply_to: None,
        subject: format!("Your message to {therapist} was sent"),
        body: format!(
            "Hello,\n\nYour message to {therapist} was delivered. They will answer you \
             directly.\n\nIf you did not send a message through the therapist directory, you can ignore \
             this email.\n"
        ),
    }
}

pub fn confirm_reminder(base: &Url, to: &str, display_name: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_owned(),
        reply_to: None,
        subject: "Is your directory listing still current?".into(),
        body: format!(
            "Hello,\n\nThe listing for {display_name} has not been confirmed for 60 days. Clients rely on \
             it being accurate: please check it and confirm it in a minute here:\n\n{}\n\n\
             Listings not confirmed for 90 days leave the default search results until they are.\n",
            Page::MyListing.url(base, None)
        ),
    }
}

pub fn listing_stale(base: &Url, to: &str, display_name: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_owned(),
        reply_to: None,
        subject: "Your directory listing left the search results".into(),
        body: format!(
            "Hello,\n\nThe listing for {display_name} has not been confirmed for 90 days, so it no longer \
             appears in default search results. Confirm it to bring it back at once:\n\n{}\n",
            Page::MyListing.url(base, None)
        ),
    }
}

pub fn reconfirm_availability(base: &Url, to: &str, display_name: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_owned(),
        reply_to: None,
        subject: "Clients could not reach you: please confirm your availability".into(),
        body: format!(
            "Hello,\n\nSeveral people reported in the last 30 days that they could not reach {display_name} \
             or that you are not taking clients. Your profile now shows your availability as \
             unconfirmed. Check your contact details and availability and confirm the listing here:\n\n{}\n",
            Page::MyListing.url(base, None)
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
                .contains("https://directory.example/app/verify-email?token=tok_en-123"),
            "{}",
            email.body
        );
        assert!(email.body.lines().all(|l| l.len() < 998));
    }
}
