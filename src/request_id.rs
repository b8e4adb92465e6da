//! The request id: taken from a well-formed incoming `x-request-id`, otherwise a fresh UUIDv7.
//! It lives in a task-local for the request's duration so error rendering and logs can read it.

use std::future::Future;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served on this task, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Runs `fut` with `id` as the current request id.
pub async fn scope<F: Future>(id: String, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}

/// Accepts a client-supplied id only when it is short and plainly printable, so it can be
/// echoed and logged without letting a client inject log lines or huge headers.
pub fn accept_or_generate(incoming: Option<&str>) -> String {
    match incoming {
        Some(id)
            if !id.is_empty()
                && id.len() <= 128
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)) =>
        {
            id.to_owned()
        }
        _ => uuid::Uuid::now_v7().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_ids_are_echoed() {
        assert_eq!(accept_or_generate(Some("abc-123_x.y:z")), "abc-123_x.y:z");
    }

    #[test]
    fn hostile_ids_are_replaced() {
        for bad in ["", "a b", "line\nbreak", &"x".repeat(129), "<script>"] {
            let id = accept_or_generate(Some(bad));
            assert_ne!(id, bad);
            assert!(uuid::Uuid::parse_str(&id).is_ok());
        }
    }
}
