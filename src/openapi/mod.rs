//! The OpenAPI 3.1 document, generated from the handlers' annotations and the route table.
//! `therapist-directory openapi > openapi/openapi.json` regenerates the committed copy.
//!
//! Handlers annotate what is particular to them (their body, parameters, success answers
//! and the errors only they give). What every operation of a kind answers is added here,
//! from the operation's shape, so it cannot be forgotten on one of them: problem responses
//! are shared components (one per status, listing the codes that status carries), a
//! required `If-Match` brings its 412 and 428, every response says what it is and carries
//! `x-request-id`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::admin::reports::ReportState;
use crate::domain::vocab::ListingStatus;
use crate::error::{ErrorCode, FieldError, PROBLEM_JSON, Problem};
use crate::routes;

mod flatten;
mod requests;
mod required;
use crate::domain::LanguageCode;
use crate::domain::Slug;
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
    components(schemas(Problem, FieldError, ListingStatus, ReportState, Slug, LanguageCode, Sort)),
    modifiers(&BearerAuth),
    tags(
        (name = "directory", description = "The public directory: search, typeahead, profiles, the taxonomy, and writing to a therapist or reporting a listing"),
        (name = "auth", description = "Join the directory, sign in, tokens, emailed links"),
        (name = "me", description = "The signed-in account: its name, address, password, second factor, data and deletion; a therapist's listing, its parts and photo, and inquiries"),
        (name = "admin", description = "Review, verification, accounts, taxonomy, reports, photos and the audit log (admins only)"),
        (name = "operational", description = "Health, readiness, metrics, photo files and this document"),
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
            "description": "The request's id: yours when you sent a valid `x-request-id` (1 to 128 letters, digits and `-_.:`), otherwise a new one. Quote it when reporting a problem.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[A-Za-z0-9._:-]+$"}
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
    flatten::merge_flattened(&mut schemas);
    doc["components"]["schemas"] = Value::Object(schemas);
    doc["components"]["responses"] = Value::Object(responses);
    doc["components"]["headers"] = headers();

    name_pages(doc);
    required::require_present_nullables(doc);
    requests::refuse_control_characters_in_requests(doc);
    requests::partial_merge_patches(doc);
    requests::add_examples(doc);

    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if !matches!(method.as_str(), "get" | "post" | "put" | "patch" | "delete") {
                continue;
            }
            operation["tags"] = json!([tag_of(path)]);
            complete_operation(path, method, operation);
            one_line_summary(operation);
        }
    }
}

/// The group of an operation, from its path: `/v1/auth`, `/v1/me` and `/v1/admin` name
/// theirs; the rest of `/v1` is the public directory, and what is outside it operational.
fn tag_of(path: &str) -> &'static str {
    match path.strip_prefix("/v1/").map(|p| p.split('/').next()) {
        Some(Some("auth")) => "auth",
        Some(Some("me")) => "me",
        Some(Some("admin")) => "admin",
        Some(_) => "directory",
        None => "operational",
    }
}

/// A generic page (`Page_ReportView`, with its items written out inside it) becomes
/// `ReportViewPage` whose items refer to the named `ReportView`: a generated client then
/// has one type per item, as for every other answer.
fn name_pages(doc: &mut Value) {
    let Some(schemas) = doc["components"]["schemas"].as_object_mut() else {
        return;
    };
    let generic: Vec<String> = schemas
        .keys()
        .filter(|k| k.starts_with("Page_"))
        .cloned()
        .collect();
    let mut renamed = Vec::new();
    for old in generic {
        let Some(mut page) = schemas.remove(&old) else {
            continue;
        };
        let item = old.trim_start_matches("Page_").to_owned();
        let inline = page["properties"]["items"]["items"].take();
        if inline.get("$ref").is_none() {
            schemas.entry(item.clone()).or_insert(inline);
        }
        page["properties"]["items"]["items"] =
            json!({"$ref": format!("#/components/schemas/{item}")});
        let new = format!("{item}Page");
        schemas.insert(new.clone(), page);
        renamed.push((
            format!("#/components/schemas/{old}"),
            format!("#/components/schemas/{new}"),
        ));
    }
    fn rewrite(value: &mut Value, renamed: &[(String, String)]) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get_mut("$ref")
                    && let Some((_, new)) = renamed.iter().find(|(old, _)| old == r)
                {
                    *r = new.clone();
                }
                map.values_mut().for_each(|v| rewrite(v, renamed));
            }
            Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, renamed)),
            _ => {}
        }
    }
    rewrite(&mut doc["paths"], &renamed);
}

/// The summary a reference lists and a generated client puts over the call: the first
/// sentence of the doc comment, on one line; the rest of its first paragraph opens the
/// description.
fn one_line_summary(operation: &mut Value) {
    let Some(summary) = operation["summary"].as_str() else {
        return;
    };
    let text = summary.split_whitespace().collect::<Vec<_>>().join(" ");
    let (first, rest) = match text.find(". ") {
        Some(end) => (&text[..end], text[end + 2..].trim()),
        None => (text.as_str(), ""),
    };
    let first = first.trim_end_matches('.');
    // A long sentence is cut at its first clause; the description then says it whole.
    let (summary, rest) = match [": ", " ("].iter().filter_map(|c| first.find(c)).min() {
        Some(cut) if first.chars().count() > SUMMARY_MAX => (&first[..cut], text.as_str()),
        _ => (first, rest),
    };
    if !rest.is_empty() {
        let description = match operation["description"].as_str() {
            Some(more) if !more.is_empty() => format!("{rest}\n\n{more}"),
            _ => rest.to_owned(),
        };
        operation["description"] = json!(description);
    }
    operation["summary"] = json!(summary);
}

/// The longest summary a reference shows on one line.
const SUMMARY_MAX: usize = 100;

fn complete_operation(path: &str, method: &str, operation: &mut Value) {
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
    let if_match = params
        .iter()
        .find(|p| p["in"] == "header" && p["name"].as_str() == Some("If-Match"));
    let takes_if_match = if_match.is_some();
    // So does every write to the caller's listing or one of its parts (see below).
    let new_version = takes_if_match || (path.starts_with("/v1/me/listing") && method != "get");
    // A required `If-Match` is an admin's reviewed version (`ReviewedVersion`).
    let needs_reviewed_version = if_match.is_some_and(|p| p["required"] == true);

    let mut statuses: Vec<u16> = Vec::new();
    if !STATIC_OPERATIONS.contains(&id.as_str()) {
        statuses.extend([500, 503]);
    }
    // `Accept-Encoding` that refuses identity and every coding the service sends.
    statuses.push(406);
    if secured {
        statuses.extend([401, 403]);
    }
    if has_body {
        statuses.extend([400, 413, 415, 422]);
    }
    if matches!(method, "post" | "put" | "patch" | "delete") {
        // A write declaring a body over the limit is refused before routing.
        statuses.push(413);
    }
    if has_in("query") {
        statuses.push(400);
    }
    if has_in("path") {
        statuses.push(404);
    }
    if takes_if_match {
        // 400 for an `If-Match` that is not a list of entity tags (or `*` alone).
        statuses.extend([400, 412]);
    }

    if !secured {
        // Stated rather than implied, so a reader (and a linter) knows it is public.
        operation["security"] = json!([]);
    }

    let mut responses = operation["responses"]
        .as_object_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    if needs_reviewed_version {
        for (status, description) in [
            (412, "The listing changed since it was reviewed"),
            (428, "`If-Match` is missing"),
        ] {
            responses
                .entry(status.to_string())
                .or_insert_with(|| json!({ "description": description }));
        }
    }
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
        // A listing as its owner or an admin sees it always comes with its version's tag,
        // for the next conditional request.
        let carries_version = response["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .is_some_and(|r| r.ends_with("/MyListing") || r.ends_with("/AdminListing"));
        if let Some(headers) = response
            .as_object_mut()
            .map(|r| r.entry("headers").or_insert_with(|| json!({})))
        {
            let new_version = (new_version || carries_version) && status.starts_with('2');
            success_headers(headers, &status, cached, new_version, rate_limited);
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

/// The headers a success answer `status` carries.
fn success_headers(
    headers: &mut Value,
    status: &str,
    cached: bool,
    new_version: bool,
    rate_limited: bool,
) {
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
    if new_version {
        // The new version's tag, for the next conditional request.
        headers["ETag"] = header_ref("ETag");
    }
    if rate_limited {
        headers["RateLimit-Policy"] = header_ref("RateLimitPolicy");
        headers["RateLimit"] = header_ref("RateLimit");
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
