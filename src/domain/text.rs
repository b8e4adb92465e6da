//! Free text as people type it: at most so many characters, and no control characters
//! (text of paragraphs keeps its line breaks and tabs). One rule, so that every text field
//! refuses the same things with the same words.

use super::Invalid;
use crate::error::FieldCode;

/// What a text field may hold besides printable characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// One line: no control characters at all.
    Line,
    /// Paragraphs: line breaks and tabs, and no other control character.
    Paragraphs,
}

impl Text {
    /// `value` is at most `max` characters (`too_long`) and holds no control character this
    /// kind of text refuses (`invalid_characters`); length is checked first.
    pub fn check(self, value: &str, max: usize) -> Result<(), Invalid> {
        at_most(value, max)?;
        let allowed = |c: char| self == Text::Paragraphs && matches!(c, '\n' | '\r' | '\t');
        if value.chars().any(|c| c.is_control() && !allowed(c)) {
            return Err(Invalid::new(
                FieldCode::InvalidCharacters,
                "control characters are not allowed",
            ));
        }
        Ok(())
    }
}

/// Whether `value` shows anything: a character that is not whitespace, a control
/// character, or one that draws nothing (zero-width spaces and joiners, bidi marks,
/// embeddings and isolates, the byte-order mark, the soft hyphen, variation selectors,
/// Hangul fillers, tags). A name made only of those would be an empty name.
pub fn shows_something(value: &str) -> bool {
    let invisible = |c: char| {
        matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}'
            | '\u{17B5}' | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E007F}')
    };
    value
        .chars()
        .any(|c| !c.is_whitespace() && !c.is_control() && !invisible(c))
}

/// `value` is at most `max` characters (`too_long`): the bound of a field whose characters
/// are not text to show (a password, a token), and the first half of `Text::check`.
pub fn at_most(value: &str, max: usize) -> Result<(), Invalid> {
    if value.chars().count() > max {
        return Err(Invalid::new(
            FieldCode::TooLong,
            format!("at most {max} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Text, shows_something};

    #[test]
    fn a_name_of_invisible_characters_shows_nothing() {
        for nothing in [
            "",
            "  ",
            "\u{200B}\u{200D}",
            "\u{202E}\u{2066} \u{FEFF}",
            "\u{00AD}\t",
        ] {
            assert!(!shows_something(nothing), "{nothing:?}");
        }
        for something in ["a", "\u{202E}Dana", "李", "\u{200B}x\u{200B}"] {
            assert!(shows_something(something), "{something:?}");
        }
    }

    #[test]
    fn length_is_counted_in_characters_and_checked_first() {
        assert!(Text::Line.check("ééé", 3).is_ok());
        assert_eq!(Text::Line.check("éééé", 3).unwrap_err().code, "too_long");
        assert_eq!(
            Text::Line.check("a\u{7}bcd", 3).unwrap_err().code,
            "too_long"
        );
    }

    #[test]
    fn only_paragraphs_keep_line_breaks_and_tabs() {
        for ok in ["one\ntwo", "a\tb", "a\r\nb"] {
            assert!(Text::Paragraphs.check(ok, 100).is_ok(), "{ok:?}");
            assert_eq!(
                Text::Line.check(ok, 100).unwrap_err().code,
                "invalid_characters",
                "{ok:?}"
            );
        }
        for bad in [
            "a\u{0}b",
            "bell\u{7}",
            "esc\u{1b}[0m",
            "del\u{7f}",
            "c1\u{85}",
        ] {
            assert_eq!(
                Text::Paragraphs.check(bad, 100).unwrap_err().code,
                "invalid_characters",
                "{bad:?}"
            );
        }
    }
}
