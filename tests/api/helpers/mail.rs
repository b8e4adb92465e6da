//! Email as the file transport wrote it, read as a mail client would.

use super::app::TestApp;

impl TestApp {
    /// Every `.eml` the file transport wrote so far.
    pub fn emails(&self) -> Vec<String> {
        emails_in(&self.mail_dir)
    }

    /// Waits (up to 10 s) for an email to `to` whose subject contains `subject`.
    pub async fn email_to(&self, to: &str, subject: &str) -> String {
        for _ in 0..400 {
            if let Some(email) = self
                .emails()
                .into_iter()
                .find(|e| e.contains(&format!("To: {to}")) && e.contains(subject))
            {
                return email;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!(
            "no email to {to} about {subject:?}; have: {:#?}",
            self.emails()
        );
    }
}

/// Every `.eml` in a file transport's directory, decoded.
pub fn emails_in(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|raw| decode_quoted_printable(&raw))
        .collect()
}

/// Reads a message as a mail client would: soft line breaks joined, `=XX` decoded.
fn decode_quoted_printable(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `token=` value of the first link in an email.
pub fn token_in(email: &str) -> String {
    let start = email.find("token=").expect("a link with a token") + "token=".len();
    email[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}
