//! The OpenAPI document as the judge of every response the tests see. `ContractClient` is
//! the tests' HTTP client: it sends what a test builds, then checks the answer against the
//! operation it reached (the status is documented, the media type is documented for that
//! status, a JSON body validates against its schema) and fails the test that produced a
//! response drifting from the document.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use jsonschema::Validator;
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use reqwest::{IntoUrl, Method};
use serde::Serialize;
use serde_json::{Value, json};

pub struct Contract {
    doc: Value,
    /// `(method, path template split into segments, operation)`.
    operations: Vec<(String, Vec<String>, Value)>,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

pub static CONTRACT: LazyLock<Contract> =
    LazyLock::new(|| Contract::new(therapist_directory::openapi::document()));

impl Contract {
    fn new(doc: Value) -> Self {
        let mut operations = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let segments = path.split('/').map(str::to_owned).collect();
                operations.push((method.to_ascii_uppercase(), segments, operation.clone()));
            }
        }
        Contract {
            doc,
            operations,
            validators: Mutex::default(),
        }
    }

    /// The operation serving `method path`: the matching template with the most literal
    /// segments (`/password-reset/confirm` before a `{param}` sibling).
    fn operation(&self, method: &str, path: &str) -> Option<&Value> {
        let segments: Vec<&str> = path.split('/').collect();
        self.operations
            .iter()
            .filter(|(m, template, _)| {
                m == method
                    && template.len() == segments.len()
                    && template
                        .iter()
                        .zip(&segments)
                        .all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
            })
            .max_by_key(|(_, template, _)| template.iter().filter(|t| !t.starts_with('{')).count())
            .map(|(_, _, operation)| operation)
    }

    fn resolve<'a>(&'a self, mut value: &'a Value) -> &'a Value {
        while let Some(reference) = value["$ref"].as_str() {
            let pointer = reference.trim_start_matches('#');
            match self.doc.pointer(pointer) {
                Some(target) => value = target,
                None => break,
            }
        }
        value
    }

    fn validator(&self, key: &str, schema: &Value) -> Result<Arc<Validator>, String> {
        let mut cache = self.validators.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(validator) = cache.get(key) {
            return Ok(validator.clone());
        }
        // The schema becomes the root of a document that also holds the components, so its
        // `#/components/…` references resolve.
        let mut root = json!({"allOf": [schema]});
        root["components"] = self.doc["components"].clone();
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .map_err(|e| format!("the document's schema for {key} does not compile: {e}"))?;
        let validator = Arc::new(validator);
        cache.insert(key.to_owned(), validator.clone());
        Ok(validator)
    }

    /// Checks one exchange. Paths the document does not describe (the 404/405 fallback) are
    /// not any operation's business and pass.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        encoded: bool,
        body: &[u8],
    ) -> Result<(), String> {
        // HEAD is answered as the GET it mirrors, without a body.
        let (method, head) = match method {
            "HEAD" => ("GET", true),
            other => (other, false),
        };
        let Some(operation) = self.operation(method, path) else {
            return Ok(());
        };
        let id = operation["operationId"].as_str().unwrap_or("?");
        let Some(response) = operation["responses"].get(status.to_string()) else {
            return Err(format!(
                "{id}: status {status} is not documented (body: {})",
                String::from_utf8_lossy(body)
            ));
        };
        let response = self.resolve(response);
        if head || body.is_empty() {
            return Ok(());
        }
        let media_type = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let Some(content) = response["content"].get(&media_type) else {
            return Err(format!(
                "{id}: {status} with a `{media_type}` body, which the document does not list for it"
            ));
        };
        if !media_type.ends_with("json") || encoded {
            return Ok(());
        }
        let instance: Value = serde_json::from_slice(body)
            .map_err(|e| format!("{id}: {status} body is not JSON: {e}"))?;
        let schema = &content["schema"];
        let validator = self.validator(&format!("{id} {status} {media_type}"), schema)?;
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .take(5)
            .map(|e| format!("at `{}`: {e}", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{id}: the {status} body does not match the document:\n  {}\nbody: {}",
                errors.join("\n  "),
                instance
            ))
        }
    }
}

/// The tests' HTTP client: reqwest's, with every answer checked against the document.
#[derive(Clone)]
pub struct ContractClient {
    inner: reqwest::Client,
}

impl ContractClient {
    pub fn new() -> Self {
        therapist_directory::photos::media::install_tls_provider();
        ContractClient {
            inner: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    pub fn request(&self, method: Method, url: impl IntoUrl) -> ContractRequest {
        ContractRequest {
            inner: self.inner.request(method, url),
        }
    }

    pub fn get(&self, url: impl IntoUrl) -> ContractRequest {
        self.request(Method::GET, url)
    }

    pub fn head(&self, url: impl IntoUrl) -> ContractRequest {
        self.request(Method::HEAD, url)
    }

    pub fn post(&self, url: impl IntoUrl) -> ContractRequest {
        self.request(Method::POST, url)
    }

    pub fn patch(&self, url: impl IntoUrl) -> ContractRequest {
        self.request(Method::PATCH, url)
    }

    pub fn put(&self, url: impl IntoUrl) -> ContractRequest {
        self.request(Method::PUT, url)
    }

    pub fn delete(&self, url: impl IntoUrl) -> ContractRequest {
        self.request(Method::DELETE, url)
    }
}

pub struct ContractRequest {
    inner: reqwest::RequestBuilder,
}

impl ContractRequest {
    pub fn header<K, V>(self, key: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        ContractRequest {
            inner: self.inner.header(key, value),
        }
    }

    pub fn bearer_auth(self, token: impl std::fmt::Display) -> Self {
        ContractRequest {
            inner: self.inner.bearer_auth(token),
        }
    }

    pub fn json<T: Serialize + ?Sized>(self, body: &T) -> Self {
        ContractRequest {
            inner: self.inner.json(body),
        }
    }

    pub fn body(self, body: impl Into<reqwest::Body>) -> Self {
        ContractRequest {
            inner: self.inner.body(body),
        }
    }

    /// Sends the request; panics (failing the test) when the answer breaks the contract.
    pub async fn send(self) -> reqwest::Result<reqwest::Response> {
        let (client, request) = self.inner.build_split();
        let request = request?;
        let method = request.method().as_str().to_owned();
        let path = request.url().path().to_owned();
        let response = client.execute(request).await?;
        let status = response.status();
        let version = response.version();
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        // A compressed body is checked for its status and media type only.
        let encoded = headers.contains_key(reqwest::header::CONTENT_ENCODING);
        if let Err(broken) = CONTRACT.check(
            &method,
            &path,
            status.as_u16(),
            content_type,
            encoded,
            &body,
        ) {
            panic!("{method} {path} broke the OpenAPI contract: {broken}");
        }
        let mut rebuilt = http::Response::builder().status(status).version(version);
        if let Some(map) = rebuilt.headers_mut() {
            *map = headers;
        }
        Ok(reqwest::Response::from(
            rebuilt
                .body(body)
                .expect("a response rebuilt from a valid one"),
        ))
    }
}

/// One operation of the document that takes a request body, with its path parameters
/// filled with stand-ins (an unknown id, slug or listing), for tests that walk every write
/// route.
pub struct WriteRoute {
    pub method: Method,
    pub template: String,
    pub path: String,
    pub media_type: String,
    /// The body's schema, references resolved.
    pub schema: Value,
    /// Whose token it takes: an admin's under `/v1/admin`, else a therapist's when secured.
    pub needs: Option<Identity>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    Therapist,
    Admin,
}

impl Contract {
    /// Follows `$ref`s inside the document.
    pub fn resolved<'a>(&'a self, schema: &'a Value) -> &'a Value {
        self.resolve(schema)
    }

    pub fn write_routes(&self) -> Vec<WriteRoute> {
        let mut routes = Vec::new();
        for (method, segments, operation) in &self.operations {
            let Some((media_type, body)) = operation["requestBody"]["content"]
                .as_object()
                .and_then(|c| c.iter().next())
            else {
                continue;
            };
            let template = segments.join("/");
            let path = template
                .replace("{id_or_slug}", "nobody")
                .replace("{id}", "0190b3f0-0000-7000-8000-000000000000")
                .replace("{slug}", "cbt");
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            let needs = if template.starts_with("/v1/admin") {
                Some(Identity::Admin)
            } else {
                secured.then_some(Identity::Therapist)
            };
            routes.push(WriteRoute {
                method: Method::from_bytes(method.as_bytes()).expect("a method"),
                path,
                media_type: media_type.clone(),
                schema: self.resolve(&body["schema"]).clone(),
                needs,
                template,
            });
        }
        routes
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use therapist_directory::domain::vocab::{self, Vocabulary};

    use super::*;

    /// The strings a schema of `components.schemas` lists in its `enum`.
    fn listed(name: &str) -> BTreeSet<String> {
        CONTRACT.doc["components"]["schemas"][name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} has no enum in the document"))
            .iter()
            .map(|v| v.as_str().expect("string enum").to_owned())
            .collect()
    }

    /// Every value a vocabulary writes is listed, and every listed value reads back.
    fn vocabulary_matches<V: Vocabulary + Serialize + serde::de::DeserializeOwned>(name: &str) {
        let written: BTreeSet<String> = V::ALL
            .iter()
            .map(|v| {
                serde_json::to_value(v)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            written,
            listed(name),
            "{name}: serde and the document disagree"
        );
        for text in listed(name) {
            assert!(
                serde_json::from_value::<V>(json!(text)).is_ok(),
                "{name}: {text} does not read"
            );
        }
    }

    /// Every listed value of a request-side enum reads; the enum's own variants are what
    /// utoipa listed, so a wrong name shows up as a value that does not read.
    fn reads<T: serde::de::DeserializeOwned>(name: &str) -> usize {
        let values = listed(name);
        for text in &values {
            assert!(
                serde_json::from_value::<T>(json!(text)).is_ok(),
                "{name}: {text} does not read"
            );
        }
        values.len()
    }

    #[test]
    fn every_enum_in_the_document_lists_exactly_the_wire_strings() {
        vocabulary_matches::<vocab::Gender>("Gender");
        vocabulary_matches::<vocab::AgeGroup>("AgeGroup");
        vocabulary_matches::<vocab::Community>("Community");
        vocabulary_matches::<vocab::Faith>("Faith");
        vocabulary_matches::<vocab::SessionFormat>("SessionFormat");
        vocabulary_matches::<vocab::Delivery>("Delivery");
        vocabulary_matches::<vocab::Accepting>("Accepting");
        vocabulary_matches::<vocab::PaymentMethod>("PaymentMethod");
        vocabulary_matches::<vocab::OfferingKind>("OfferingKind");
        vocabulary_matches::<vocab::OfferingFormat>("OfferingFormat");
        vocabulary_matches::<vocab::VerificationStatus>("VerificationStatus");
        vocabulary_matches::<vocab::ListingStatus>("ListingStatus");
        vocabulary_matches::<vocab::SpecialtyCategory>("SpecialtyCategory");

        use therapist_directory::{admin, domain, inquiries, reports};
        assert_eq!(reads::<admin::credentials::VerifyStatus>("VerifyStatus"), 2);
        assert_eq!(reads::<admin::reports::Resolution>("Resolution"), 2);
        assert_eq!(reads::<admin::reports::ReportState>("ReportState"), 3);
        assert_eq!(reads::<reports::ReportReason>("ReportReason"), 5);
        assert_eq!(
            reads::<inquiries::routes::InquiryStatus>("InquiryStatus"),
            4
        );
        assert_eq!(reads::<inquiries::PreferredContact>("PreferredContact"), 2);
        assert_eq!(reads::<domain::money::Currency>("Currency"), 1);
        assert_eq!(
            reads::<therapist_directory::search::params::Sort>("Sort"),
            4
        );

        assert_eq!(
            reads::<therapist_directory::ops::ReplicaState>("ReplicaState"),
            2
        );
        assert_eq!(
            reads::<therapist_directory::domain::place::PlaceKind>("PlaceKind"),
            4
        );
        assert_eq!(
            reads::<therapist_directory::search::model::SuggestionKind>("SuggestionKind"),
            7
        );
        assert_eq!(reads::<therapist_directory::auth::Role>("Role"), 2);
        assert_eq!(
            reads::<therapist_directory::auth::AccountStatus>("AccountStatus"),
            2
        );

        let field_codes: BTreeSet<String> = therapist_directory::error::FieldCode::ALL
            .iter()
            .map(|c| {
                serde_json::to_value(c)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(field_codes, listed("FieldCode"), "FieldCode");

        // A new enum in the document must be added above.
        assert_eq!(
            reads::<therapist_directory::photos::model::PhotoStatus>("PhotoStatus"),
            3
        );
        let checked = 28;
        let enums = CONTRACT.doc["components"]["schemas"]
            .as_object()
            .unwrap()
            .values()
            .filter(|s| s.get("enum").is_some())
            .count();
        assert_eq!(enums, checked, "an enum schema is not checked here");
    }

    #[test]
    fn every_example_in_the_document_is_valid() {
        let mut checked = 0;
        for (_, _, operation) in &CONTRACT.operations {
            let bodies = operation["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flatten();
            let answers = operation["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .flat_map(|(_, r)| {
                    CONTRACT.resolve(r)["content"]
                        .as_object()
                        .into_iter()
                        .flatten()
                });
            for (media_type, content) in bodies.chain(answers) {
                let Some(example) = content.get("example") else {
                    continue;
                };
                let key = format!(
                    "example {} {media_type} {checked}",
                    operation["operationId"]
                );
                let validator = CONTRACT.validator(&key, &content["schema"]).unwrap();
                let errors: Vec<String> = validator
                    .iter_errors(example)
                    .map(|e| format!("{} at {}", e, e.instance_path()))
                    .collect();
                assert!(errors.is_empty(), "{key}: {errors:?}");
                checked += 1;
            }
        }
        assert!(checked >= 5, "only {checked} examples");
    }

    #[test]
    fn the_check_refuses_what_the_document_does_not_say() {
        let json = Some("application/json");
        let check = |method, path, status, content_type, body: &[u8]| {
            CONTRACT.check(method, path, status, content_type, false, body)
        };
        assert!(check("GET", "/v1/therapists", 200, json, br#"{"items": 5}"#).is_err());
        assert!(check("GET", "/v1/therapists", 418, json, b"{}").is_err());
        assert!(check("GET", "/healthz", 200, Some("text/html"), b"<p>").is_err());
        assert!(check("GET", "/healthz", 200, json, br#"{"status": "ok"}"#).is_ok());
        assert!(check("HEAD", "/healthz", 200, json, b"").is_ok());
        let bad_code = br#"{"type": "/docs#x", "title": "t", "status": 404, "detail": "d",
            "code": "rate_limited", "request_id": "r"}"#;
        let problem = Some("application/problem+json");
        assert!(check("GET", "/v1/therapists/x", 404, problem, bad_code).is_err());
        // A documented template with literal segments wins over a parameter.
        assert!(
            CONTRACT
                .operation("POST", "/v1/auth/password-reset/confirm")
                .is_some()
        );
    }
}
