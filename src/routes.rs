//! The one place that lists every route. The OpenAPI document, the 405 fallback and the
//! authorization tests all read the routes from here (through the generated document).

use utoipa_actix_web::service_config::ServiceConfig;

use utoipa_actix_web::scope;

use crate::{admin, auth, directory, listings, ops, taxonomy};

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
            .service(directory::routes::search_listings)
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
            .service(listings::routes::unpublish)
            .service(admin::listings::list_listings)
            .service(admin::listings::get_listing)
            .service(admin::listings::approve)
            .service(admin::listings::reject)
            .service(admin::listings::suspend)
            .service(admin::listings::reinstate)
            .service(admin::listings::verify_license)
            .service(admin::listings::verify_certification)
            .service(admin::accounts::list_accounts)
            .service(admin::accounts::suspend_account)
            .service(admin::accounts::reinstate_account)
            .service(admin::taxonomy::list_modalities)
            .service(admin::taxonomy::create_modality)
            .service(admin::taxonomy::update_modality)
            .service(admin::taxonomy::delete_modality)
            .service(admin::taxonomy::list_specialties)
            .service(admin::taxonomy::create_specialty)
            .service(admin::taxonomy::update_specialty)
            .service(admin::taxonomy::delete_specialty)
            .service(admin::taxonomy::list_insurers)
            .service(admin::taxonomy::create_insurer)
            .service(admin::taxonomy::update_insurer)
            .service(admin::taxonomy::delete_insurer)
            .service(admin::audit_log::list_audit_log),
    );
}
