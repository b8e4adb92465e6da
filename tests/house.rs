//! The house rules a reviewer would otherwise check by eye: HTTP handlers hold no SQL (it
//! lives in the store of its feature), no source file grows past 600 lines, and no handler
//! past 60. Read from the source tree, so a change that breaks one fails `cargo test`.

#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 600;
const MAX_HANDLER_LINES: usize = 60;
const SQL: &[&str] = &[
    "sqlx::query",
    "query_as",
    "query_scalar",
    "QueryBuilder",
    ".fetch_one(",
    ".fetch_optional(",
    ".fetch_all(",
    ".fetch(",
    ".execute(",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source tree") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources(under: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join(under), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable source file");
            let name = path.strip_prefix(root).unwrap_or(&path);
            (name.display().to_string(), text)
        })
        .collect()
}

/// Files whose job is HTTP: they extract, call a store, and answer.
fn is_http(name: &str) -> bool {
    name.ends_with("/routes.rs") || name.starts_with("src/admin/") || name == "src/main.rs"
}

/// The code of a file without its `#[cfg(test)]` module (tests may talk to the database).
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |at| &text[..at])
}

#[test]
fn handlers_hold_no_sql() {
    let mut found = Vec::new();
    for (name, text) in sources("src").iter().filter(|(name, _)| is_http(name)) {
        for (number, line) in without_tests(text).lines().enumerate() {
            if let Some(sql) = SQL.iter().find(|sql| line.contains(*sql)) {
                found.push(format!("{name}:{}: `{sql}`", number + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "SQL belongs in the feature's store.rs, not in HTTP code:\n{}",
        found.join("\n")
    );
}

#[test]
fn source_files_stay_small() {
    let mut found = Vec::new();
    for under in ["src", "tests"] {
        for (name, text) in sources(under) {
            let lines = text.lines().count();
            if lines > MAX_FILE_LINES {
                found.push(format!("{name}: {lines} lines"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "files over {MAX_FILE_LINES} lines (split them by concern):\n{}",
        found.join("\n")
    );
}

#[test]
fn handlers_stay_short() {
    let mut found = Vec::new();
    for (name, text) in sources("src").iter().filter(|(name, _)| is_http(name)) {
        let lines: Vec<&str> = text.lines().collect();
        let mut routed = false;
        for (at, line) in lines.iter().enumerate() {
            let attribute = ["#[get(", "#[post(", "#[patch(", "#[put(", "#[delete("];
            if attribute.iter().any(|a| line.starts_with(a)) {
                routed = true;
            }
            if routed && (line.starts_with("pub async fn ") || line.starts_with("async fn ")) {
                routed = false;
                let end = lines[at..]
                    .iter()
                    .position(|l| *l == "}")
                    .map_or(lines.len(), |n| at + n);
                let length = end - at + 1;
                if length > MAX_HANDLER_LINES {
                    found.push(format!("{name}:{}: {length} lines", at + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "handlers over {MAX_HANDLER_LINES} lines (move the work into the feature's model or store):\n{}",
        found.join("\n")
    );
}
