use validator::ValidateEmail;

use super::Invalid;
use crate::error::FieldCode;

/// An email address: trimmed, at most 254 characters, with a dotted domain, and one the
/// mailer can write to. Compared case-insensitively by the database (citext).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let email = raw.trim();
        if email.is_empty() {
            return Err(Invalid::new(
                FieldCode::Required,
                "an email address is required",
            ));
        }
        if email.chars().count() > 254 {
            return Err(Invalid::new(FieldCode::TooLong, "at most 254 characters"));
        }
        let dotted_domain = email
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.contains('.') && !domain.ends_with('.'));
        // The mailer's own parser too: an address it refuses could be stored but never
        // written to (`sam..x@example.com` passes the HTML form rule).
        let mailable = email.parse::<lettre::Address>().is_ok();
        if !email.validate_email() || !dotted_domain || !mailable {
            return Err(Invalid::new(
                FieldCode::InvalidEmail,
                "not a valid email address",
            ));
        }
        // One spelling per mailbox: an internationalised domain is kept in its ASCII
        // (punycode) form, so `exämple.com` and `xn--exmple-cua.com` are one address. An
        // address literal (`a@[192.0.2.1]`) names no domain anyone's mail is for.
        let (local, domain) = email.rsplit_once('@').unwrap_or((email, ""));
        match url::Host::parse(domain) {
            Ok(url::Host::Domain(ascii)) if !domain.starts_with('[') => {
                Ok(Email(format!("{local}@{ascii}")))
            }
            _ => Err(Invalid::new(
                FieldCode::InvalidEmail,
                "not a valid email address: it needs a domain name",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in [
            "a@example.com",
            "  Jane.Doe+dir@clinic.co.uk ",
            "x_y@sub.example.org",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(Email::parse(" a@b.co ").unwrap().as_str(), "a@b.co");
        // Two spellings of one internationalised domain are one address.
        assert_eq!(
            Email::parse("alice@exämple.com").unwrap(),
            Email::parse("alice@xn--exmple-cua.com").unwrap()
        );
        assert_eq!(
            Email::parse("alice@EXAMPLE.com").unwrap().as_str(),
            "alice@example.com"
        );
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a b@example.com",
            "a@@b.com",
            "a@b.com.",
            "sam..x@example.com",
            ".sam@example.com",
            "sam.@example.com",
            "alice@[127.0.0.1]",
            "alice@[IPv6:2001:db8::1]",
            "alice@127.0.0.1",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long).unwrap_err().code, "too_long");
    }

    proptest! {
        #[test]
        fn generated_addresses_parse(local in "[a-z0-9]{1,20}", domain in "[a-z]{1,20}", tld in "[a-z]{2,6}") {
            let raw = format!("{local}@{domain}.{tld}");
            let parsed = Email::parse(&raw).unwrap();
            prop_assert_eq!(parsed.as_str(), raw.as_str());
        }

        #[test]
        fn anything_without_an_at_sign_is_refused(s in "[^@]{0,40}") {
            prop_assert!(Email::parse(&s).is_err());
        }
    }
}
