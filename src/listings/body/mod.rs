//! Request bodies of a listing and its parts, and how a patch applies.
//!
//! PATCH uses JSON merge patch (RFC 7396): the patch is merged into the current editable
//! representation (the listing's profile, `model::ListingProfile`, or a part's body), and
//! the merged whole is parsed and validated again, so a patch can never leave the listing in
//! a state a full write could not produce. Anything that is not an editable field
//! (`status`, `id`, `account_id`, `slug`, verification fields …) is refused as an unknown
//! field.

use serde_json::Value;

mod parts;

pub use parts::{CertificationBody, LicenseBody, OfferingBody, OfficeBody};

/// RFC 7396: objects merge recursively, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(patch) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            if let Value::Object(map) = target {
                for (key, value) in patch {
                    if value.is_null() {
                        map.remove(&key);
                    } else {
                        merge_patch(map.entry(key).or_insert(Value::Null), value);
                    }
                }
            }
        }
        other => *target = other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "list": [1, 2]});
        merge_patch(
            &mut doc,
            json!({"a": "z", "c": {"f": null}, "list": [3], "new": true}),
        );
        assert_eq!(
            doc,
            json!({"a": "z", "c": {"d": "e"}, "list": [3], "new": true})
        );
    }
}
