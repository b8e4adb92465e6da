//! Opaque, signed pagination cursors: the keyset position as JSON, base64url-encoded, with
//! an HMAC so a tampered or forged cursor is refused (400 `invalid_cursor`) instead of
//! silently paging from somewhere else.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::SecretString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;

use crate::error::{ApiError, ErrorCode};
use crate::keys::{self, Purpose};

/// Cursor keys derived from the master secret (`crate::keys`): cursors are signed with the
/// current one and read under the current or the previous (a rotation breaks no page walk);
/// reporter pseudonyms have a key of their own.
#[derive(Clone)]
pub struct CursorKey {
    signing: [u8; 32],
    previous: Option<[u8; 32]>,
    pseudonyms: [u8; 32],
}

impl CursorKey {
    pub fn derive(current: &SecretString, previous: Option<&SecretString>) -> Self {
        CursorKey {
            signing: keys::derive(current, Purpose::PaginationCursors),
            previous: previous.map(|p| keys::derive(p, Purpose::PaginationCursors)),
            pseudonyms: keys::derive(current, Purpose::ReporterPseudonyms),
        }
    }

    pub fn encode<T: Serialize>(&self, position: &T) -> String {
        let json = serde_json::to_vec(position).unwrap_or_default();
        let mac = &tag(&self.signing, &json)[..TAG_BYTES];
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&json),
            URL_SAFE_NO_PAD.encode(mac)
        )
    }

    /// A keyed hash of `value` (a client address, say): equal inputs give equal outputs, so
    /// records can be told apart by client without storing the address itself.
    pub fn pseudonym(&self, value: &str) -> String {
        crate::hex::hex(&tag(&self.pseudonyms, value.as_bytes())[..16])
    }

    pub fn decode<T: DeserializeOwned>(&self, cursor: &str) -> Result<T, ApiError> {
        let invalid = || {
            ApiError::parameter(
                "cursor",
                "not a cursor this API issued; start again without one",
            )
            .with_code(ErrorCode::InvalidCursor)
        };
        if cursor.len() > 512 {
            return Err(invalid());
        }
        let (body, mac) = cursor.split_once('.').ok_or_else(invalid)?;
        let json = URL_SAFE_NO_PAD.decode(body).map_err(|_| invalid())?;
        let mac = URL_SAFE_NO_PAD.decode(mac).map_err(|_| invalid())?;
        // A shorter tag would be compared on fewer bytes: one byte is forged in 256 tries.
        if mac.len() != TAG_BYTES {
            return Err(invalid());
        }
        let signed_by = |key: &[u8]| {
            <Hmac<Sha256> as Mac>::new_from_slice(key).is_ok_and(|mut check| {
                check.update(&json);
                check.verify_truncated_left(&mac).is_ok()
            })
        };
        if !(signed_by(&self.signing) || self.previous.is_some_and(|p| signed_by(&p))) {
            return Err(invalid());
        }
        serde_json::from_slice(&json).map_err(|_| invalid())
    }
}

/// The bytes of the HMAC a cursor carries: 128 bits.
const TAG_BYTES: usize = 16;

fn tag(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a client sends as a cursor, decoding answers an error, never a panic.
        #[test]
        fn arbitrary_cursors_are_refused_without_panicking(cursor in any::<String>(), ascii in "[A-Za-z0-9_.~-]{0,200}") {
            let key = CursorKey::derive(&SecretString::from("k".repeat(40)), None);
            prop_assert!(key.decode::<(i64, String)>(&cursor).is_err());
            prop_assert!(key.decode::<(i64, String)>(&ascii).is_err());
        }
    }

    #[test]
    fn round_trip_and_tampering() {
        let key = CursorKey::derive(&SecretString::from("k".repeat(40)), None);
        let cursor = key.encode(&("2026-11-26T00:00:00Z", 42));
        let back: (String, i32) = key.decode(&cursor).unwrap();
        assert_eq!(back, ("2026-11-26T00:00:00Z".to_owned(), 42));
        let (body, mac) = cursor.split_once('.').unwrap();
        let forged = format!(
            "{}.{mac}",
            URL_SAFE_NO_PAD.encode(br#"["2020-01-01T00:00:00Z",1]"#)
        );
        assert_eq!(
            key.decode::<(String, i32)>(&forged).unwrap_err().code(),
            ErrorCode::InvalidCursor
        );
        assert!(
            key.decode::<(String, i32)>(&format!("{body}.AAAA"))
                .is_err()
        );
        assert!(key.decode::<(String, i32)>("garbage").is_err());
        // Every prefix of the real tag is refused: it must be whole.
        let tag = URL_SAFE_NO_PAD.decode(mac).unwrap();
        for n in 0..tag.len() {
            let short = format!("{body}.{}", URL_SAFE_NO_PAD.encode(&tag[..n]));
            assert!(key.decode::<(String, i32)>(&short).is_err(), "{n} bytes");
        }
        let other = CursorKey::derive(&SecretString::from("z".repeat(40)), None);
        assert!(other.decode::<(String, i32)>(&cursor).is_err());
    }
}
