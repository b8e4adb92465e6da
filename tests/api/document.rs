//! What a frontend team's generated client and reference read in the document, held to
//! the rules that make them pleasant: one-line summaries, PATCH bodies in both JSON types.

use serde_json::Value;

fn operations() -> Vec<(String, String, Value)> {
    let doc = therapist_directory::openapi::document();
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            all.push((method.clone(), path.clone(), operation.clone()));
        }
    }
    all
}

#[test]
fn summaries_are_one_line_and_descriptions_hold_the_rest() {
    for (method, path, operation) in operations() {
        let summary = operation["summary"].as_str().unwrap_or_default();
        assert!(!summary.is_empty(), "{method} {path} has no summary");
        assert!(
            !summary.contains('\n') && summary.chars().count() <= 100 && !summary.ends_with('.'),
            "{method} {path}: the summary is not one short line: {summary:?}"
        );
    }
}

#[test]
fn every_patch_body_is_documented_as_json_and_as_a_merge_patch() {
    for (method, path, operation) in operations() {
        if method != "patch" {
            continue;
        }
        let content = operation["requestBody"]["content"].as_object().unwrap();
        let types: Vec<&String> = content.keys().collect();
        assert_eq!(
            types,
            ["application/json", "application/merge-patch+json"],
            "{path}"
        );
        assert_eq!(
            content["application/json"]["schema"],
            content["application/merge-patch+json"]["schema"],
            "{path}: one schema for both"
        );
    }
}

/// The example a frontend copies keeps optimistic locking on: it sends the `ETag` it read,
/// never `If-Match: *` in its place.
#[test]
fn the_typescript_example_never_sends_a_wildcard_if_match() {
    let example = include_str!("../../clients/typescript/example.ts");
    for line in example
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
    {
        assert!(
            !line.contains("\"*\"") && !line.contains("'*'"),
            "the example sends a wildcard: {line}"
        );
    }
}

/// A list answer's items are a named schema, so a generated client has a type for one item.
#[test]
fn every_list_item_is_a_named_schema() {
    let doc = therapist_directory::openapi::document();
    let mut lists = 0;
    for (method, path, operation) in operations() {
        let Some(schema) =
            operation["responses"]["200"]["content"]["application/json"]["schema"].as_object()
        else {
            continue;
        };
        let resolved = match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
            None => &Value::Object(schema.clone()),
        };
        let items = &resolved["properties"]["items"];
        if items["type"] == "array" {
            lists += 1;
            assert!(
                items["items"].get("$ref").is_some(),
                "{method} {path}: the items are written out inline"
            );
        }
    }
    assert!(lists >= 7, "the document's pages were found ({lists})");
}

/// A path segment as an operation id spells it, without a plural ending
/// (`specialties` → `specialt`, `audit-log` → `audit_log`).
fn stem(segment: &str) -> String {
    let word = segment.replace(['-', '.'], "_");
    if let Some(base) = word.strip_suffix("ies") {
        base.to_owned()
    } else if let Some(base) = ["ches", "shes", "sses", "xes"]
        .iter()
        .find_map(|ending| word.strip_suffix(ending).map(|b| (b, ending)))
        .map(|(b, ending)| format!("{b}{}", &ending[..ending.len() - 2]))
    {
        base
    } else if let Some(base) = word.strip_suffix('s').filter(|_| word.len() > 3) {
        base.to_owned()
    } else {
        word
    }
}

/// An operation's id names what its path names: the last segment, the collection an action
/// on an item belongs to, `my`/`me` under `/v1/me` and `admin_` under `/v1/admin`.
#[test]
fn operation_ids_follow_the_paths() {
    for (method, path, operation) in operations() {
        let id = operation["operationId"].as_str().unwrap_or_default();
        let segments: Vec<&str> = path
            .split('/')
            .filter(|s| !s.is_empty() && *s != "v1")
            .collect();
        let last = segments.iter().rposition(|s| !s.starts_with('{')).unwrap();
        let mut needed = vec![stem(segments[last])];
        if last >= 2 && segments[last - 1].starts_with('{') {
            needed.push(stem(segments[last - 2]));
        }
        for word in needed {
            assert!(
                id.contains(&word),
                "{method} {path}: the id {id} does not name {word}"
            );
        }
        if path.starts_with("/v1/me") {
            let words: Vec<&str> = id.split('_').collect();
            assert!(
                words.contains(&"my") || words.contains(&"me"),
                "{method} {path}: {id}"
            );
        }
        if path.starts_with("/v1/admin") {
            assert!(id.starts_with("admin_"), "{method} {path}: {id}");
        }
    }
}

/// Tags group operations by the first segment of their path, one tag each, all declared,
/// none with a space (generated clients make names of them).
#[test]
fn tags_follow_the_paths() {
    let doc = therapist_directory::openapi::document();
    let declared: Vec<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let mut by_area = std::collections::BTreeMap::new();
    for (method, path, operation) in operations() {
        let tags = operation["tags"].as_array().unwrap();
        assert_eq!(tags.len(), 1, "{method} {path}");
        let tag = tags[0].as_str().unwrap().to_owned();
        assert!(
            !tag.contains(' ') && declared.contains(&tag.as_str()),
            "{method} {path}: {tag}"
        );
        let area = match path.strip_prefix("/v1/") {
            Some(rest)
                if ["auth", "me", "admin"]
                    .iter()
                    .any(|a| rest.split('/').next() == Some(a)) =>
            {
                rest.split('/').next().unwrap().to_owned()
            }
            Some(_) => "v1".to_owned(),
            None => "outside".to_owned(),
        };
        let first = by_area.entry(area.clone()).or_insert_with(|| tag.clone());
        assert_eq!(*first, tag, "{method} {path}: one tag for {area}");
    }
}
