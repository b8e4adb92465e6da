//! What an answer always carries is required, null included: a generated client then types
//! an always-present nullable field as `T | null`, not as an optional `T | null | undefined`
//! the frontend must test twice. utoipa marks every `Option` field optional; here every
//! nullable property of a schema only answers use is made required. A field an answer
//! leaves out when empty (`skip_serializing_if`) says so by not being nullable. Every
//! response the test suite receives is checked against the document, so a field marked
//! required here that an answer leaves out fails a test.

use std::collections::BTreeSet;

use serde_json::Value;

pub(super) fn require_present_nullables(doc: &mut Value) {
    let schemas = doc["components"]["schemas"].clone();
    let mut answers = BTreeSet::new();
    let mut requests = BTreeSet::new();
    for item in doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, i)| i)
    {
        for operation in item.as_object().into_iter().flatten().map(|(_, o)| o) {
            referenced(&operation["responses"], &schemas, &mut answers);
            referenced(&operation["requestBody"], &schemas, &mut requests);
            referenced(&operation["parameters"], &schemas, &mut requests);
        }
    }
    for name in answers.difference(&requests) {
        let schema = &mut doc["components"]["schemas"][name.as_str()];
        let nullable: Vec<String> = schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, property)| is_nullable(property))
            .map(|(key, _)| key.clone())
            .collect();
        if nullable.is_empty() {
            continue;
        }
        let required = schema["required"].as_array().cloned().unwrap_or_default();
        let mut all: BTreeSet<String> = required
            .iter()
            .filter_map(|r| r.as_str().map(str::to_owned))
            .collect();
        all.extend(nullable);
        schema["required"] = Value::Array(all.into_iter().map(Value::String).collect());
    }
}

/// Adds to `seen` every component `value` refers to, and those they refer to.
fn referenced(value: &Value, schemas: &Value, seen: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                && seen.insert(name.to_owned())
            {
                referenced(&schemas[name], schemas, seen);
            }
            map.values().for_each(|v| referenced(v, schemas, seen));
        }
        Value::Array(items) => items.iter().for_each(|v| referenced(v, schemas, seen)),
        _ => {}
    }
}

fn is_nullable(property: &Value) -> bool {
    let null_type = |v: &Value| v == "null" || v["type"] == "null";
    property["type"]
        .as_array()
        .is_some_and(|t| t.iter().any(null_type))
        || ["oneOf", "anyOf"].iter().any(|k| {
            property[*k]
                .as_array()
                .is_some_and(|v| v.iter().any(null_type))
        })
}
