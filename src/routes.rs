//! The one place that lists every route. The OpenAPI document, the 405 fallback and the
//! authorization tests all read the routes from here (through the generated document).

use utoipa_actix_web::service_config::ServiceConfig;

use utoipa_actix_web::scope;

use crate::{auth, directory, listings, ops, taxonomy};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics)
        .service(ops::openapi_json)
        .service(ops::docs);
    cfg.service(
        scope("/v1")
            .service(taxonomy::routes::list_modalities)
            .service(taxonomy::routes::list_specialties)
            .service(taxonomy::routes::list_insurers)
            .service(directory::routes::get_profile)
            .service(auth::routes::signup)
            .service(auth::routes::verify_email)
            .service(auth::routes::resend_verification)
            .service(auth::routes::login)
            .service(auth::routes::refresh)
            .service(auth::routes::logout)
            .service(auth::routes::request_password_reset)
            .service(auth::routes::confirm_password_reset)
            .service(auth::routes::me)
            .service(auth::routes::change_password)
            .service(listings::routes::get_listing)
            .service(listings::routes::patch_listing)
            .service(listings::routes::create_office)
            .service(listings::routes::patch_office)
            .service(listings::routes::delete_office)
            .service(listings::routes::create_license)
            .service(listings::routes::patch_license)
            .service(listings::routes::delete_license)
            .service(listings::routes::create_certification)
            .service(listings::routes::patch_certification)
            .service(listings::routes::delete_certification)
            .service(listings::routes::create_offering)
            .service(listings::routes::patch_offering)
            .service(listings::routes::delete_offering)
            .service(listings::routes::submit)
            .service(listings::routes::confirm)
            .service(listings::routes::unpublish),
    );
}
