//! TOTP parameters, the sealing of secrets at rest, recovery codes, and the bodies of the
//! second factor's routes.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use totp_rs::{Builder, Secret, Totp};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::clock::Clock;
use crate::error::ApiError;
use crate::keys::{Purpose, Seal};

#[derive(Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// The shared secret, base32, for typing into an authenticator app.
    #[schema(example = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")]
    pub secret: String,
    /// The same as an `otpauth://` URI, for a QR code.
    pub otpauth_uri: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    /// The 6-digit code the authenticator app shows now.
    #[schema(
        min_length = 6,
        max_length = 6,
        pattern = "^[0-9]{6}$",
        example = "123456"
    )]
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes for when the authenticator is lost; shown once, stored hashed.
    pub recovery_codes: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    #[schema(max_length = 128)]
    pub password: String,
}

/// What removing the second factor takes: the password and a current code.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveTotpBody {
    #[schema(max_length = 128)]
    pub password: String,
    /// A code the authenticator shows now, or one of the recovery codes.
    #[schema(max_length = 32, example = "123456")]
    pub code: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaLoginRequest {
    /// From the `mfa_required` problem of `POST /v1/auth/login`.
    #[schema(max_length = 128)]
    pub mfa_token: String,
    /// A 6-digit TOTP code, or one of the recovery codes.
    #[schema(max_length = 32)]
    pub code: String,
}

/// The time step `code` is current for under the sealed secret (one step of skew either
/// way), or `None` when it is not the app's code now.
pub fn current_step(
    seal: &SecretSeal,
    sealed: &[u8],
    code: &str,
    clock: &Clock,
) -> Result<Option<u64>, ApiError> {
    let secret = seal
        .open(sealed)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a TOTP secret does not open")))?;
    let totp = totp(&secret, "")
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("could not build a TOTP")))?;
    Ok(totp.check(code, clock.now().unix_timestamp().max(0) as u64))
}

/// Six digits are a TOTP code; anything else is tried as a recovery code.
pub fn is_totp_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// Shown in authenticator apps beside the account name.
pub const ISSUER: &str = "Therapist Directory";
/// Recovery codes handed out at confirmation.
pub const RECOVERY_CODES: usize = 10;
/// How long the `mfa_token` of a password-checked sign-in lasts.
pub const CHALLENGE_SECS: i64 = 300;
/// Wrong codes one challenge takes before it is spent.
pub const CHALLENGE_FAILURES: i32 = 5;

/// The TOTP of a secret: SHA-1, 6 digits, 30 s, one step of skew either way (what every
/// authenticator app uses).
pub fn totp(secret: &[u8], account_name: &str) -> Option<Totp> {
    // The otpauth label refuses ':' (it separates issuer and account), which an address
    // with an IPv6 literal domain holds.
    let account_name = account_name.replace(':', ".");
    Builder::new()
        .with_secret(Secret::from(secret.to_vec()))
        .with_account_name(account_name)
        .with_issuer(Some(ISSUER))
        .build()
        .ok()
}

/// A fresh 160-bit secret (RFC 4226's recommended length).
pub fn new_secret() -> [u8; 20] {
    rand::random()
}

/// TOTP secrets at rest, sealed under their own key (`Purpose::TotpSecrets`).
#[derive(Clone)]
pub struct SecretSeal(Seal);

impl SecretSeal {
    pub fn new(master: &SecretString, previous: Option<&SecretString>) -> Self {
        SecretSeal(Seal::new(Purpose::TotpSecrets, master, previous))
    }
}

impl std::ops::Deref for SecretSeal {
    type Target = Seal;

    fn deref(&self) -> &Seal {
        &self.0
    }
}

/// Ten recovery codes like `k7qm-2xwe-9fzp`: 60 random bits each, from an alphabet without
/// look-alike characters.
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
    (0..RECOVERY_CODES)
        .map(|_| {
            let chars: Vec<char> = (0..12)
                .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
                .collect();
            chars
                .chunks(4)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// A recovery code as typed, without what does not matter (case, spaces, dashes).
fn canonical(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// What is stored for a recovery code: the SHA-256 of the account (the salt: one
/// computation tries a guess against one account only) and the code's canonical form.
pub fn recovery_code_hash(account_id: Uuid, code: &str) -> Vec<u8> {
    Sha256::new()
        .chain_update(b"recovery code v2\0")
        .chain_update(account_id.as_bytes())
        .chain_update(canonical(code).as_bytes())
        .finalize()
        .to_vec()
}

/// The unsalted hash codes issued before `recovery_code_hash` were stored under; such a
/// code still works once, until the account enrols again.
pub fn unsalted_recovery_code_hash(code: &str) -> Vec<u8> {
    Sha256::digest(canonical(code).as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_under_their_master() {
        let seal = SecretSeal::new(&SecretString::from("m".repeat(40)), None);
        let secret = new_secret();
        let sealed = seal.seal(&secret);
        assert!(
            !sealed.windows(secret.len()).any(|w| w == &secret[..]),
            "the secret shows in its sealed form"
        );
        assert_eq!(seal.open(&sealed).unwrap(), secret);
        let other = SecretSeal::new(&SecretString::from("o".repeat(40)), None);
        assert!(other.open(&sealed).is_none());
        assert!(seal.open(&sealed[..5]).is_none());
        assert!(
            seal.reseal(&sealed).is_none(),
            "already under the current master"
        );
    }

    #[test]
    fn any_address_the_service_accepts_labels_an_authenticator() {
        // Address literals are refused at signup; the oddest addresses left still label one.
        for raw in ["o'brien+dir@exämple.com", "x.y-z_1@sub.example.co.uk"] {
            let email = crate::domain::Email::parse(raw).unwrap();
            let totp = totp(&new_secret(), email.as_str()).expect("a TOTP");
            assert!(totp.to_url().is_ok(), "{raw}");
        }
    }

    #[test]
    fn a_rotation_opens_what_the_previous_master_sealed_and_seals_it_anew() {
        let (old, new) = (
            SecretString::from("o".repeat(40)),
            SecretString::from("n".repeat(40)),
        );
        let secret = new_secret();
        let sealed = SecretSeal::new(&old, None).seal(&secret);
        let rotated = SecretSeal::new(&new, Some(&old));
        assert_eq!(rotated.open(&sealed).unwrap(), secret);
        let resealed = rotated.reseal(&sealed).unwrap();
        assert_eq!(SecretSeal::new(&new, None).open(&resealed).unwrap(), secret);
        assert!(SecretSeal::new(&new, None).open(&sealed).is_none());
    }

    #[test]
    fn codes_check_within_one_step_and_recovery_codes_are_canonical() {
        let secret = new_secret();
        let totp = totp(&secret, "someone@example.com").unwrap();
        let now = 1_800_000_000;
        let code = totp.generate(now).to_string();
        assert!(totp.check(&code, now).is_some());
        assert!(totp.check(&code, now + 30).is_some());
        assert!(totp.check(&code, now + 90).is_none());
        assert!(totp.to_url().unwrap().starts_with("otpauth://totp/"));
        let codes = new_recovery_codes();
        let account = Uuid::now_v7();
        assert_eq!(codes.len(), 10);
        assert_eq!(
            recovery_code_hash(account, &codes[0]),
            recovery_code_hash(account, &codes[0].to_uppercase().replace('-', " "))
        );
        assert_ne!(
            recovery_code_hash(account, &codes[0]),
            recovery_code_hash(account, &codes[1])
        );
        // Salted by the account: one code hashes apart for another account, and apart from
        // the unsalted form.
        assert_ne!(
            recovery_code_hash(account, &codes[0]),
            recovery_code_hash(Uuid::now_v7(), &codes[0])
        );
        assert_ne!(
            recovery_code_hash(account, &codes[0]),
            unsalted_recovery_code_hash(&codes[0])
        );
    }
}
