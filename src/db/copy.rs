//! Rows in PostgreSQL's COPY text format, for bulk loading (the demo seed).

use std::fmt::Write;

use uuid::Uuid;

#[derive(Default)]
pub struct CopyBuffer {
    pub bytes: Vec<u8>,
    first_in_row: bool,
}

impl CopyBuffer {
    pub fn with_capacity(n: usize) -> Self {
        CopyBuffer {
            bytes: Vec::with_capacity(n),
            first_in_row: true,
        }
    }

    fn sep(&mut self) {
        if !self.first_in_row {
            self.bytes.push(b'\t');
        }
        self.first_in_row = false;
    }

    pub fn text(&mut self, value: &str) -> &mut Self {
        self.sep();
        // Copied a run at a time: escapes are rare, and a byte at a time was the largest
        // part of generating a load's rows.
        let mut rest = value.as_bytes();
        while let Some(at) = rest
            .iter()
            .position(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
        {
            self.bytes.extend_from_slice(&rest[..at]);
            self.bytes.extend_from_slice(match rest[at] {
                b'\\' => b"\\\\",
                b'\t' => b"\\t",
                b'\n' => b"\\n",
                _ => b"\\r",
            });
            rest = &rest[at + 1..];
        }
        self.bytes.extend_from_slice(rest);
        self
    }

    pub fn null(&mut self) -> &mut Self {
        self.sep();
        self.bytes.extend_from_slice(b"\\N");
        self
    }

    pub fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    pub fn display(&mut self, value: impl std::fmt::Display) -> &mut Self {
        self.sep();
        let mut s = String::new();
        let _ = write!(s, "{value}");
        self.bytes.extend_from_slice(s.as_bytes());
        self
    }

    pub fn opt_display(&mut self, value: Option<impl std::fmt::Display>) -> &mut Self {
        match value {
            Some(v) => self.display(v),
            None => self.null(),
        }
    }

    pub fn uuid(&mut self, id: Uuid) -> &mut Self {
        self.display(id.hyphenated())
    }

    pub fn boolean(&mut self, value: bool) -> &mut Self {
        self.display(if value { "t" } else { "f" })
    }

    /// A text[] of plain tokens (letters, digits, underscores): the only arrays bulk loads write.
    pub fn array<S: AsRef<str>>(&mut self, values: &[S]) -> &mut Self {
        self.sep();
        self.bytes.push(b'{');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.bytes.push(b',');
            }
            debug_assert!(
                v.as_ref()
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            );
            self.bytes.extend_from_slice(v.as_ref().as_bytes());
        }
        self.bytes.push(b'}');
        self
    }

    pub fn end_row(&mut self) {
        self.bytes.push(b'\n');
        self.first_in_row = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_copy_text_format_requires() {
        let mut buf = CopyBuffer::with_capacity(64);
        buf.text("a\tb\\c\nd\r\r")
            .null()
            .array(&["en", "es"])
            .boolean(true);
        buf.end_row();
        assert_eq!(
            String::from_utf8(buf.bytes).unwrap(),
            "a\\tb\\\\c\\nd\\r\\r\t\\N\t{en,es}\tt\n"
        );
    }
}
