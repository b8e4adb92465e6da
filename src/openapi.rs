//! The OpenAPI 3.1 document, generated from the handlers' annotations and the route table.
//! `therapist-directory openapi > openapi/openapi.json` regenerates the committed copy.
//!
//! Handlers annotate what is particular to them (their body, parameters, success answers
//! and the errors only they give). What every operation of a kind answers is added here,
//! from the operation's shape, so it cannot be forgotten on one of them: problem responses
//! are shared components (one per status, listing the codes that status carries), every
//! response says what it is and carries `x-request-id`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::admin::reports::ReportState;
use crate::domain::vocab::ListingStatus;
use crate::error::{ErrorCode, FieldError, PROBLEM_JSON, Problem};
use crate::routes;
use crate::search::model::{LanguageCode, TermSlug};
use crate::search::params::Sort;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Therapist Directory API",
        description = "An open directory of therapists: public search and profiles, \"join the directory\" \
            signup and listing management for therapists, and review tools for admins.\n\n\
            Every error is `application/problem+json` (RFC 9457) with a stable `code`; the codes each status \
            can carry are listed with the status, and in the error-code table of `/docs`. Every response \
            carries `x-request-id` (send your own to correlate logs). Repeatable query parameters are \
            repeated (`modality=cbt&modality=emdr`); the bracket form (`modality[]=cbt`) is accepted too.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    servers((url = "/", description = "The server that serves this document")),
    // Schemas that query parameters refer to: utoipa-actix-web collects only those of bodies.
    components(schemas(Problem, FieldError, ListingStatus, ReportState, TermSlug, LanguageCode, Sort)),
    modifiers(&BearerAuth),
    tags(
        (name = "directory", description = "The public directory: published listings"),
        (name = "my listing", description = "A therapist manages their own listing"),
        (name = "inquiries", description = "Clients write to therapists; therapists answer from their inbox"),
        (name = "reports", description = "Anyone can report a problem with a listing; admins resolve reports"),
        (name = "admin", description = "Review, verification, accounts, taxonomy, reports and the audit log (admins only)"),
        (name = "auth", description = "Join the directory, sign in, tokens and the signed-in account"),
        (name = "taxonomy", description = "Modalities, specialties and insurers"),
        (name = "operational", description = "Health, readiness, metrics and this document"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "The `access_token` from `POST /v1/auth/login` or `/v1/auth/refresh`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The whole document: the static parts above plus every path registered in `routes`,
/// completed with what every operation of its kind answers.
pub fn document() -> Value {
    let (_, doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    // Serialising utoipa's plain structs cannot fail.
    let mut doc = serde_json::to_value(doc).unwrap_or_default();
    complete(&mut doc);
    doc
}

/// The document as the pretty JSON that is committed to `openapi/openapi.json`.
pub fn document_json() -> anyhow::Result<String> {
    let mut json = serde_json::to_string_pretty(&document())?;
    json.push('\n');
    Ok(json)
}

/// Operations that read nothing but the process itself: no database, no failure modes.
const STATIC_OPERATIONS: &[&str] = &["healthz", "openapi_json", "docs", "docs_asset"];

/// The name of the shared response component for an error status.
fn component_name(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        409 => "Conflict",
        412 => "PreconditionFailed",
        413 => "PayloadTooLarge",
        415 => "UnsupportedMediaType",
        422 => "UnprocessableContent",
        428 => "PreconditionRequired",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        503 => "ServiceUnavailable",
        _ => "Error",
    }
}

fn header_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/headers/{name}")})
}

/// Headers the service sends, as shared components.
fn headers() -> Value {
    json!({
        "RequestId": {
            "description": "The request's id: yours when you sent a valid `x-request-id`, otherwise a new one. Quote it when reporting a problem.",
            "schema": {"type": "string", "maxLength": 64}
        },
        "ETag": {
            "description": "The representation's entity tag, for `If-None-Match` (and `If-Match` where an operation takes it). A compressed representation has its own tag (suffixed `-gzip` or `-br`); either form is accepted back.",
            "schema": {"type": "string"}
        },
        "Location": {
            "description": "The URL of the created resource.",
            "schema": {"type": "string", "format": "uri-reference"}
        },
        "RetryAfter": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 1}
        },
        "RateLimitPolicy": {
            "description": "The rate limits this operation counts against (IETF draft `RateLimit-Policy`): `\"name\";q=<requests>;w=<window seconds>` per policy.",
            "schema": {"type": "string"}
        },
        "RateLimit": {
            "description": "What is left of each policy (IETF draft `RateLimit`): `\"name\";r=<remaining>;t=<seconds until the window resets>`.",
            "schema": {"type": "string"}
        },
        "WWWAuthenticate": {
            "description": "`Bearer`, or `Bearer error=\"invalid_token\"` when the token was refused.",
            "schema": {"type": "string"}
        },
        "Allow": {
            "description": "The methods this path serves.",
            "schema": {"type": "string"}
        }
    })
}

/// Shared problem responses, one per status, each constraining `code` to what that status
/// carries in the error table.
fn error_components(schemas: &mut Map<String, Value>, responses: &mut Map<String, Value>) {
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for code in ErrorCode::ALL {
        by_status
            .entry(code.status().as_u16())
            .or_default()
            .push(*code);
    }
    for (status, codes) in by_status {
        let name = component_name(status);
        let schema_name = format!("Problem{status}");
        let code_names: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
        schemas.insert(
            schema_name.clone(),
            json!({
                "allOf": [
                    {"$ref": "#/components/schemas/Problem"},
                    {
                        "type": "object",
                        "properties": {
                            "status": {"const": status},
                            "code": {"type": "string", "enum": code_names}
                        }
                    }
                ]
            }),
        );
        let described: Vec<String> = codes
            .iter()
            .map(|c| format!("`{}` ({})", c.as_str(), c.title()))
            .collect();
        let mut headers = json!({"x-request-id": header_ref("RequestId")});
        match status {
            401 => headers["WWW-Authenticate"] = header_ref("WWWAuthenticate"),
            405 => headers["Allow"] = header_ref("Allow"),
            429 => {
                headers["Retry-After"] = header_ref("RetryAfter");
                headers["RateLimit-Policy"] = header_ref("RateLimitPolicy");
                headers["RateLimit"] = header_ref("RateLimit");
            }
            503 => headers["Retry-After"] = header_ref("RetryAfter"),
            _ => {}
        }
        responses.insert(
            name.to_owned(),
            json!({
                "description": format!("Problem: {}.", described.join(", ")),
                "headers": headers,
                "content": {PROBLEM_JSON: {"schema": {"$ref": format!("#/components/schemas/{schema_name}")}}}
            }),
        );
    }
}

fn reason(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "202" => "Accepted",
        "204" => "No content",
        "304" => "Not modified: your cached copy (`If-None-Match`) is current",
        _ => "Response",
    }
}

/// Adds to `doc` what every operation of its kind answers; see the module comment.
fn complete(doc: &mut Value) {
    let mut schemas = doc["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut responses = Map::new();
    error_components(&mut schemas, &mut responses);
    doc["components"]["schemas"] = Value::Object(schemas);
    doc["components"]["responses"] = Value::Object(responses);
    doc["components"]["headers"] = headers();

    refuse_control_characters_in_requests(doc);
    partial_merge_patches(doc);
    add_examples(doc);

    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if !matches!(method.as_str(), "get" | "post" | "put" | "patch" | "delete") {
                continue;
            }
            complete_operation(operation);
        }
    }
}

fn complete_operation(operation: &mut Value) {
    let id = operation["operationId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let secured = operation["security"]
        .as_array()
        .is_some_and(|s| !s.is_empty());
    let has_body = operation.get("requestBody").is_some();
    let params = operation["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let has_in = |place: &str| params.iter().any(|p| p["in"] == place);
    let takes_if_match = params
        .iter()
        .any(|p| p["in"] == "header" && p["name"].as_str() == Some("If-Match"));

    let mut statuses: Vec<u16> = Vec::new();
    if !STATIC_OPERATIONS.contains(&id.as_str()) {
        statuses.extend([500, 503]);
    }
    if secured {
        statuses.extend([401, 403]);
    }
    if has_body {
        statuses.extend([400, 413, 415, 422]);
    }
    if has_in("query") {
        statuses.push(400);
    }
    if has_in("path") {
        statuses.push(404);
    }
    if takes_if_match {
        statuses.push(412);
    }

    if !secured {
        // Stated rather than implied, so a reader (and a linter) knows it is public.
        operation["security"] = json!([]);
    }

    let responses = operation["responses"]
        .as_object_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let rate_limited = responses.contains_key("429");
    let cached = responses.contains_key("304");
    let mut completed = Map::new();
    for (status, mut response) in responses {
        let is_problem = response["content"].get(PROBLEM_JSON).is_some();
        let code: u16 = status.parse().unwrap_or(0);
        if is_problem || code >= 400 {
            completed.insert(status, problem_ref(code, response["description"].as_str()));
            continue;
        }
        if response["description"].as_str().is_none_or(str::is_empty) {
            response["description"] = json!(reason(&status));
        }
        let headers = response
            .as_object_mut()
            .map(|r| r.entry("headers").or_insert_with(|| json!({})));
        if let Some(headers) = headers {
            headers["x-request-id"] = header_ref("RequestId");
            if cached && (status == "200" || status == "304") {
                headers["ETag"] = header_ref("ETag");
            }
            if let Some(etag) = headers.get_mut("ETag").filter(|h| h.get("$ref").is_none()) {
                *etag = header_ref("ETag");
            }
            if status == "201" {
                headers["Location"] = header_ref("Location");
            }
            if takes_if_match && status.starts_with('2') {
                // The new version's tag, for the next conditional request.
                headers["ETag"] = header_ref("ETag");
            }
            if rate_limited {
                headers["RateLimit-Policy"] = header_ref("RateLimitPolicy");
                headers["RateLimit"] = header_ref("RateLimit");
            }
        }
        completed.insert(status, response);
    }
    for status in statuses {
        completed
            .entry(status.to_string())
            .or_insert_with(|| problem_ref(status, None));
    }
    // Statuses in numeric order, as a reader expects them.
    let mut ordered: Vec<(String, Value)> = completed.into_iter().collect();
    ordered.sort_by_key(|(status, _)| status.parse::<u16>().unwrap_or(u16::MAX));
    operation["responses"] = Value::Object(ordered.into_iter().collect());
}

/// A merge patch (RFC 7396) sends any subset of a body's fields, `null` to clear one, and
/// merges nested objects: its schema is the body's with every property optional and
/// nullable, nested objects patched the same way (`OfficeBody` → `OfficeBodyPatch`).
fn partial_merge_patches(doc: &mut Value) {
    let schemas = doc["components"]["schemas"].clone();
    let mut partial = Map::new();
    for item in doc["paths"].as_object_mut().into_iter().flatten() {
        let Some(operation) = item.1.get_mut("patch") else {
            continue;
        };
        let schema = operation
            .get_mut("requestBody")
            .and_then(|b| b.get_mut("content"))
            .and_then(|c| c.get_mut("application/merge-patch+json"))
            .and_then(|m| m.get_mut("schema"));
        let Some(schema) = schema else { continue };
        if let Some(patch) = patch_of(schema, &schemas, &mut partial) {
            *schema = patch;
        }
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
    if let Some(map) = patch.as_object_mut() {
        map.remove("required");
        map.insert(
            "description".to_owned(),
            json!(format!("Any subset of `{name}`'s fields (JSON merge patch: `null` clears a field, objects merge).")),
        );
        for property in map
            .get_mut("properties")
            .and_then(Value::as_object_mut)
            .into_iter()
            .flat_map(|p| p.values_mut())
        {
            let inner = property
                .get("oneOf")
                .and_then(|o| o.get(0))
                .cloned()
                .unwrap_or_else(|| property.clone());
            let inner = patch_of(&inner, schemas, partial).unwrap_or(inner);
            *property = json!({"anyOf": [inner, {"type": "null"}]});
        }
    }
    partial.insert(patch_name, patch);
    Some(reference)
}

/// Worked examples for the operations a frontend starts with. A test validates each against
/// its schema (`contract::tests`), so they cannot drift from what the service accepts and
/// sends.
fn add_examples(doc: &mut Value) {
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
    let responses = [
        (
            "/v1/therapists",
            json!({
                "items": [{
                    "id": listing_id, "slug": "jane-doe", "display_name": "Jane Doe",
                    "pronouns": "she/her", "credentials": "LPC", "professional_title": "Licensed Professional Counselor",
                    "photo_url": null, "accepting": "accepting", "free_consultation": true, "fees": fees,
                    "modalities": ["cbt", "imago"], "top_specialties": ["anxiety", "couples"],
                    "delivery": ["in_person", "video"], "session_formats": ["individual", "couples"],
                    "languages": ["en", "es"], "telehealth_states": ["NC"],
                    "offices": [{"city": "Raleigh", "state": "NC", "zip": "27601"}],
                    "license_verified": true, "last_confirmed_at": "2026-11-02T15:04:05Z",
                    "distance_km": 3.4, "stale": false, "availability_confirmed": true
                }],
                "next_cursor": null, "total": 1, "total_is_exact": true,
                "facets": {"modality": [{"slug": "cbt", "count": 1}, {"slug": "imago", "count": 1}]},
                "facets_are_exact": true
            }),
        ),
        (
            "/v1/therapists/{id_or_slug}",
            json!({
                "id": listing_id, "slug": "jane-doe", "display_name": "Jane Doe",
                "pronouns": "she/her", "credentials": "LPC",
                "statement": "I help couples and individuals find steadier ground.",
                "languages": ["en", "es"], "age_groups": ["adults"], "communities": ["lgbtq"],
                "session_formats": ["individual", "couples"], "delivery": ["in_person", "video"],
                "availability": {"accepting": "accepting", "free_consultation": true, "confirmed": true},
                "fees": {"min": {"amount_cents": 12000, "currency": "USD"}, "max": null,
                         "sliding_scale_min": null, "insurance_only": false,
                         "payment_methods": ["credit_card", "hsa"], "hsa_fsa": true},
                "insurers": [{"slug": "aetna", "name": "Aetna"}],
                "modalities": [{"slug": "imago", "name": "Imago Relationship Therapy"}],
                "specialties": [{"slug": "couples", "name": "Couples and Relationships",
                                 "category": "relationships", "top": true}],
                "telehealth_states": ["NC"], "offices": [], "licenses": [], "certifications": [],
                "offerings": [], "stale": false
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
fn refuse_control_characters_in_requests(doc: &mut Value) {
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

/// A reference to the shared problem response of `status`, keeping the operation's own
/// description (which says when this operation gives it) when it has one.
fn problem_ref(status: u16, description: Option<&str>) -> Value {
    let mut reference =
        json!({"$ref": format!("#/components/responses/{}", component_name(status))});
    if let Some(description) = description.filter(|d| !d.is_empty()) {
        reference["description"] = json!(description);
    }
    reference
}
