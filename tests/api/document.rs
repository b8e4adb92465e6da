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
