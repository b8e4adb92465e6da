//! What the document says of requests: merge-patch bodies, strings without control
//! characters, and worked examples.

use serde_json::{Map, Value, json};

use crate::directory::model::Fees;
use crate::domain::Money;
use crate::domain::vocab::PaymentMethod;

const JSON: &str = "application/json";
const MERGE_PATCH: &str = "application/merge-patch+json";

/// A merge patch (RFC 7396) sends any subset of a body's fields, `null` to clear one, and
/// merges nested objects: its schema is the body's with every property optional and
/// nullable, nested objects patched the same way (`OfficeBody` → `OfficeBodyPatch`).
pub(super) fn partial_merge_patches(doc: &mut Value) {
    let schemas = doc["components"]["schemas"].clone();
    let mut partial = Map::new();
    for item in doc["paths"].as_object_mut().into_iter().flatten() {
        let Some(operation) = item.1.get_mut("patch") else {
            continue;
        };
        let Some(content) = operation
            .get_mut("requestBody")
            .and_then(|b| b.get_mut("content"))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        if let Some(schema) = content
            .get_mut(MERGE_PATCH)
            .and_then(|m| m.get_mut("schema"))
            && let Some(patch) = patch_of(schema, &schemas, &mut partial)
        {
            *schema = patch;
        }
        // Every JSON body is read as either type (`http::json`): both are declared, plain
        // JSON first, which generated clients pick by default.
        let Some(media) = content
            .get(MERGE_PATCH)
            .or_else(|| content.get(JSON))
            .cloned()
        else {
            continue;
        };
        let mut both = Map::new();
        both.insert(JSON.into(), media.clone());
        both.insert(MERGE_PATCH.into(), media);
        *content = both;
    }
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        schemas.extend(partial);
    }
}

/// The patch form of an object schema reference, created in `partial` on first use; `None`
/// for anything that is not a reference to an object with properties.
fn patch_of(schema: &Value, schemas: &Value, partial: &mut Map<String, Value>) -> Option<Value> {
    let name = schema["$ref"]
        .as_str()?
        .strip_prefix("#/components/schemas/")?;
    let full = schemas.get(name)?;
    full.get("properties")?;
    let patch_name = format!("{name}Patch");
    let reference = json!({"$ref": format!("#/components/schemas/{patch_name}")});
    if partial.contains_key(&patch_name) {
        return Some(reference);
    }
    partial.insert(patch_name.clone(), json!({}));
    let mut patch = full.clone();
    let required: Vec<String> = full["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect();
    if let Some(map) = patch.as_object_mut() {
        map.remove("required");
        map.insert(
            "description".to_owned(),
            json!(format!("Any subset of `{name}`'s fields (JSON merge patch: `null` clears a field, objects merge; a field `{name}` requires cannot be cleared).")),
        );
        for (field, property) in map
            .get_mut("properties")
            .and_then(Value::as_object_mut)
            .into_iter()
            .flat_map(|p| p.iter_mut())
        {
            let inner = property
                .get("oneOf")
                .and_then(|o| o.get(0))
                .cloned()
                .unwrap_or_else(|| property.clone());
            let inner = patch_of(&inner, schemas, partial).unwrap_or(inner);
            *property = if required.contains(field) {
                inner
            } else {
                json!({"anyOf": [inner, {"type": "null"}]})
            };
        }
    }
    partial.insert(patch_name, patch);
    Some(reference)
}

/// Worked examples for the operations a frontend starts with. A test validates each against
/// its schema (`contract::tests`), so they cannot drift from what the service accepts and
/// sends.
pub(super) fn add_examples(doc: &mut Value) {
    let listing_id = "0190b3f0-6c2a-7d4e-9a51-3f2b8c1d7e90";
    let requests = [
        (
            "/v1/auth/signup",
            "post",
            "application/json",
            json!({"email": "jane.doe@example.com", "password": "a calm river at dawn",
                   "full_name": "Jane Doe", "accept_terms": true}),
        ),
        (
            "/v1/auth/login",
            "post",
            "application/json",
            json!({"email": "jane.doe@example.com", "password": "a calm river at dawn"}),
        ),
        (
            "/v1/me/listing",
            "patch",
            "application/merge-patch+json",
            json!({"professional_title": "Licensed Professional Counselor",
                   "accepting": "waitlist", "delivery": ["in_person", "video"]}),
        ),
    ];
    for (path, method, media_type, example) in requests {
        if let Some(content) =
            doc["paths"][path][method]["requestBody"]["content"].get_mut(media_type)
        {
            content["example"] = example;
        }
    }
    let fees = json!({"min": {"amount_cents": 12000, "currency": "USD"},
                      "max": {"amount_cents": 16000, "currency": "USD"},
                      "sliding_scale_min": {"amount_cents": 6000, "currency": "USD"},
                      "insurance_only": false});
    let media = "https://api.directory.example/media";
    let photo = json!({
        "w160": format!("{media}/3f7a9c0e5b1d2468ac13e5f7092b4d6f8a1c3e5b7d9f0214365879abcdef0123.webp"),
        "w400": format!("{media}/9b2d4f6a8c0e1325476980abcdef1234567890abcdef1234567890abcdef1234.webp"),
        "w800": format!("{media}/0c1d2e3f405162738495a6b7c8d9eaf0b1c2d3e4f5061728394a5b6c7d8e9f00.webp"),
        "jpeg": format!("{media}/d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d.jpg"),
    });
    let responses = [
        (
            "/v1/therapists",
            json!({
                "items": [{
                    "id": listing_id, "slug": "jane-doe", "display_name": "Jane Doe",
                    "pronouns": "she/her", "credentials": "LPC", "professional_title": "Licensed Professional Counselor",
                    "photo_url": photo["w400"], "photo": photo,
                    "accepting": "accepting", "free_consultation": true, "fees": fees,
                    "modalities": ["cbt", "imago"], "top_specialties": ["anxiety", "couples"],
                    "delivery": ["in_person", "video"], "session_formats": ["individual", "couples"],
                    "languages": ["en", "es"], "telehealth_states": ["NC"],
                    "offices": [{"city": "Raleigh", "state": "NC", "zip": "27601"}],
                    "license_verified": true, "last_confirmed_at": "2026-11-02T15:04:05Z",
                    "distance_km": 3.4, "latitude": 35.7796, "longitude": -78.6382,
                    "updated_at": "2026-11-02T15:04:05Z", "stale": false, "availability_confirmed": true
                }],
                "next_cursor": null, "total": 1, "total_is_exact": true,
                "facets": {"modality": [{"slug": "cbt", "count": 1, "name": "Cognitive Behavioral Therapy (CBT)"},
                                        {"slug": "imago", "count": 1, "name": "Imago Relationship Therapy"}]},
                "facets_are_exact": true,
                "place": {"name": "Raleigh, NC", "kind": "city", "state": "NC",
                          "latitude": 35.8164, "longitude": -78.6454},
                "interpreted": {"text": "couples", "near": "Raleigh, NC",
                                "filters": {"insurer": ["aetna"], "sliding_scale": true}}
            }),
        ),
        (
            "/v1/therapists/{id_or_slug}",
            json!({
                "id": listing_id, "slug": "jane-doe", "display_name": "Jane Doe",
                "pronouns": "she/her", "credentials": "LPC",
                "photo_url": photo["w400"], "photo": photo,
                "statement": "I help couples and individuals find steadier ground.",
                "languages": ["en", "es"], "age_groups": ["adults"], "communities": ["lgbtq"],
                "session_formats": ["individual", "couples"], "delivery": ["in_person", "video"],
                "availability": {"accepting": "accepting", "free_consultation": true, "confirmed": true},
                // Written from the type, so the example carries every field the answer does.
                "fees": Fees {
                    min: Money::usd(12000).ok(),
                    payment_methods: vec![PaymentMethod::CreditCard, PaymentMethod::Hsa],
                    ..Fees::default()
                },
                "insurers": [{"slug": "aetna", "name": "Aetna"}],
                "modalities": [{"slug": "imago", "name": "Imago Relationship Therapy"}],
                "specialties": [{"slug": "couples", "name": "Couples and Relationships",
                                 "category": "relationships", "top": true}],
                "telehealth_states": ["NC"], "offices": [], "licenses": [], "certifications": [],
                "offerings": [], "stale": false, "updated_at": "2026-11-02T15:04:05Z",
                "professional_title": "Licensed Professional Counselor", "contact_email": null,
                "phone": "+19195550123", "website_url": null, "gender": "female", "faith": null,
                "npi": null, "taxonomy_code": null, "years_in_practice": 12,
                "last_confirmed_at": "2026-10-20T09:00:00Z", "published_at": "2025-03-01T12:00:00Z",
                "response_time": null
            }),
        ),
    ];
    for (path, example) in responses {
        if let Some(content) =
            doc["paths"][path]["get"]["responses"]["200"]["content"].get_mut("application/json")
        {
            content["example"] = example;
        }
    }
}

/// Strings a request may carry: no control characters but newline, carriage return and tab
/// (`http::json` refuses the others with 422 `control_character`).
const REQUEST_TEXT: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";
/// Query parameters: no control characters at all (`http::query`).
const PARAMETER_TEXT: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$";

/// States in the document what the extractors refuse: every free-text string of a request
/// body or query gets a pattern without control characters, so a generated client or a
/// fuzzer knows them as invalid.
pub(super) fn refuse_control_characters_in_requests(doc: &mut Value) {
    let mut request_schemas = std::collections::BTreeSet::new();
    let mut pending: Vec<Value> = Vec::new();
    for item in doc["paths"].as_object().into_iter().flatten() {
        for operation in item.1.as_object().into_iter().flatten() {
            for content in operation.1["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flatten()
            {
                pending.push(content.1["schema"].clone());
            }
        }
    }
    while let Some(schema) = pending.pop() {
        collect_refs(&schema, &mut |name| {
            if request_schemas.insert(name.to_owned()) {
                pending.push(doc["components"]["schemas"][name].clone());
            }
        });
    }
    for name in &request_schemas {
        if let Some(schema) = doc["components"]["schemas"].get_mut(name) {
            constrain_strings(schema, REQUEST_TEXT);
        }
    }
    for item in doc["paths"].as_object_mut().into_iter().flatten() {
        for operation in item.1.as_object_mut().into_iter().flatten() {
            // `get_mut`, not indexing: indexing a missing key would insert a null.
            let contents = operation
                .1
                .get_mut("requestBody")
                .and_then(|b| b.get_mut("content"))
                .and_then(Value::as_object_mut);
            for content in contents.into_iter().flat_map(|c| c.values_mut()) {
                if let Some(schema) = content.get_mut("schema") {
                    constrain_strings(schema, REQUEST_TEXT);
                }
            }
            let parameters = operation
                .1
                .get_mut("parameters")
                .and_then(Value::as_array_mut);
            for parameter in parameters.into_iter().flatten() {
                if parameter["in"] == "query"
                    && let Some(schema) = parameter.get_mut("schema")
                {
                    constrain_strings(schema, PARAMETER_TEXT);
                }
            }
        }
    }
}

fn collect_refs(schema: &Value, found: &mut impl FnMut(&str)) {
    match schema {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                found(name);
            }
            for value in map.values() {
                collect_refs(value, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, found)),
        _ => {}
    }
}

/// Adds `pattern` to every free-text string schema inside `schema` (not to enums, formats
/// or strings that already have a pattern).
fn constrain_strings(schema: &mut Value, pattern: &str) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    let is_string = match map.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
        _ => false,
    };
    let free = !["pattern", "format", "enum", "const", "$ref"]
        .iter()
        .any(|k| map.contains_key(*k));
    if is_string && free {
        map.insert("pattern".to_owned(), json!(pattern));
    }
    for key in [
        "properties",
        "items",
        "allOf",
        "oneOf",
        "anyOf",
        "additionalProperties",
    ] {
        match map.get_mut(key) {
            Some(Value::Object(children)) if key == "properties" => {
                children
                    .values_mut()
                    .for_each(|c| constrain_strings(c, pattern));
            }
            Some(Value::Array(children)) => {
                children
                    .iter_mut()
                    .for_each(|c| constrain_strings(c, pattern));
            }
            Some(child @ Value::Object(_)) => constrain_strings(child, pattern),
            _ => {}
        }
    }
}
