//! The one place that lists every route. The OpenAPI document, the 405 fallback and the
//! authorization tests all read the routes from here (through the generated document).

use utoipa_actix_web::service_config::ServiceConfig;

use utoipa_actix_web::scope;

use crate::{directory, ops, taxonomy};

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
            .service(directory::routes::get_profile),
    );
}
