//! Entity tags (RFC 9110 §8.8.3) and the conditional headers that carry them: one parser
//! for `If-Match` and `If-None-Match`, one strong and one weak comparison. A compressed
//! representation carries its own tag (`"abc-gzip"`, see `http::conventions`); comparisons
//! take it back as the tag of the identity body.

use std::fmt;

use actix_web::http::header::{HeaderMap, HeaderName};

use crate::error::ApiError;

/// Content codings whose representations carry their own entity tag.
pub const CODINGS: &[&str] = &["gzip", "br", "deflate"];

/// `"opaque"` or `W/"opaque"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTag {
    pub weak: bool,
    opaque: String,
}

/// What a conditional header asks: any current representation (`*`), or one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Any,
    Tags(Vec<EntityTag>),
}

/// A conditional header that is neither `*` alone nor a list of entity tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

impl EntityTag {
    /// A strong tag; `opaque` holds no `"` (callers make it from hex digits and ids).
    pub fn strong(opaque: impl Into<String>) -> Self {
        EntityTag {
            weak: false,
            opaque: opaque.into(),
        }
    }

    /// The same entity's tag for a body in `coding`.
    pub fn coded(&self, coding: &str) -> Self {
        EntityTag {
            weak: self.weak,
            opaque: format!("{}-{coding}", self.opaque),
        }
    }

    /// The opaque tag without a coding suffix: the identity body's.
    fn entity(&self) -> &str {
        CODINGS
            .iter()
            .find_map(|c| self.opaque.strip_suffix(&format!("-{c}") as &str))
            .unwrap_or(&self.opaque)
    }

    /// Strong comparison (`If-Match`): neither is weak and they name the same entity.
    pub fn strong_eq(&self, other: &EntityTag) -> bool {
        !self.weak && !other.weak && self.entity() == other.entity()
    }

    /// Weak comparison (`If-None-Match`): they name the same entity, weak or not.
    pub fn weak_eq(&self, other: &EntityTag) -> bool {
        self.entity() == other.entity()
    }
}

impl fmt::Display for EntityTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let weak = if self.weak { "W/" } else { "" };
        write!(f, "{weak}\"{}\"", self.opaque)
    }
}

impl Condition {
    /// `If-Match`: true when the current tag satisfies it (a weak tag never does).
    pub fn matches_strong(&self, current: &EntityTag) -> bool {
        match self {
            Condition::Any => true,
            Condition::Tags(tags) => tags.iter().any(|t| t.strong_eq(current)),
        }
    }

    /// `If-None-Match`: true when the client already holds the current representation.
    pub fn matches_weak(&self, current: &EntityTag) -> bool {
        match self {
            Condition::Any => true,
            Condition::Tags(tags) => tags.iter().any(|t| t.weak_eq(current)),
        }
    }

    /// The tags listed (none for `*`).
    pub fn tags(&self) -> &[EntityTag] {
        match self {
            Condition::Any => &[],
            Condition::Tags(tags) => tags,
        }
    }
}

/// `If-Match` as a request states it: `None` without one; a value that is neither `*` alone
/// nor a list of entity tags is a 400 naming the header.
pub fn if_match(headers: &HeaderMap) -> Result<Option<Condition>, ApiError> {
    condition(headers, actix_web::http::header::IF_MATCH)
        .transpose()
        .map_err(|Malformed| {
            ApiError::parameter("If-Match", "a list of entity tags (\"…\"), or * alone")
        })
}

/// The condition every line of the header `name` states together (`None` without one).
pub fn condition(headers: &HeaderMap, name: HeaderName) -> Option<Result<Condition, Malformed>> {
    let mut lines = headers.get_all(name).peekable();
    lines.peek()?;
    let mut tags = Vec::new();
    let mut any = false;
    for line in lines {
        let Ok(text) = line.to_str() else {
            return Some(Err(Malformed));
        };
        match parse(text) {
            Ok(Condition::Any) => any = true,
            Ok(Condition::Tags(more)) => tags.extend(more),
            Err(e) => return Some(Err(e)),
        }
    }
    Some(match (any, tags.is_empty()) {
        (true, true) => Ok(Condition::Any),
        (false, false) => Ok(Condition::Tags(tags)),
        // `*` beside tags, or a list with no element at all.
        _ => Err(Malformed),
    })
}

/// One header line: `*` alone, or `#entity-tag` (comma-separated, empty elements allowed;
/// a tag may itself hold a comma).
pub fn parse(value: &str) -> Result<Condition, Malformed> {
    let value = value.trim_matches([' ', '\t']);
    if value == "*" {
        return Ok(Condition::Any);
    }
    let mut tags = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        let (weak, quoted) = match rest.strip_prefix("W/") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let inner = quoted.strip_prefix('"').ok_or(Malformed)?;
        let end = inner.find('"').ok_or(Malformed)?;
        let opaque = &inner[..end];
        // etagc: %x21 / %x23-7E / obs-text.
        if !opaque
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
        {
            return Err(Malformed);
        }
        tags.push(EntityTag {
            weak,
            opaque: opaque.to_owned(),
        });
        rest = inner[end + 1..].trim_start_matches([' ', '\t']);
        if !rest.is_empty() && !rest.starts_with(',') {
            return Err(Malformed);
        }
    }
    if tags.is_empty() {
        return Err(Malformed);
    }
    Ok(Condition::Tags(tags))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(s: &str) -> EntityTag {
        match parse(s) {
            Ok(Condition::Tags(mut t)) if t.len() == 1 => t.remove(0),
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn lists_of_tags_and_star_alone() {
        assert_eq!(parse("*"), Ok(Condition::Any));
        let Ok(Condition::Tags(tags)) = parse(r#""a", W/"b",, "c,d" "#) else {
            panic!("a list")
        };
        let written: Vec<String> = tags.iter().map(ToString::to_string).collect();
        assert_eq!(written, [r#""a""#, r#"W/"b""#, r#""c,d""#]);
        for bad in [
            "",
            ",",
            "a",
            r#""a"#,
            r#""a" "b""#,
            r#""a", *"#,
            r#"x, *, "#,
            r#"w/"a""#,
            "\"a b\"",
        ] {
            assert_eq!(parse(bad), Err(Malformed), "{bad}");
        }
    }

    #[test]
    fn strong_comparison_refuses_weak_tags_and_ignores_codings() {
        let current = EntityTag::strong("v3");
        assert!(tag(r#""v3""#).strong_eq(&current));
        assert!(tag(r#""v3-gzip""#).strong_eq(&current));
        assert!(!tag(r#"W/"v3""#).strong_eq(&current));
        assert!(!tag(r#""v4""#).strong_eq(&current));
        assert!(Condition::Any.matches_strong(&current));
    }

    #[test]
    fn weak_comparison_ignores_prefix_and_coding() {
        let current = EntityTag::strong("abc");
        for held in [r#"W/"abc""#, r#""abc-gzip""#, r#""abc-br""#, r#""abc""#] {
            assert!(tag(held).weak_eq(&current), "{held}");
        }
        assert!(!tag(r#""abd""#).weak_eq(&current));
        assert_eq!(current.coded("gzip").to_string(), r#""abc-gzip""#);
    }

    #[test]
    fn lines_combine_and_star_stays_alone() {
        let mut headers = HeaderMap::new();
        let name = actix_web::http::header::IF_NONE_MATCH;
        assert_eq!(condition(&headers, name.clone()), None);
        headers.append(name.clone(), "\"a\"".parse().unwrap());
        headers.append(name.clone(), "\"b\"".parse().unwrap());
        let Some(Ok(both)) = condition(&headers, name.clone()) else {
            panic!("two lines")
        };
        assert_eq!(both.tags().len(), 2);
        headers.append(name.clone(), "*".parse().unwrap());
        assert_eq!(condition(&headers, name), Some(Err(Malformed)));
    }
}
