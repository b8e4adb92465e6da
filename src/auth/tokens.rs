//! Access tokens (HS256 JWTs, at most 15 minutes) and opaque secrets (refresh and email
//! tokens: 256 random bits, stored only as their SHA-256).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::model::Role;
use crate::keys::{self, Purpose};

pub const ISSUER: &str = "therapist-directory";
pub const AUDIENCE: &str = "therapist-directory-api";
/// Access tokens live at most this long.
pub const ACCESS_TOKEN_TTL_SECS: i64 = 15 * 60;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub sub: Uuid,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub aud: String,
    pub iss: String,
    pub jti: Uuid,
    /// The session (refresh-token family) the token was issued for.
    pub sid: Uuid,
    /// The account's token version when issued; bumping it kills older tokens.
    pub ver: i32,
}

/// Signs access tokens with a key derived from the current master secret, named by its
/// `kid`; verifies tokens signed under the current or the previous master (a rotation
/// signs nobody out), chosen by `kid`.
#[derive(Clone)]
pub struct TokenKeys {
    kid: String,
    encoding: EncodingKey,
    decoding: Vec<(String, DecodingKey)>,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(current: &SecretString, previous: Option<&SecretString>) -> Self {
        // Pinned to HS256: a token naming any other algorithm ("none" included) is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
        validation.leeway = 5;
        let named = |master: &SecretString| {
            let key = keys::derive(master, Purpose::AccessTokens);
            (keys::key_id(&key), key)
        };
        let (kid, signing) = named(current);
        let decoding = std::iter::once(current)
            .chain(previous)
            .map(|master| {
                let (kid, key) = named(master);
                (kid, DecodingKey::from_secret(&key))
            })
            .collect();
        TokenKeys {
            kid,
            encoding: EncodingKey::from_secret(&signing),
            decoding,
            validation,
        }
    }

    pub fn issue(
        &self,
        account: Uuid,
        role: Role,
        session: Uuid,
        version: i32,
        now: OffsetDateTime,
    ) -> anyhow::Result<String> {
        let iat = now.unix_timestamp();
        let claims = AccessClaims {
            sub: account,
            role,
            iat,
            exp: iat + ACCESS_TOKEN_TTL_SECS,
            aud: AUDIENCE.into(),
            iss: ISSUER.into(),
            jti: Uuid::now_v7(),
            sid: session,
            ver: version,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.encoding)?)
    }

    /// The claims of a valid token; `None` for anything else (bad signature, other
    /// algorithm, wrong audience or issuer, expired, malformed, a missing claim).
    pub fn verify(&self, token: &str) -> Option<AccessClaims> {
        if token.len() > 4096 {
            return None;
        }
        // A token names its key; one naming none, or an unknown one, is refused.
        let kid = jsonwebtoken::decode_header(token).ok()?.kid?;
        let (_, key) = self.decoding.iter().find(|(known, _)| *known == kid)?;
        jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation)
            .ok()
            .map(|data| data.claims)
            .filter(|claims| {
                claims.iat <= claims.exp && claims.exp - claims.iat <= ACCESS_TOKEN_TTL_SECS
            })
    }
}

/// A fresh 256-bit secret, URL-safe base64 (43 characters).
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored for a secret: its SHA-256.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(&SecretString::from("k".repeat(40)), None)
    }

    /// A token for a new account and session, issued by `keys` at `at`.
    fn issued(keys: &TokenKeys, role: Role, at: OffsetDateTime) -> String {
        keys.issue(Uuid::now_v7(), role, Uuid::now_v7(), 0, at)
            .unwrap()
    }

    #[test]
    fn round_trip() {
        let keys = keys();
        let (account, session) = (Uuid::now_v7(), Uuid::now_v7());
        let token = keys
            .issue(
                account,
                Role::Therapist,
                session,
                3,
                OffsetDateTime::now_utc(),
            )
            .unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(
            (claims.sub, claims.sid, claims.ver, claims.role),
            (account, session, 3, Role::Therapist)
        );
    }

    #[test]
    fn another_key_or_an_old_token_is_refused() {
        let token = issued(&keys(), Role::Admin, OffsetDateTime::now_utc());
        let other = TokenKeys::new(&SecretString::from("z".repeat(40)), None);
        assert!(other.verify(&token).is_none());
        let old = issued(
            &keys(),
            Role::Admin,
            OffsetDateTime::now_utc() - time::Duration::hours(1),
        );
        assert!(keys().verify(&old).is_none());
    }

    #[test]
    fn a_rotation_keeps_tokens_of_the_previous_secret_valid() {
        let old = SecretString::from("k".repeat(40));
        let new = SecretString::from("n".repeat(40));
        let token = issued(&keys(), Role::Therapist, OffsetDateTime::now_utc());
        let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
        assert_eq!(kid.len(), 16);
        assert!(TokenKeys::new(&new, Some(&old)).verify(&token).is_some());
        assert!(TokenKeys::new(&new, None).verify(&token).is_none());
        let fresh = issued(
            &TokenKeys::new(&new, Some(&old)),
            Role::Therapist,
            OffsetDateTime::now_utc(),
        );
        assert_ne!(
            jsonwebtoken::decode_header(&fresh).unwrap().kid.unwrap(),
            kid
        );
        assert!(
            keys().verify(&fresh).is_none(),
            "the old master never learns the new key"
        );
    }

    #[test]
    fn secrets_are_long_and_distinct() {
        let (a, b) = (new_secret(), new_secret());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(secret_hash(&a).len(), 32);
    }
}
