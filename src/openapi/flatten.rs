//! Response types that embed another with `#[serde(flatten)]` (the owner's view carries the
//! listing's profile) come out of utoipa as `allOf` of inline objects, one of which may
//! forbid additional properties: read literally, no response could match it. Here such a
//! schema becomes the one object it is on the wire.

use serde_json::{Map, Value};

/// Merges every component schema whose `allOf` holds only inline objects (no `$ref`) into
/// one object. Every property keeps its schema; a property is required when one of the
/// parts requires it or it cannot be null, since a serialised struct writes every field
/// it has (the types flattened this way skip none).
pub fn merge_flattened(schemas: &mut Map<String, Value>) {
    for schema in schemas.values_mut() {
        let mut parts = Vec::new();
        if !inline_parts(schema, &mut parts) || parts.len() < 2 {
            continue;
        }
        let mut properties = Map::new();
        let mut required: Vec<Value> = Vec::new();
        for part in &parts {
            let own = part["properties"].as_object().cloned().unwrap_or_default();
            let named = part["required"].as_array().cloned().unwrap_or_default();
            let always: Vec<Value> = own
                .iter()
                .filter(|(_, property)| !nullable(property))
                .map(|(name, _)| Value::String(name.clone()))
                .collect();
            for name in named.into_iter().chain(always) {
                if !required.contains(&name) {
                    required.push(name);
                }
            }
            for (name, property) in own {
                properties.entry(name).or_insert(property);
            }
        }
        let mut merged = Map::new();
        if let Some(description) = schema.get("description") {
            merged.insert("description".into(), description.clone());
        }
        merged.insert("properties".into(), Value::Object(properties));
        merged.insert("required".into(), Value::Array(required));
        merged.insert("type".into(), Value::String("object".into()));
        *schema = Value::Object(merged);
    }
}

/// Collects the objects an `allOf` is made of, through nested `allOf`s; false when one of
/// them is a reference or not an object.
fn inline_parts(schema: &Value, parts: &mut Vec<Value>) -> bool {
    if let Some(all_of) = schema["allOf"].as_array() {
        return all_of.iter().all(|part| inline_parts(part, parts));
    }
    if schema.get("$ref").is_some() || schema["type"] != "object" {
        return false;
    }
    parts.push(schema.clone());
    true
}

fn nullable(property: &Value) -> bool {
    let null = Value::String("null".into());
    match &property["type"] {
        Value::Array(types) => types.contains(&null),
        Value::String(t) => t == "null",
        _ => property["oneOf"]
            .as_array()
            .is_some_and(|options| options.iter().any(|o| o["type"] == null)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inline_parts_become_one_object() {
        let mut schemas = Map::new();
        schemas.insert(
            "View".into(),
            json!({"description": "A view.", "allOf": [
                {"allOf": [{"type": "object", "additionalProperties": false, "required": ["name"],
                    "properties": {"name": {"type": "string"}, "tags": {"type": "array"},
                                   "note": {"type": ["string", "null"]}}},
                           {"type": "object"}]},
                {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
            ]}),
        );
        schemas.insert(
            "Admin".into(),
            json!({"allOf": [{"$ref": "#/components/schemas/View"}, {"type": "object"}]}),
        );
        merge_flattened(&mut schemas);
        assert_eq!(
            schemas["View"],
            json!({"description": "A view.", "type": "object", "required": ["name", "tags", "id"],
                   "properties": {"name": {"type": "string"}, "tags": {"type": "array"},
                                  "note": {"type": ["string", "null"]}, "id": {"type": "string"}}})
        );
        assert!(schemas["Admin"]["allOf"].is_array(), "a reference is kept");
    }
}
