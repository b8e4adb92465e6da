//! The house rules a reviewer would otherwise check by eye: HTTP handlers hold no SQL (it
//! lives in the store of its feature), no source file grows past 600 lines, no handler past
//! 60, no other function past 120 (the demo generator's tables aside), and no module imports
//! one that imports it back. Read from the source tree, so a change
//! that breaks one fails `cargo test`.

#![allow(clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
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

const ROUTE_ATTRIBUTES: [&str; 5] = ["#[get(", "#[post(", "#[patch(", "#[put(", "#[delete("];

/// Files whose job is HTTP: they extract, call a store, and answer. By name, or by
/// declaring a route (indented ones too, as a macro stamps them out).
fn is_http(name: &str, text: &str) -> bool {
    name.ends_with("/routes.rs")
        || name.starts_with("src/admin/")
        || name == "src/main.rs"
        || without_tests(text).lines().any(|line| {
            ROUTE_ATTRIBUTES
                .iter()
                .any(|a| line.trim_start().starts_with(a))
        })
}

/// The code of a file without its `#[cfg(test)]` module (tests may talk to the database).
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |at| &text[..at])
}

#[test]
fn handlers_hold_no_sql() {
    let mut found = Vec::new();
    for (name, text) in sources("src")
        .iter()
        .filter(|(name, text)| is_http(name, text))
    {
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
    for (name, text) in sources("src")
        .iter()
        .filter(|(name, text)| is_http(name, text))
    {
        let lines: Vec<&str> = text.lines().collect();
        let mut routed = false;
        for (at, line) in lines.iter().enumerate() {
            let code = line.trim_start();
            let indent = &line[..line.len() - code.len()];
            if ROUTE_ATTRIBUTES.iter().any(|a| code.starts_with(a)) {
                routed = true;
            }
            if routed && (code.starts_with("pub async fn ") || code.starts_with("async fn ")) {
                routed = false;
                // The handler ends at the first closing brace at its own indentation.
                let close = format!("{indent}}}");
                let end = lines[at..]
                    .iter()
                    .position(|l| *l == close)
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

/// A source file's module path: `src/search/index.rs` is `search::index`, a `mod.rs` is its
/// folder's module, `lib.rs` the crate root.
fn module_of(name: &str) -> Vec<String> {
    let path = name.trim_start_matches("src/").trim_end_matches(".rs");
    let mut segments: Vec<String> = path.split('/').map(str::to_owned).collect();
    if matches!(segments.last().map(String::as_str), Some("mod" | "lib")) {
        segments.pop();
    }
    segments
}

/// Every path a file names through `use` (braces expanded) or inline (`crate::db::open`),
/// as module segments: `crate::`, `super::` and `self::` resolved against `module`.
fn named_paths(code: &str, module: &[String], children: &BTreeSet<String>) -> Vec<Vec<String>> {
    fn expand(prefix: &str, tree: &str, out: &mut Vec<String>) {
        let tree = tree.trim();
        if let Some(open) = tree.find('{') {
            let head = format!("{prefix}{}", &tree[..open]);
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let (mut depth, mut start) = (0, 0);
            for (at, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(&head, &inner[start..at], out);
                        start = at + 1;
                    }
                    _ => {}
                }
            }
            expand(&head, &inner[start..], out);
        } else if !tree.is_empty() {
            let item = tree.split(" as ").next().unwrap_or(tree).trim();
            let item = if item == "self" { "" } else { item };
            out.push(format!("{prefix}{item}").trim_end_matches("::").to_owned());
        }
    }
    let mut raw = Vec::new();
    for statement in code.split(';') {
        let statement = statement.trim();
        let statement = statement
            .rsplit_once('\n')
            .map_or(statement, |(_, last)| last)
            .trim();
        let body = statement
            .strip_prefix("pub use ")
            .or_else(|| statement.strip_prefix("pub(crate) use "))
            .or_else(|| statement.strip_prefix("pub(super) use "))
            .or_else(|| statement.strip_prefix("use "));
        if let Some(body) = body {
            expand("", body, &mut raw);
        }
    }
    let mut inline = code;
    while let Some(at) = ["crate::", "super::", "self::"]
        .iter()
        .filter_map(|p| inline.find(p))
        .min()
    {
        let rest = &inline[at..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        raw.push(rest[..end].trim_end_matches(':').to_owned());
        inline = &rest[end..];
    }
    raw.into_iter()
        .filter_map(|path| {
            let segments: Vec<&str> = path.split("::").collect();
            let mut resolved: Vec<String> = match segments.first().copied() {
                Some("crate") => Vec::new(),
                Some("self") => module.to_vec(),
                Some("super") => module[..module.len().saturating_sub(1)].to_vec(),
                Some(first) if children.contains(first) => {
                    let mut own = module.to_vec();
                    own.push(first.to_owned());
                    own.extend(segments[1..].iter().map(|s| (*s).to_owned()));
                    return Some(own);
                }
                _ => return None,
            };
            let mut rest = &segments[1..];
            while rest.first() == Some(&"super") {
                resolved.pop();
                rest = &rest[1..];
            }
            resolved.extend(rest.iter().map(|s| (*s).to_owned()));
            Some(resolved)
        })
        .collect()
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let files: Vec<(String, String)> = sources("src")
        .into_iter()
        .filter(|(name, _)| name != "src/main.rs" && name != "src/lib.rs")
        .collect();
    let modules: BTreeMap<Vec<String>, &str> = files
        .iter()
        .map(|(name, _)| (module_of(name), name.as_str()))
        .collect();
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, text) in &files {
        let module = module_of(name);
        let children: BTreeSet<String> = modules
            .keys()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(&module))
            .filter_map(|m| m.last().cloned())
            .collect();
        // Comments name paths without importing them.
        let code: String = without_tests(text)
            .lines()
            .map(|line| line.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        for path in named_paths(&code, &module, &children) {
            // A folder's `mod.rs` naming its own children (re-exports, the facade) is the
            // folder's structure, not a dependency on them.
            if path.len() > module.len() && path.starts_with(&module) && !module.is_empty() {
                let child = &path[..module.len() + 1];
                if modules.contains_key(child) {
                    continue;
                }
            }
            // The file that defines what the path names: its longest module prefix.
            let target = (1..=path.len())
                .rev()
                .find_map(|n| modules.get(&path[..n]).copied());
            if let Some(target) = target.filter(|t| *t != name.as_str()) {
                edges.entry(name.as_str()).or_default().insert(target);
            }
        }
    }
    let mut cycles = Vec::new();
    for (&from, targets) in &edges {
        for &to in targets {
            // A path back from `to` to `from` closes a cycle through this edge.
            let mut seen = BTreeSet::new();
            let mut stack = vec![vec![to]];
            while let Some(trail) = stack.pop() {
                let last = trail[trail.len() - 1];
                if last == from {
                    let mut cycle = vec![from];
                    cycle.extend(trail);
                    cycles.push(cycle.join(" -> "));
                    break;
                }
                if !seen.insert(last) {
                    continue;
                }
                for &next in edges.get(last).into_iter().flatten() {
                    let mut longer = trail.clone();
                    longer.push(next);
                    stack.push(longer);
                }
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "modules that import each other, directly or through others:\n{}",
        cycles.join("\n")
    );
    assert!(edges.len() > 60, "imports read from {} files", edges.len());
}

const MAX_FUNCTION_LINES: usize = 120;

/// Every function of `text` (free, in an impl or a test module) as (first line, length):
/// a line opening with `fn`, whatever its visibility and qualifiers, to the first closing
/// brace at its own indentation. A declaration without a body (a trait's) has no length.
fn functions(text: &str) -> Vec<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        let indent = &line[..line.len() - code.len()];
        let mut words = code.split_whitespace().peekable();
        while words
            .next_if(|w| w.starts_with("pub") || matches!(*w, "async" | "const" | "unsafe"))
            .is_some()
        {}
        if words.next() != Some("fn") {
            continue;
        }
        // The signature ends at the first line ending in `{` (a body) or `;` (none).
        let declared_only = lines[at..]
            .iter()
            .map(|l| l.trim_end())
            .find(|l| l.ends_with('{') || l.ends_with(';'))
            .is_none_or(|l| l.ends_with(';'));
        if declared_only {
            continue;
        }
        let close = format!("{indent}}}");
        let Some(end) = lines[at..].iter().position(|l| *l == close) else {
            continue;
        };
        found.push((at + 1, end + 1));
    }
    found
}

#[test]
fn functions_stay_readable() {
    let mut found = Vec::new();
    let mut seen = 0;
    for (name, text) in sources("src") {
        if name.starts_with("src/demo/") {
            continue;
        }
        for (line, length) in functions(&text) {
            seen += 1;
            if length > MAX_FUNCTION_LINES {
                found.push(format!("{name}:{line}: {length} lines"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines outside src/demo/ (split them into named steps):\n{}",
        found.join("\n")
    );
    assert!(seen > 500, "functions read: {seen}");
}

#[test]
fn function_lengths_are_measured_to_their_own_closing_brace() {
    let text = "fn a() {\n    if x {\n    }\n}\n\npub(crate) async fn b(\n    x: u8,\n) -> u8 {\n    x\n}\n    fn declared(&self);\n";
    assert_eq!(functions(text), [(1, 4), (6, 5)]);
}
