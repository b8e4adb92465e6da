//! The one place that lists every route. The OpenAPI document, the 405 fallback and the
//! authorization tests all read the routes from here (through the generated document).

use utoipa_actix_web::service_config::ServiceConfig;

use utoipa_actix_web::scope;

use crate::{auth, directory, ops, taxonomy};

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
            .service(auth::routes::change_password),
    );
}
