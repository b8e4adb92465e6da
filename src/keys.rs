//! Keys derived from the service's master secret (`APP_JWT_SECRET`), one per purpose, with
//! HKDF-SHA256 (RFC 5869): a key used for one purpose tells nothing about another, and
//! the master secret itself signs nothing. `APP_JWT_PREVIOUS_SECRET` keeps what the
//! previous master signed (access tokens, cursors) valid through a rotation.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// What a derived key is for; its name is the HKDF `info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    AccessTokens,
    PaginationCursors,
    ReporterPseudonyms,
    TotpSecrets,
    EmailedLinks,
    SearchDemandNetworks,
}

impl Purpose {
    fn info(self) -> &'static [u8] {
        match self {
            Purpose::AccessTokens => b"therapist-directory access-token signing v1",
            Purpose::PaginationCursors => b"therapist-directory pagination cursors v1",
            Purpose::ReporterPseudonyms => b"therapist-directory reporter pseudonyms v1",
            Purpose::TotpSecrets => b"therapist-directory totp secret encryption v1",
            Purpose::EmailedLinks => b"therapist-directory emailed link encryption v1",
            Purpose::SearchDemandNetworks => b"therapist-directory search demand networks v1",
        }
    }
}

/// The 32-byte key for `purpose` under `master`.
pub fn derive(master: &SecretString, purpose: Purpose) -> [u8; 32] {
    let hkdf = Hkdf::<Sha256>::new(
        Some(b"therapist-directory"),
        master.expose_secret().as_bytes(),
    );
    let mut key = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's limit (255 × 32): this cannot fail.
    hkdf.expand(purpose.info(), &mut key)
        .unwrap_or_else(|_| unreachable!());
    key
}

/// A public name for a derived key (the `kid` of the tokens it signs): a hash of the key,
/// which reveals nothing about it.
pub fn key_id(key: &[u8]) -> String {
    crate::hex::hex(&Sha256::digest(key)[..8])
}

/// Encryption at rest under the key for one purpose (ChaCha20-Poly1305): a database dump or
/// backup alone yields nothing sealed. Through a rotation (`APP_JWT_PREVIOUS_SECRET`) what
/// the previous master sealed still opens, and `reseal` moves it to the current one.
#[derive(Clone)]
pub struct Seal {
    current: ChaCha20Poly1305,
    previous: Option<ChaCha20Poly1305>,
}

impl Seal {
    pub fn new(purpose: Purpose, master: &SecretString, previous: Option<&SecretString>) -> Self {
        let cipher = |master| ChaCha20Poly1305::new(&Key::from(derive(master, purpose)));
        Seal {
            current: cipher(master),
            previous: previous.map(cipher),
        }
    }

    /// Nonce (12 random bytes) followed by the ciphertext and its tag.
    pub fn seal(&self, secret: &[u8]) -> Vec<u8> {
        let nonce: [u8; 12] = rand::random();
        let mut out = nonce.to_vec();
        // Encrypting a byte string held in memory cannot fail.
        out.extend(
            self.current
                .encrypt(&Nonce::from(nonce), secret)
                .unwrap_or_default(),
        );
        out
    }

    pub fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        Self::open_with(&self.current, sealed)
            .or_else(|| Self::open_with(self.previous.as_ref()?, sealed))
    }

    /// The secret sealed under the current master, when `sealed` opens only under the
    /// previous one.
    pub fn reseal(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        if Self::open_with(&self.current, sealed).is_some() {
            return None;
        }
        let secret = Self::open_with(self.previous.as_ref()?, sealed)?;
        Some(self.seal(&secret))
    }

    fn open_with(cipher: &ChaCha20Poly1305, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < 12 {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        cipher.decrypt(&Nonce::from(nonce), ciphertext).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_purpose_and_master_gives_its_own_key() {
        let a = SecretString::from("a".repeat(40));
        let b = SecretString::from("b".repeat(40));
        let all = [
            Purpose::AccessTokens,
            Purpose::PaginationCursors,
            Purpose::ReporterPseudonyms,
            Purpose::TotpSecrets,
            Purpose::EmailedLinks,
        ];
        let mut seen = std::collections::HashSet::new();
        for purpose in all {
            assert!(seen.insert(derive(&a, purpose)));
            assert!(seen.insert(derive(&b, purpose)));
            assert_eq!(derive(&a, purpose), derive(&a, purpose));
            let master = a.expose_secret().as_bytes();
            assert!(
                !derive(&a, purpose)
                    .windows(16)
                    .any(|w| master.windows(16).any(|m| m == w))
            );
        }
        assert_eq!(key_id(&derive(&a, Purpose::AccessTokens)).len(), 16);
    }
}
