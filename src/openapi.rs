//! The OpenAPI 3.1 document, generated from the handlers' annotations and the route table.
//! `therapist-directory openapi > openapi/openapi.json` regenerates the committed copy.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{FieldError, Problem};
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Therapist Directory API",
        description = "An open directory of therapists: public search and profiles, \"join the directory\" \
            signup and listing management for therapists, and review tools for admins. Every error is \
            application/problem+json (RFC 9457) with a stable `code`; see the error-code table.",
        license(name = "MIT OR Apache-2.0"),
    ),
    components(schemas(Problem, FieldError)),
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
                    .build(),
            ),
        );
    }
}

/// The whole document: the static parts above plus every path registered in `routes`.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    doc
}

/// The document as the pretty JSON that is committed to `openapi/openapi.json`.
pub fn document_json() -> anyhow::Result<String> {
    let mut json = serde_json::to_string_pretty(&document())?;
    json.push('\n');
    Ok(json)
}
